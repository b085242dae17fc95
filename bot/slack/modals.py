"""Modal views (views.open payloads) of bot/messages/forms.py's forms: create, assign, dispatch
onsite, resolve, still broken."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import forms, limits
from bot.messages.blocks import (
    context,
    option,
    plain,
    plain_line,
    priority_text,
    section,
    state_label,
    ticket_ref,
    who,
)
from bot.messages.escape import one_line
from bot.messages.forms import ChoiceField, Field, Form, TextField
from bot.messages.limits import Block
from bot.messages.view import PersonRef, TicketView

View = dict[str, object]

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def _modal(
    callback_id: str,
    title: str,
    private_metadata: str,
    blocks: Sequence[Block],
    *,
    submit: str | None = "Submit",
    close: str = "Cancel",
) -> View:
    """Raises ValueError if private_metadata is over Slack's limit (truncating would corrupt it)."""
    if len(private_metadata) > limits.PRIVATE_METADATA:
        raise ValueError(f"private_metadata is {len(private_metadata)} chars, max 3000")
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "title": plain_line(title, limits.VIEW_TITLE),
        "close": plain_line(close, limits.VIEW_BUTTON),
        "blocks": limits.fit_blocks(blocks, limits.MAX_BLOCKS_VIEW),
    }
    if submit:
        view["submit"] = plain_line(submit, limits.VIEW_BUTTON)
    return view


def _block(field: Field) -> Block:
    """One form field as an input block."""
    element = _text_input(field) if isinstance(field, TextField) else _select(field)
    block: Block = {
        "type": "input",
        "block_id": field.key[0],
        "label": plain_line(field.label, limits.INPUT_LABEL),
        "element": {**element, "action_id": field.key[1]},
        "optional": not field.required,
    }
    if field.hint:
        block["hint"] = plain(field.hint, limits.INPUT_HINT)
    return block


def _text_input(field: TextField) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": field.multiline}
    if field.max_length:
        element["max_length"] = field.max_length
    if field.placeholder:
        element["placeholder"] = plain_line(field.placeholder, limits.PLACEHOLDER_TEXT)
    if field.initial:
        element["initial_value"] = field.initial
    return element


def _select(field: ChoiceField) -> Block:
    """Radio buttons for an expanded choice, else a static_select."""
    options = [
        option(c.label, c.value, _short_help(c.help) if c.help else None) for c in field.choices
    ]
    element: Block = {"type": "radio_buttons" if field.expanded else "static_select"}
    if field.placeholder:
        element["placeholder"] = plain_line(field.placeholder, limits.PLACEHOLDER_TEXT)
    element["options"] = options
    for choice, opt in zip(field.choices, options, strict=True):
        if choice.value == field.initial:
            element["initial_option"] = opt
    return element


def _short_help(text: str) -> str:
    """A priority explanation within the 75-char option description limit."""
    if len(text) > limits.OPTION_DESCRIPTION and " (" in text:
        text = text.split(" (", 1)[0].rstrip(".") + "."
    return one_line(text, limits.OPTION_DESCRIPTION)


def _ticket_context(view: TicketView) -> Block:
    assignee = who(view.assignee, default="unassigned")
    line = f"{priority_text(view.priority)} · {state_label(view.state)} · {assignee}"
    return context([f"{ticket_ref(view)}\n{line}"])


def _form_modal(form: Form, private_metadata: str, view: TicketView | None = None) -> View:
    """`form` as a modal; a ticket's form (`view`) opens with the ticket it is about."""
    blocks = [_ticket_context(view)] if view is not None else []
    blocks += [_block(field) for field in form.fields]
    title = f"{form.title} #{view.id}" if view is not None else form.title
    return _modal(form.verb, title, private_metadata, blocks, submit=form.submit)


def create_ticket_modal(private_metadata: str, *, initial_title: str = "") -> View:
    """The `/ticket` form; `initial_title` pre-fills the title (raw text)."""
    return _form_modal(forms.new_ticket(initial_title), private_metadata)


def _technicians(
    technicians: Sequence[tuple[PersonRef, int]], current: PersonRef | None
) -> forms.Technicians | None:
    """Those with a Slack user id (an option's value), at most a select's options."""
    return forms.technicians(technicians, current, _slack_id, limits.MAX_OPTIONS)


def _slack_id(person: PersonRef) -> str | None:
    sid = person.slack_id or ""
    return sid if _SLACK_USER_ID.fullmatch(sid) else None


def _option_text(person: PersonRef, suffix: str) -> str:
    """ "Alice — 3 open" within an option's 75 characters."""
    return one_line(person.name or person.email or str(person.slack_id), 75 - len(suffix)) + suffix


def _no_technicians(form: Form, view: TicketView, private_metadata: str) -> View:
    setting = forms.NO_TECHNICIANS.format(setting="`TICKETBOT_TECHNICIANS`")
    blocks = [_ticket_context(view), section(setting)]
    title = f"{form.title} #{view.id}"
    return _modal(form.verb, title, private_metadata, blocks, submit=None, close="Close")


def _ticket_form(form: Form, view: TicketView, private_metadata: str) -> View:
    if not form.fields:
        return _no_technicians(form, view, private_metadata)
    return _form_modal(form, private_metadata, view)


def assign_modal(
    view: TicketView, technicians: Sequence[tuple[PersonRef, int]], private_metadata: str
) -> View:
    """`technicians`: (person, open-ticket count); option value = Slack user id."""
    offered = _technicians(technicians, view.assignee)
    return _ticket_form(forms.assign(offered, _option_text), view, private_metadata)


def dispatch_modal(
    view: TicketView, technicians: Sequence[tuple[PersonRef, int]], private_metadata: str
) -> View:
    offered = _technicians(technicians, view.onsite.who if view.onsite else view.assignee)
    return _ticket_form(forms.dispatch(offered, _option_text), view, private_metadata)


def resolve_modal(view: TicketView, private_metadata: str) -> View:
    return _form_modal(forms.RESOLVE, private_metadata, view)


def still_broken_modal(view: TicketView, private_metadata: str) -> View:
    return _form_modal(forms.STILL_BROKEN, private_metadata, view)
