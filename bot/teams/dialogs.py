"""Teams dialogs (task modules): new ticket, assign, dispatch onsite, resolve, still broken.

Each function returns the dialog's Adaptive Card; `dialog_response` wraps one for a task/fetch
answer. A submit arrives as `task/submit` with data `{"verb": <VIEW_* id>, "ticket": id, <input
id>: value, …}`; input ids are the first element of the IN_* pairs in bot/messages/ids.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import ids
from bot.messages.escape import ELLIPSIS, one_line
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, PersonRef, TicketView
from bot.teams.cards import (
    CONTENT_TYPE,
    TEAMS_MD,
    Element,
    adaptive_card,
    name,
    priority_choice,
    text_block,
    ticket_title,
)
from bot.teams.limits import (
    CHOICE_TITLES_BYTES,
    INPUT_TEXT,
    MAX_CHOICES,
    NAME,
    Card,
    cut_to,
    encoded_size,
)

RESOLVE_PLACEHOLDER = "e.g. ISP confirmed service restored; tested from two PCs"
NO_TECHNICIANS = "No technicians are known yet. Set TICKETBOT_TECHNICIANS or invite them."


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


def _text_input(
    pair: tuple[str, str],
    label: str,
    *,
    required: bool,
    multiline: bool = False,
    max_length: int = INPUT_TEXT,
    placeholder: str = "",
    value: str = "",
) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": pair[0],
        "label": label,
        "isMultiline": multiline,
        "maxLength": max_length,
        "isRequired": required,
    }
    if required:
        element["errorMessage"] = f"{label} is required."
    if placeholder:
        element["placeholder"] = placeholder
    if value:
        element["value"] = value
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


def new_ticket_dialog(initial_title: str = "") -> Card:
    """The *New ticket* form; `initial_title` (raw text) pre-fills the title."""
    body: list[Element] = [
        _text_input(
            ids.IN_TITLE,
            "Title",
            required=True,
            max_length=150,
            placeholder="e.g. Internet down at the main office",
            value=one_line(initial_title, 150),
        ),
        _text_input(
            ids.IN_DESCRIPTION,
            "Description",
            required=False,
            multiline=True,
            placeholder="What happened, since when, what you already tried",
        ),
        {
            "type": "Input.ChoiceSet",
            "id": ids.IN_PRIORITY[0],
            "label": "Priority",
            "style": "expanded",
            "isRequired": True,
            "errorMessage": "Choose a priority.",
            "value": "medium",
            "choices": [{"title": priority_choice(p), "value": p} for p in PRIORITIES],
        },
        {
            "type": "Input.ChoiceSet",
            "id": ids.IN_AFFECTED[0],
            "label": "How many people are affected?",
            "style": "compact",
            "placeholder": "Choose…",
            "choices": [{"title": label, "value": key} for key, label in AFFECTED_CHOICES.items()],
        },
    ]
    return adaptive_card(body, actions=[_submit("Create", ids.VIEW_CREATE)])


def _technician_choices(
    technicians: Sequence[tuple[PersonRef, int]], current: PersonRef | None
) -> tuple[Element | None, str | None]:
    """A ChoiceSet of technicians ("Alice — 3 open", value = PersonRef.key), and a note when some
    are left out: over MAX_CHOICES, the least busy ones are kept, and always the current one."""
    seen: set[str] = set()
    pool: list[tuple[PersonRef, int]] = []
    for person, count in technicians:
        if person.key and person.key not in seen:
            seen.add(person.key)
            pool.append((person, count))
    if not pool:
        return None, None
    current_key = current.key if current else None
    note = None
    if len(pool) > MAX_CHOICES:
        ranked = sorted(range(len(pool)), key=lambda i: (pool[i][0].key != current_key, pool[i][1]))
        keep = set(ranked[:MAX_CHOICES])
        note = f"Showing the {MAX_CHOICES} least busy of {len(pool)} technicians."
        pool = [item for i, item in enumerate(pool) if i in keep]
    share = CHOICE_TITLES_BYTES // len(pool)
    choices = []
    for person, count in pool:
        suffix = f" — {count} open"
        label = one_line(person.name or person.email or person.key, NAME)
        label = cut_to(label, share - encoded_size(suffix), ELLIPSIS)
        choices.append({"title": label + suffix, "value": person.key})
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": "",
        "style": "compact",
        "isRequired": True,
        "errorMessage": "Choose a technician.",
        "placeholder": "Choose a technician",
        "choices": choices,
    }
    if current_key and current_key in {p.key for p, _ in pool}:
        element["value"] = current_key
    return element, note


def _no_technicians(view: TicketView) -> Card:
    return adaptive_card([_ticket_context(view), text_block(NO_TECHNICIANS)])


def assign_dialog(view: TicketView, technicians: Sequence[tuple[PersonRef, int]]) -> Card:
    """`technicians`: (person, open-ticket count); the current assignee is preselected."""
    select, note = _technician_choices(technicians, view.assignee)
    if select is None:
        return _no_technicians(view)
    select.update(id=ids.IN_ASSIGNEE[0], label="Technician")
    body = [_ticket_context(view), select]
    if note:
        body.append(text_block(note, size="Small", isSubtle=True))
    return adaptive_card(body, actions=[_submit("Assign", ids.VIEW_ASSIGN, view.id)])


def dispatch_dialog(view: TicketView, technicians: Sequence[tuple[PersonRef, int]]) -> Card:
    """Who goes onsite (preselected: the one already sent, else the assignee), ETA and a note."""
    current = view.onsite.who if view.onsite else view.assignee
    select, note = _technician_choices(technicians, current)
    if select is None:
        return _no_technicians(view)
    select.update(id=ids.IN_ONSITE_WHO[0], label="Who goes onsite")
    body = [_ticket_context(view), select]
    if note:
        body.append(text_block(note, size="Small", isSubtle=True))
    body += [
        _text_input(
            ids.IN_ONSITE_ETA,
            "ETA",
            required=True,
            max_length=100,
            placeholder="e.g. 30 min, or 14:00",
        ),
        _text_input(
            ids.IN_ONSITE_NOTE,
            "Note for the client",
            required=False,
            multiline=True,
            max_length=1000,
            placeholder="e.g. Please have the server room open",
        ),
    ]
    return adaptive_card(body, actions=[_submit("Dispatch", ids.VIEW_DISPATCH, view.id)])


def resolve_dialog(view: TicketView) -> Card:
    body = [
        _ticket_context(view),
        _text_input(
            ids.IN_VERIFICATION,
            "How did you verify the fix?",
            required=True,
            multiline=True,
            max_length=2000,
            placeholder=RESOLVE_PLACEHOLDER,
        ),
        text_block("The submitter sees this and is asked to confirm the fix.", size="Small"),
    ]
    return adaptive_card(body, actions=[_submit("Resolve", ids.VIEW_RESOLVE, view.id)])


def still_broken_dialog(view: TicketView) -> Card:
    body = [
        _ticket_context(view),
        _text_input(
            ids.IN_REASON,
            "What is still not working?",
            required=True,
            multiline=True,
            max_length=2000,
            placeholder="e.g. Still no internet on floor 2",
        ),
    ]
    return adaptive_card(body, actions=[_submit("Reopen", ids.VIEW_STILL_BROKEN, view.id)])
