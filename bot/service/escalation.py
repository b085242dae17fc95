"""The escalation timers: an unassigned critical ticket re-pings the technicians and managers
until someone is assigned. Each kind plans from the ticket's facts and fires by writing rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.render.blocks import age
from bot.service.timers import Firing, TimerKind, Want
from bot.tickets import State
from bot.views import ticket_view
from storage.batch import batch
from storage.models import Ticket, ticket_events_table

SYSTEM = "ticketbot"  # the actor of the timeline rows timers write

REPING = "reping"


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
    return [Reping(policy).kind()]


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


def _since(f: Firing) -> datetime:
    """When the facts first called for this timer (an `after` timer's arming time)."""
    return datetime.fromisoformat(str(f.data["since"]))
