"""The SLA timers: a warning at 75 % of each target and the breach, planned from a ticket's SLA
columns (bot/service/sla.py); firing writes the ticket, a timeline row, the DMs and the card."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select

from bot.messages import sla as render
from bot.messages.view import SlackMessage
from bot.service.sla import RESOLVE, RESOLVE_RUNS, RESPONSE, SlaPolicy
from bot.service.timers.escalation import record
from bot.service.timers.schedule import Firing, TimerKind, Want
from bot.service.views import ticket_view
from storage.models import AlertStormTicket, Ticket


def kinds(policy: SlaPolicy) -> list[TimerKind]:
    """sla_response_warn, sla_response_breach, sla_resolve_warn, sla_resolve_breach."""
    found = []
    for clock in (RESPONSE, RESOLVE):
        clocks = SlaTimers(policy, clock)
        found.append(TimerKind(f"sla_{clock}_warn", clocks.warn, clocks.plan_warn))
        found.append(TimerKind(f"sla_{clock}_breach", clocks.breach, clocks.plan_breach))
    return found


class SlaTimers:
    """One clock's (response or resolve) warning and breach."""

    def __init__(self, policy: SlaPolicy, clock: str) -> None:
        self._policy = policy
        self._clock = clock

    # ---- plans -----------------------------------------------------------------------------
    def _due(self, ticket: Ticket) -> datetime | None:
        """The clock's due time while it runs and has not breached; else None."""
        if ticket.state not in RESOLVE_RUNS:
            return None
        if self._clock == RESPONSE and ticket.responded_at is not None:
            return None
        if getattr(ticket, f"{self._clock}_breached_at") is not None:
            return None
        due: datetime | None = getattr(ticket, f"{self._clock}_due_at")
        return due

    def plan_breach(self, ticket: Ticket, now: datetime) -> Want | None:
        due = self._due(ticket)
        return None if due is None else Want(at=due)

    def plan_warn(self, ticket: Ticket, now: datetime) -> Want | None:
        due = self._due(ticket)
        if due is None or due <= now or getattr(ticket, f"{self._clock}_warned_at") is not None:
            return None
        warn = self._policy.warn_at(ticket, self._clock)
        return None if warn is None or warn >= due else Want(at=warn)

    # ---- firing ----------------------------------------------------------------------------
    def warn(self, f: Firing) -> None:
        ticket = _ticket(f)
        setattr(ticket, f"{self._clock}_warned_at", f.now)
        due, target, tz = self._facts(ticket)
        msg = render.warning(
            ticket_view(ticket, f.now), self._clock, due, target, tz, unassigned=not ticket.assignee
        )
        self._tell(f, ticket, msg)
        what = "first response" if self._clock == RESPONSE else "resolution"
        record(f, "sla_warning", f"75 % of the {what} SLA ({target}) used")
        return None

    def breach(self, f: Firing) -> None:
        ticket = _ticket(f)
        setattr(ticket, f"{self._clock}_breached_at", f.now)
        due, target, tz = self._facts(ticket)
        msg = render.breached(
            ticket_view(ticket, f.now), self._clock, due, target, tz, unassigned=not ticket.assignee
        )
        self._tell(f, ticket, msg)
        record(f, "sla_breach", render.breach_note(self._clock, due, target, tz))
        return None

    def _facts(self, ticket: Ticket) -> tuple[datetime, str, tzinfo]:
        target = self._policy.targets[ticket.priority]
        span = target.response if self._clock == RESPONSE else target.resolve
        due: datetime = getattr(ticket, f"{self._clock}_due_at")
        return due, str(span), self._policy.display_tz(ticket.client)

    @staticmethod
    def _tell(f: Firing, ticket: Ticket, msg: SlackMessage) -> None:
        """The assignee, else every manager, by DM; the card re-renders (amber or red). A ticket
        of an alert storm gets no DMs of its own: the storm's summary stands for its tickets."""
        f.notifier.card(f.session, ticket)
        in_storm = f.session.scalar(
            select(AlertStormTicket.storm_id).where(AlertStormTicket.ticket_id == ticket.id)
        )
        if in_storm is not None:
            return
        if ticket.assignee is not None:
            f.notifier.dm_person(f.session, ticket, ticket.assignee, msg)
        else:
            for manager in f.notifier.manager_ids():
                f.notifier.dm(f.session, ticket, manager, msg)


def _ticket(f: Firing) -> Ticket:
    if f.ticket is None:
        raise ValueError(f"timer {f.key} has no ticket")
    return f.ticket
