"""Modal views (views.open payloads): create, assign, dispatch onsite, resolve, still broken."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import ids, limits
from bot.messages.blocks import (
    context,
    option,
    plain,
    plain_line,
    priority_label,
    priority_text,
    section,
    state_label,
    ticket_ref,
    who,
)
from bot.messages.escape import one_line
from bot.messages.limits import Block
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, PRIORITY_HELP, PersonRef, TicketView

View = dict[str, object]

RESOLVE_PLACEHOLDER = "e.g. ISP confirmed service restored; tested from two PCs"
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


def _input(
    pair: tuple[str, str],
    label: str,
    element: Block,
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": pair[0],
        "label": plain_line(label, limits.INPUT_LABEL),
        "element": {**element, "action_id": pair[1]},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, limits.INPUT_HINT)
    return block


def _text_input(
    *,
    multiline: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
    initial: str = "",
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline}
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = plain_line(placeholder, limits.PLACEHOLDER_TEXT)
    if initial:
        element["initial_value"] = initial
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


def create_ticket_modal(private_metadata: str, *, initial_title: str = "") -> View:
    """The `/ticket` form; `initial_title` pre-fills the title (raw text)."""
    priority_options = [
        option(priority_label(p), p, _short_help(PRIORITY_HELP[p])) for p in PRIORITIES
    ]
    initial_priority = priority_options[PRIORITIES.index("medium")]
    affected_options = [option(label, key) for key, label in AFFECTED_CHOICES.items()]
    blocks = [
        _input(
            ids.IN_TITLE,
            "Title",
            _text_input(
                max_length=150,
                placeholder="e.g. Internet down at the main office",
                initial=one_line(initial_title, 150),
            ),
        ),
        _input(
            ids.IN_DESCRIPTION,
            "Description",
            _text_input(
                multiline=True,
                max_length=limits.TEXT_OBJECT,
                placeholder="What happened, since when, what you already tried",
            ),
            optional=True,
        ),
        _input(
            ids.IN_PRIORITY,
            "Priority",
            {
                "type": "radio_buttons",
                "options": priority_options,
                "initial_option": initial_priority,
            },
            hint="Critical: " + PRIORITY_HELP["critical"],
        ),
        _input(
            ids.IN_AFFECTED,
            "How many people are affected?",
            {
                "type": "static_select",
                "placeholder": plain_line("Choose…", limits.PLACEHOLDER_TEXT),
                "options": affected_options,
            },
            optional=True,
        ),
    ]
    return _modal(ids.VIEW_CREATE, "New ticket", private_metadata, blocks, submit="Create")


def _technician_select(
    technicians: Sequence[tuple[PersonRef, int]], current: PersonRef | None
) -> tuple[Block | None, str | None]:
    """A static_select of technicians ("Alice — 3 open"), and a note when some are left out.

    Over 100 technicians, the least busy ones are kept (and always the current one).
    """
    seen: set[str] = set()
    pool: list[tuple[PersonRef, int]] = []
    for person, count in technicians:
        sid = person.slack_id or ""
        if _SLACK_USER_ID.fullmatch(sid) and sid not in seen:
            seen.add(sid)
            pool.append((person, count))
    if not pool:
        return None, None
    current_id = current.slack_id if current else None
    note = None
    if len(pool) > limits.MAX_OPTIONS:
        ranked = sorted(
            range(len(pool)), key=lambda i: (pool[i][0].slack_id != current_id, pool[i][1])
        )
        keep = set(ranked[: limits.MAX_OPTIONS])
        note = f"Showing the {limits.MAX_OPTIONS} least busy of {len(pool)} technicians."
        pool = [item for i, item in enumerate(pool) if i in keep]

    options: list[Block] = []
    initial: Block | None = None
    for person, count in pool:
        suffix = f" — {count} open"
        name = one_line(person.name or person.email or str(person.slack_id), 75 - len(suffix))
        opt = option(name + suffix, str(person.slack_id))
        options.append(opt)
        if person.slack_id == current_id:
            initial = opt
    select: Block = {
        "type": "static_select",
        "placeholder": plain_line("Choose a technician", limits.PLACEHOLDER_TEXT),
        "options": options,
    }
    if initial is not None:
        select["initial_option"] = initial
    return select, note


def _no_technicians() -> Block:
    return section("No technicians are known yet. Set `TICKETBOT_TECHNICIANS` or invite them.")


def assign_modal(
    view: TicketView, technicians: Sequence[tuple[PersonRef, int]], private_metadata: str
) -> View:
    """`technicians`: (person, open-ticket count); option value = Slack user id."""
    select, note = _technician_select(technicians, view.assignee)
    blocks = [_ticket_context(view)]
    if select is None:
        blocks.append(_no_technicians())
        return _modal(
            ids.VIEW_ASSIGN,
            f"Assign #{view.id}",
            private_metadata,
            blocks,
            submit=None,
            close="Close",
        )
    blocks.append(_input(ids.IN_ASSIGNEE, "Technician", select, hint=note))
    return _modal(ids.VIEW_ASSIGN, f"Assign #{view.id}", private_metadata, blocks, submit="Assign")


def dispatch_modal(
    view: TicketView, technicians: Sequence[tuple[PersonRef, int]], private_metadata: str
) -> View:
    current = view.onsite.who if view.onsite else view.assignee
    select, note = _technician_select(technicians, current)
    blocks = [_ticket_context(view)]
    if select is None:
        blocks.append(_no_technicians())
        return _modal(
            ids.VIEW_DISPATCH,
            f"Dispatch #{view.id}",
            private_metadata,
            blocks,
            submit=None,
            close="Close",
        )
    blocks += [
        _input(ids.IN_ONSITE_WHO, "Who goes onsite", select, hint=note),
        _input(
            ids.IN_ONSITE_ETA,
            "ETA",
            _text_input(max_length=100, placeholder="e.g. 30 min, or 14:00"),
        ),
        _input(
            ids.IN_ONSITE_NOTE,
            "Note for the client",
            _text_input(
                multiline=True, max_length=1000, placeholder="e.g. Please have the server room open"
            ),
            optional=True,
        ),
    ]
    return _modal(
        ids.VIEW_DISPATCH, f"Dispatch #{view.id}", private_metadata, blocks, submit="Dispatch"
    )


def resolve_modal(view: TicketView, private_metadata: str) -> View:
    blocks = [
        _ticket_context(view),
        _input(
            ids.IN_VERIFICATION,
            "How did you verify the fix?",
            _text_input(multiline=True, max_length=2000, placeholder=RESOLVE_PLACEHOLDER),
            hint="The submitter sees this and is asked to confirm the fix.",
        ),
    ]
    return _modal(
        ids.VIEW_RESOLVE, f"Resolve #{view.id}", private_metadata, blocks, submit="Resolve"
    )


def still_broken_modal(view: TicketView, private_metadata: str) -> View:
    blocks = [
        _ticket_context(view),
        _input(
            ids.IN_REASON,
            "What is still not working?",
            _text_input(
                multiline=True, max_length=2000, placeholder="e.g. Still no internet on floor 2"
            ),
        ),
    ]
    return _modal(
        ids.VIEW_STILL_BROKEN, f"Still broken #{view.id}", private_metadata, blocks, submit="Reopen"
    )
