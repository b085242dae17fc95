"""The escalation timers: re-pings while a critical ticket is unassigned, reminders while its
assignee is silent, and the wait for a confirmation. Each plans from the ticket's facts and
fires by writing rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import tickets
from bot.domain.tickets import Event, Role, State
from bot.messages.blocks import age
from bot.messages.view import PersonRef
from bot.service.timers.schedule import Firing, TimerKind, Want
from bot.service.views import ticket_view
from storage.batch import batch
from storage.models import Ticket, ticket_events_table

SYSTEM = "ticketbot"  # the actor of the timeline rows timers write

REPING = "reping"
SILENT_REMIND = "silent_remind"
SILENT_ESCALATE = "silent_escalate"
CONFIRM_REMIND = "confirm_remind"
AUTO_CLOSE = "auto_close"
_WORKING = frozenset({State.ASSIGNED.value, State.IN_PROGRESS.value})
_SYSTEM_REF = PersonRef(name=SYSTEM)
_SYSTEM = frozenset({Role.SYSTEM})


@dataclass(frozen=True)
class EscalationPolicy:
    """The delays of the escalation timers (from settings)."""

    reping_after: timedelta = timedelta(minutes=5)
    # A silent assignee's reminder by priority (escalated at twice it); timedelta(0): never.
    remind_after: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            "critical": timedelta(minutes=30),
            "high": timedelta(hours=2),
            "medium": timedelta(days=1),
            "low": timedelta(days=3),
        }
    )
    confirm_remind_after: timedelta = timedelta(days=1)  # timedelta(0): never
    auto_close_after: timedelta = timedelta(days=5)  # timedelta(0): never


def kinds(policy: EscalationPolicy) -> list[TimerKind]:
    """The escalation kinds, for `Timers.of` (other kinds, such as SLA timers, register beside)."""
    silent = SilentAssignee(policy)
    awaiting = AwaitingConfirmation(policy)
    return [
        Reping(policy).kind(),
        TimerKind(SILENT_REMIND, fire=silent.remind, plan=silent.plan_remind),
        TimerKind(SILENT_ESCALATE, fire=silent.escalate, plan=silent.plan_escalate),
        TimerKind(CONFIRM_REMIND, fire=awaiting.remind, plan=awaiting.plan_remind),
        TimerKind(AUTO_CLOSE, fire=awaiting.close, plan=awaiting.plan_close),
    ]


class Reping:
    """Rule 1: a critical ticket nobody is assigned to pings the technician channel(s) again
    and DMs the managers, every `reping_after`, until it is assigned."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self._every = policy.reping_after

    def kind(self) -> TimerKind:
        return TimerKind(REPING, fire=self.fire, plan=self.plan)

    def plan(self, ticket: Ticket, now: datetime) -> Want | None:
        if ticket.priority == "critical" and ticket.state == State.NEW.value:
            return Want(after=self._every)
        return None

    def fire(self, f: Firing) -> datetime | None:
        ticket = _ticket(f)
        waited = age(_since(f), f.now)
        f.notifier.reping(f.session, ticket, ticket_view(ticket, f.now), waited)
        record(f, "reping", f"re-pinged the technicians and managers: unassigned for {waited}")
        return f.now + self._every  # after downtime: once now, then every interval from now


class SilentAssignee:
    """Rule 2: no technician update for the priority's delay reminds the assignee by DM; at
    twice the delay the managers are told. A technician update restarts both."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self._after = policy.remind_after

    def _due(self, ticket: Ticket, times: int) -> Want | None:
        delay = self._after.get(ticket.priority, timedelta(0))
        if not delay or ticket.state not in _WORKING or ticket.assignee is None:
            return None
        last = ticket.last_tech_update_at or ticket.updated_at
        return Want(at=last + delay * times)

    def plan_remind(self, ticket: Ticket, now: datetime) -> Want | None:
        return self._due(ticket, 1)

    def plan_escalate(self, ticket: Ticket, now: datetime) -> Want | None:
        return self._due(ticket, 2)

    def remind(self, f: Firing) -> datetime | None:
        ticket = _ticket(f)
        silent = age(_last_update(ticket), f.now)
        f.notifier.silent_assignee(f.session, ticket, ticket_view(ticket, f.now), silent)
        record(f, "reminder", f"reminded the assignee: no technician update for {silent}")
        return None

    def escalate(self, f: Firing) -> datetime | None:
        ticket = _ticket(f)
        silent = age(_last_update(ticket), f.now)
        f.notifier.silent_escalated(f.session, ticket, ticket_view(ticket, f.now), silent)
        record(f, "escalated", f"told the managers: no technician update for {silent}")
        return None


class AwaitingConfirmation:
    """Rule 5: a resolved ticket reminds whoever was asked to confirm; a non-critical one closes
    by itself later, with the usual closing messages; a critical one reminds the managers."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self._remind_after = policy.confirm_remind_after
        self._close_after = policy.auto_close_after

    def plan_remind(self, ticket: Ticket, now: datetime) -> Want | None:
        if self._remind_after and ticket.state == State.AWAITING_CONFIRMATION.value:
            return Want(after=self._remind_after)
        return None

    def plan_close(self, ticket: Ticket, now: datetime) -> Want | None:
        if self._close_after and ticket.state == State.AWAITING_CONFIRMATION.value:
            return Want(after=self._close_after)
        return None

    def remind(self, f: Firing) -> datetime | None:
        ticket = _ticket(f)
        waited = age(_since(f), f.now)
        f.notifier.confirm_reminder(f.session, ticket, ticket_view(ticket, f.now), waited)
        record(f, "confirm_reminder", f"asked the client again to confirm: resolved {waited} ago")
        return None

    def close(self, f: Firing) -> datetime | None:
        ticket = _ticket(f)
        waited = age(_since(f), f.now)
        if ticket.priority == "critical":
            f.notifier.confirm_overdue(f.session, ticket, ticket_view(ticket, f.now), waited)
            record(f, "confirm_overdue", f"told the managers: unconfirmed for {waited}")
            return None
        state = State(ticket.state)
        ticket.state = tickets.apply(ticket.id, state, Event.AUTO_CLOSE, _SYSTEM).value
        ticket.closed_at = ticket.updated_at = f.now
        record(f, "closed", f"closed automatically: unconfirmed for {waited}")
        view = ticket_view(ticket, f.now)
        f.notifier.closed(f.session, ticket, view, _SYSTEM_REF, unconfirmed_for=waited)
        return None


# ---- helpers -----------------------------------------------------------------------------------
def record(f: Firing, kind: str, text: str) -> None:
    """A timeline row by the system, in the write batch."""
    ticket = _ticket(f)
    batch(f.session).insert(
        ticket_events_table,
        {
            "ticket_id": ticket.id,
            "at": f.now,
            "actor_id": None,
            "actor_label": SYSTEM,
            "kind": kind,
            "surface": "timer",
            "text": text,
            "data": {"timer": f.key},
            "source_channel": None,
            "source_ts": None,
        },
    )


def _ticket(f: Firing) -> Ticket:
    if f.ticket is None:
        raise ValueError(f"timer {f.key} has no ticket")
    return f.ticket


def _last_update(ticket: Ticket) -> datetime:
    return ticket.last_tech_update_at or ticket.updated_at


def _since(f: Firing) -> datetime:
    """When the facts first called for this timer (an `after` timer's arming time)."""
    return datetime.fromisoformat(str(f.data["since"]))
