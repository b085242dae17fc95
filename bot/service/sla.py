"""SLA clocks: a ticket's first-response and resolution due times from its priority's targets on
its client's business calendar (critical: 24/7), kept in step as the ticket changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.settings import Settings
from bot.config.sla import SlaTarget
from bot.domain.business_hours import ALWAYS, Calendar, calendar, parse_hours
from storage.models import Client, Ticket, TicketEvent

log = logging.getLogger(__name__)

WARN_SHARE = 0.75  # of a target's business time: the warning, and the card's amber
RESPONSE, RESOLVE = "response", "resolve"
# States in which the clocks run (the response clock only until the first response).
RESOLVE_RUNS = frozenset({"new", "assigned", "in_progress"})


@dataclass(frozen=True)
class SlaPolicy:
    """The MSP's targets per priority and its default calendar (for tickets without a client,
    and the parts a client leaves unset).

    First response is the first technician attention a ticket gets: its assignment, a status or
    priority change by staff, or a staff reply in the card's thread (`last_tech_update_at` set for
    the first time). The resolution clock stops while the ticket awaits confirmation: a reopen
    moves its due time on by the business time it was stopped."""

    targets: Mapping[str, SlaTarget]
    default: Calendar

    @classmethod
    def of(cls, settings: Settings) -> SlaPolicy:
        return cls(
            targets=dict(settings.sla),
            default=calendar(settings.timezone, settings.business_hours),
        )

    @classmethod
    def of_defaults(cls) -> SlaPolicy:
        """The contract's defaults (services built without settings: tests, tools)."""
        return cls.of(Settings())

    def display_tz(self, client: Client | None) -> tzinfo:
        """The zone times are written in where a chat client cannot localise them."""
        try:
            return ZoneInfo(client.timezone) if client and client.timezone else self.default.tz
        except ValueError:
            return self.default.tz

    def calendar(self, priority: str, client: Client | None) -> Calendar:
        """Critical tickets run 24/7; the others in the client's hours (the MSP's by default)."""
        if priority == "critical":
            return ALWAYS
        if client is None:
            return self.default
        try:
            tz = ZoneInfo(client.timezone) if client.timezone else self.default.tz
            weekly = parse_hours(client.hours) if client.hours else self.default.weekly
        except ValueError:  # stored before `clients` checked it: the MSP's hours instead
            log.warning("client %s has unusable business hours; using the MSP's", client.id)
            tz, weekly = self.default.tz, self.default.weekly
        return Calendar(tz=tz, weekly=weekly, holidays=frozenset(h.day for h in client.holidays))

    def due(
        self, priority: str, client: Client | None, start: datetime
    ) -> tuple[datetime, datetime]:
        """(first response due, resolution due) for a ticket opened at `start`."""
        target = self.targets[priority]
        cal = self.calendar(priority, client)
        return cal.advance(start, target.response), cal.advance(start, target.resolve)

    def warn_at(self, ticket: Ticket, clock: str) -> datetime | None:
        """When WARN_SHARE of the clock's business time (from the ticket's opening) is used."""
        due = ticket.response_due_at if clock == RESPONSE else ticket.resolve_due_at
        if due is None:
            return None
        cal = self.calendar(ticket.priority, ticket.client)
        used = cal.elapsed(ticket.created_at, due) * WARN_SHARE
        return cal.add(ticket.created_at, timedelta(seconds=int(used.total_seconds())))

    # ---- keeping a ticket's clocks in step ---------------------------------------------------
    def opened(self, priority: str, client: Client | None, now: datetime) -> dict[str, Any]:
        """The SLA columns of a ticket opened now (for its insert)."""
        response, resolve = self.due(priority, client, now)
        return {"response_due_at": response, "resolve_due_at": resolve}

    def repriced(self, ticket: Ticket, now: datetime) -> None:
        """The priority changed: due times again from the opening; a breach or warning the new
        targets would not have reached yet is withdrawn (the timeline keeps what happened)."""
        ticket.response_due_at, ticket.resolve_due_at = self.due(
            ticket.priority, ticket.client, ticket.created_at
        )
        for clock in (RESPONSE, RESOLVE):
            due = ticket.response_due_at if clock == RESPONSE else ticket.resolve_due_at
            warn = self.warn_at(ticket, clock)
            if due is not None and due > now:
                setattr(ticket, f"{clock}_breached_at", None)
            if warn is not None and warn > now:
                setattr(ticket, f"{clock}_warned_at", None)

    def reopened(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Before a reopen: the resolution clock stopped when the ticket was last resolved; move
        its due time on by the business time that passed since (a breach recorded stays)."""
        if ticket.resolve_due_at is None or ticket.resolve_breached_at is not None:
            return
        resolved_at = session.scalar(
            select(func.max(TicketEvent.at)).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolved"
            )
        )
        if resolved_at is None:
            return
        cal = self.calendar(ticket.priority, ticket.client)
        ticket.resolve_due_at = cal.add(ticket.resolve_due_at, cal.elapsed(resolved_at, now))

    @staticmethod
    def responded(ticket: Ticket) -> None:
        """Record the first response once the ticket has had a technician's attention."""
        if ticket.responded_at is None and ticket.last_tech_update_at is not None:
            ticket.responded_at = ticket.last_tech_update_at
