"""Teams dialogs (task modules) of bot/messages/forms.py's forms: new ticket, assign, dispatch
onsite, resolve, still broken.

Each function returns the dialog's Adaptive Card; `dialog_response` wraps one for a task/fetch
answer. A submit arrives as `task/submit` with data `{"verb": <VIEW_* id>, "ticket": id, <input
id>: value, …}`; input ids are the first element of the IN_* pairs in bot/messages/ids.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import forms
from bot.messages.escape import ELLIPSIS, one_line
from bot.messages.forms import ChoiceField, Field, Form, TextField
from bot.messages.view import PersonRef, TicketView
from bot.teams.cards import (
    CONTENT_TYPE,
    TEAMS_MD,
    Element,
    adaptive_card,
    name,
    text_block,
    ticket_title,
)
from bot.teams.limits import CHOICE_TITLES_BYTES, MAX_CHOICES, NAME, Card, cut_to, encoded_size

NO_TECHNICIANS = forms.NO_TECHNICIANS.format(setting="TICKETBOT_TECHNICIANS")


def dialog_response(title: str, card: Card) -> dict[str, object]:
    """The invoke response that opens (or replaces) a dialog showing `card`."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": one_line(title, 60),
                "card": {"contentType": CONTENT_TYPE, "content": card},
            },
        }
    }


def _elements(field: Field) -> list[Element]:
    """A form field as its input, and its hint under it: small for a text's, small and subtle for
    a choice's. A choice whose options each explain themselves needs no hint."""
    if isinstance(field, TextField):
        hint = [text_block(field.hint, size="Small")] if field.hint else []
        return [_text_input(field), *hint]
    explained = any(choice.help for choice in field.choices)
    hint = [text_block(field.hint, size="Small", isSubtle=True)] if field.hint else []
    return [_choice_set(field), *([] if explained else hint)]


def _text_input(field: TextField) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": field.key[0],
        "label": field.label,
        "isMultiline": field.multiline,
        "maxLength": field.max_length,
        "isRequired": field.required,
    }
    if field.required:
        element["errorMessage"] = f"{field.label} is required."
    if field.placeholder:
        element["placeholder"] = field.placeholder
    if field.initial:
        element["value"] = field.initial
    return element


def _choice_set(field: ChoiceField) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": field.key[0],
        "label": field.label,
        "style": "expanded" if field.expanded else "compact",
    }
    if field.required:
        element["isRequired"] = True
        element["errorMessage"] = field.missing
    if field.placeholder:
        element["placeholder"] = field.placeholder
    if field.initial:
        element["value"] = field.initial
    element["choices"] = [
        {"title": f"{c.label} — {c.help}" if c.help else c.label, "value": c.value}
        for c in field.choices
    ]
    return element


def _submit(title: str, verb: str, ticket: int | None = None) -> Element:
    data: dict[str, object] = {"verb": verb}
    if ticket is not None:
        data["ticket"] = ticket
    return {"type": "Action.Submit", "title": title, "data": data}


def _ticket_context(view: TicketView) -> Element:
    assignee = name(view.assignee, default="unassigned")
    return text_block(
        f"**{ticket_title(view, 200)}**\n{TEAMS_MD.priority(view.priority)} · "
        f"{TEAMS_MD.state(view.state)} · {assignee}",
        isSubtle=True,
    )


def _form_card(form: Form, view: TicketView | None = None) -> Card:
    """`form` as a dialog's card; a ticket's form (`view`) opens with the ticket it is about.
    A ticket's form without fields had no technicians to offer: it says so, with no button."""
    body = [_ticket_context(view)] if view is not None else []
    if view is not None and not form.fields:
        return adaptive_card([*body, text_block(NO_TECHNICIANS)])
    for field in form.fields:
        body += _elements(field)
    ticket = view.id if view is not None else None
    return adaptive_card(body, actions=[_submit(form.submit, form.verb, ticket)])


def new_ticket_dialog(initial_title: str = "") -> Card:
    """The *New ticket* form; `initial_title` (raw text) pre-fills the title."""
    return _form_card(forms.new_ticket(initial_title))


def _technicians(
    technicians: Sequence[tuple[PersonRef, int]], current: PersonRef | None
) -> forms.Technicians | None:
    """Everyone with a key (a choice's value is PersonRef.key), at most MAX_CHOICES."""
    return forms.technicians(technicians, current, lambda p: p.key or None, MAX_CHOICES)


def _choice_titles(count: int) -> forms.NameFit:
    """Names cut so that `count` choice titles stay within CHOICE_TITLES_BYTES."""
    share = CHOICE_TITLES_BYTES // max(count, 1)

    def title(person: PersonRef, suffix: str) -> str:
        label = one_line(person.name or person.email or person.key, NAME)
        return cut_to(label, share - encoded_size(suffix), ELLIPSIS) + suffix

    return title


def assign_dialog(view: TicketView, technicians: Sequence[tuple[PersonRef, int]]) -> Card:
    """`technicians`: (person, open-ticket count); the current assignee is preselected."""
    offered = _technicians(technicians, view.assignee)
    titles = _choice_titles(len(offered.offered) if offered else 0)
    return _form_card(forms.assign(offered, titles), view)


def dispatch_dialog(view: TicketView, technicians: Sequence[tuple[PersonRef, int]]) -> Card:
    """Who goes onsite (preselected: the one already sent, else the assignee), ETA and a note."""
    offered = _technicians(technicians, view.onsite.who if view.onsite else view.assignee)
    titles = _choice_titles(len(offered.offered) if offered else 0)
    return _form_card(forms.dispatch(offered, titles), view)


def resolve_dialog(view: TicketView) -> Card:
    return _form_card(forms.RESOLVE, view)


def still_broken_dialog(view: TicketView) -> Card:
    return _form_card(forms.STILL_BROKEN, view)
