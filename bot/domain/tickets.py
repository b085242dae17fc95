"""The ticket state machine: states, events, roles, the transition table (`RULES`) and `apply()`.

Pure: imports only the standard library; no I/O, no clock reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class State(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Role(StrEnum):
    """The actor's roles relative to one ticket; the service computes them."""

    EMPLOYEE = "employee"
    SUBMITTER = "submitter"
    CONTACT = "contact"
    TECHNICIAN = "technician"
    ASSIGNEE = "assignee"
    HELPER = "helper"
    MANAGER = "manager"
    MONITORING = "monitoring"
    SYSTEM = "system"  # the helpdesk's own timers


class Event(StrEnum):
    ASSIGN = "assign"
    START = "start"
    UPDATE = "update"
    INTERNAL_NOTE = "internal_note"
    CLIENT_REPLY = "client_reply"
    CHANGE_PRIORITY = "change_priority"
    REQUEST_HELP = "request_help"
    OFFER_HELP = "offer_help"
    DISPATCH_ONSITE = "dispatch_onsite"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    CANCEL = "cancel"
    AUTO_CLOSE = "auto_close"  # a resolved ticket nobody confirmed, after the set time


class TransitionError(Exception):
    """A refused transition. `message` is a plain-words sentence fit to show the actor.

    TransitionError
    ├── NotAllowedError    the actor has none of the roles the event needs
    ├── InvalidStateError  right role, but the ticket's state doesn't allow the event
    └── MissingInputError  a required note is missing or blank
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowedError(TransitionError):
    pass


class InvalidStateError(TransitionError):
    pass


class MissingInputError(TransitionError):
    pass


@dataclass(frozen=True)
class Rule:
    states: frozenset[State]  # the event is allowed from these states
    roles: frozenset[Role]  # ...by an actor holding any of these roles
    to: State | None  # None = state unchanged


OPEN_STATES = frozenset(State) - {State.CLOSED, State.CANCELLED}
_NOT_CANCELLED = frozenset(State) - {State.CANCELLED}
_UNRESOLVED = frozenset({State.NEW, State.ASSIGNED, State.IN_PROGRESS})
_NOT_STARTED = frozenset({State.NEW, State.ASSIGNED})
_ASSIGNED_OR_IN_PROGRESS = frozenset({State.ASSIGNED, State.IN_PROGRESS})
_ASSIGNED = frozenset({State.ASSIGNED})
_AWAITING = frozenset({State.AWAITING_CONFIRMATION})

_MANAGER = frozenset({Role.MANAGER})
_STAFF = frozenset({Role.TECHNICIAN, Role.MANAGER})
_WORKERS = frozenset({Role.ASSIGNEE, Role.HELPER, Role.MANAGER})
_CONFIRMERS = frozenset({Role.SUBMITTER, Role.CONTACT, Role.MANAGER})

RULES: Mapping[Event, Rule] = MappingProxyType(
    {
        Event.ASSIGN: Rule(_UNRESOLVED, _MANAGER, State.ASSIGNED),
        Event.START: Rule(_ASSIGNED, _WORKERS, State.IN_PROGRESS),
        Event.UPDATE: Rule(OPEN_STATES, _STAFF | {Role.MONITORING}, None),  # see _STARTS_WORK
        Event.INTERNAL_NOTE: Rule(_NOT_CANCELLED, _STAFF, None),
        Event.CLIENT_REPLY: Rule(_NOT_CANCELLED, _STAFF | _CONFIRMERS | {Role.EMPLOYEE}, None),
        Event.CHANGE_PRIORITY: Rule(OPEN_STATES, _STAFF | {Role.MONITORING}, None),
        Event.REQUEST_HELP: Rule(_UNRESOLVED, _STAFF | _WORKERS, None),
        Event.OFFER_HELP: Rule(_UNRESOLVED, _STAFF, None),
        Event.DISPATCH_ONSITE: Rule(_ASSIGNED_OR_IN_PROGRESS, _STAFF | _WORKERS, None),
        Event.RESOLVE: Rule(_ASSIGNED_OR_IN_PROGRESS, _WORKERS, State.AWAITING_CONFIRMATION),
        Event.CONFIRM: Rule(_AWAITING, _CONFIRMERS, State.CLOSED),
        Event.REOPEN: Rule(_AWAITING, _CONFIRMERS, State.ASSIGNED),
        Event.CANCEL: Rule(_NOT_STARTED, _MANAGER | {Role.SUBMITTER}, State.CANCELLED),
        Event.AUTO_CLOSE: Rule(_AWAITING, frozenset({Role.SYSTEM}), State.CLOSED),
    }
)
# The one exception to the table: the assignee's or a helper's first update starts work.
_STARTS_WORK = frozenset({Role.ASSIGNEE, Role.HELPER})

# Human phrases for messages. An event phrase completes "Only a manager can ___ ticket #7".
_DOING: Mapping[Event, str] = {
    Event.ASSIGN: "assign",
    Event.START: "start work on",
    Event.UPDATE: "post updates on",
    Event.INTERNAL_NOTE: "add internal notes to",
    Event.CLIENT_REPLY: "reply on",
    Event.CHANGE_PRIORITY: "change the priority of",
    Event.REQUEST_HELP: "ask for help on",
    Event.OFFER_HELP: "offer help on",
    Event.DISPATCH_ONSITE: "send someone onsite for",
    Event.RESOLVE: "resolve",
    Event.CONFIRM: "confirm",
    Event.REOPEN: "reopen",
    Event.CANCEL: "cancel",
    Event.AUTO_CLOSE: "auto-close",
}
_WHO: Mapping[Role, str] = {
    Role.EMPLOYEE: "a client employee",
    Role.SUBMITTER: "the submitter",
    Role.CONTACT: "the client's primary contact",
    Role.TECHNICIAN: "a technician",
    Role.ASSIGNEE: "the assignee",
    Role.HELPER: "a helper",
    Role.MANAGER: "a manager",
    Role.MONITORING: "a monitoring integration",
    Role.SYSTEM: "the helpdesk's timers",
}
_STATE_IS: Mapping[State, str] = {
    State.NEW: "isn't assigned yet",
    State.ASSIGNED: "isn't resolved yet",
    State.IN_PROGRESS: "is in progress",
    State.AWAITING_CONFIRMATION: "is awaiting confirmation",
    State.CLOSED: "is closed",
    State.CANCELLED: "is cancelled",
}
# Events that need a note, and how to ask for it.
_NOTE_PROMPTS: Mapping[Event, str] = {
    Event.RESOLVE: (
        "Please say how the fix for ticket #{id} was verified"
        " (for example: ISP confirmed service restored)."
    ),
    Event.REOPEN: "Please say what is still broken on ticket #{id}.",
}


def apply(
    ticket_id: int, state: State, event: Event, roles: frozenset[Role], *, note: str | None = None
) -> State:
    """Return the state after `event`, or raise; a raised error means nothing changed.

    Checks, in order: role (NotAllowedError), state (InvalidStateError), a non-blank `note` for
    RESOLVE and REOPEN (MissingInputError).
    """
    rule = RULES[event]
    if rule.roles.isdisjoint(roles):
        who = [_WHO[role] for role in Role if role in rule.roles]
        raise NotAllowedError(
            f"Only {_or(who)} can {_DOING[event]} ticket #{ticket_id} — it is unchanged."
        )
    if state not in rule.states:
        if state is State.NEW and State.ASSIGNED in rule.states:
            raise InvalidStateError(
                f"Ticket #{ticket_id} isn't assigned yet;"
                " a manager has to assign it before work starts."
            )
        raise InvalidStateError(
            f"Ticket #{ticket_id} {_STATE_IS[state]}, so you can't {_DOING[event]} it."
        )
    if event in _NOTE_PROMPTS and not (note and note.strip()):
        raise MissingInputError(_NOTE_PROMPTS[event].format(id=ticket_id))
    if event is Event.UPDATE and state is State.ASSIGNED and not _STARTS_WORK.isdisjoint(roles):
        return State.IN_PROGRESS
    return rule.to or state


def allowed(state: State, event: Event, roles: frozenset[Role]) -> bool:
    """Whether `event` passes the role and state checks (a required note is not checked)."""
    rule = RULES[event]
    return state in rule.states and not rule.roles.isdisjoint(roles)


def is_open(state: State) -> bool:
    return state in OPEN_STATES


def _or(phrases: list[str]) -> str:
    *rest, last = phrases
    return f"{', '.join(rest)} or {last}" if rest else last
