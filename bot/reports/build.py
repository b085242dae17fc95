"""Reads the month's tickets and their timelines from the database and builds the `Report`:
one section per client (or only the one asked for) and the overall."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from bot.domain.business_hours import Calendar
from bot.reports.figures import (
    TIMELINE_KINDS,
    Report,
    Section,
    TicketFacts,
    TicketRow,
    facts,
    summarize,
)
from bot.reports.month import Month
from storage.models import Client, Ticket, TicketEvent


class Calendars(Protocol):
    """Whose business hours a ticket's times count in (bot.service.sla.SlaPolicy is one)."""

    @property
    def default(self) -> Calendar:
        """The MSP's own calendar: its time zone is the report's."""

    def calendar(self, priority: str, client: Client | None) -> Calendar: ...


NO_CLIENT = "No client"
OVERALL = "Overall"


class ReportError(Exception):
    """The report cannot be made as asked (an unknown client); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def find_client(session: Session, name: str) -> Client:
    """The client named `name` (exactly, else ignoring case); ReportError when none is."""
    wanted = name.strip()
    found = session.scalar(select(Client).where(Client.name == wanted))
    if found is None:
        matches = session.scalars(
            select(Client).where(func.lower(Client.name) == wanted.lower())
        ).all()
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise ReportError(f"There is no client named {wanted[:200]!r}.")
    return found


def build_report(
    session: Session,
    month: Month,
    sla: Calendars,
    *,
    now: datetime,
    client: str | None = None,
) -> Report:
    """The figures of the tickets opened in `month` (in the MSP's timezone, `sla.default.tz`):
    of `client` alone, or of every client plus the tickets of no client and the overall."""
    tz = sla.default.tz
    start, end = month.bounds(tz)
    only = find_client(session, client) if client is not None else None
    query = (
        select(Ticket)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.id)
    )
    if only is not None:
        query = query.where(Ticket.client_id == only.id)
    tickets = session.scalars(query).unique().all()
    events = _timelines(session, query.with_only_columns(Ticket.id).order_by(None))
    clients = (
        [only]
        if only is not None
        else list(
            session.scalars(
                select(Client).options(selectinload(Client.holidays)).order_by(Client.name)
            )
        )
    )
    by_client: dict[int | None, list[TicketFacts]] = defaultdict(list)
    for ticket in tickets:
        row = _row(ticket, events.get(ticket.id, ()))
        by_client[ticket.client_id].append(facts(row, _calendar(sla, ticket)))
    sections = [
        Section(c.name, c.id, summarize(by_client.get(c.id, [])), _hours(c)) for c in clients
    ]
    if only is None and by_client.get(None):
        sections.append(Section(NO_CLIENT, None, summarize(by_client[None]), None))
    overall = None
    if only is None:
        everything = [f for group in by_client.values() for f in group]
        overall = Section(OVERALL, None, summarize(everything), None)
    return Report(
        month=str(month),
        month_label=month.label,
        timezone=str(tz),
        generated_at=now,
        sections=tuple(sections),
        overall=overall,
    )


def _timelines(session: Session, ticket_ids: Select[int]) -> dict[int, list[tuple[str, datetime]]]:
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.at)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind.in_(TIMELINE_KINDS))
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)
    ).all()
    out: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for ticket_id, kind, at in rows:
        out[ticket_id].append((kind, at))
    return out


def _row(ticket: Ticket, events: Sequence[tuple[str, datetime]]) -> TicketRow:
    return TicketRow(
        id=ticket.id,
        priority=ticket.priority,
        source=ticket.source,
        state=ticket.state,
        created_at=ticket.created_at,
        responded_at=ticket.responded_at,
        response_due_at=ticket.response_due_at,
        response_breached_at=ticket.response_breached_at,
        resolve_due_at=ticket.resolve_due_at,
        resolve_breached_at=ticket.resolve_breached_at,
        events=tuple(events),
    )


def _calendar(sla: Calendars, ticket: Ticket) -> Calendar | None:
    """The client's business calendar for a non-critical ticket of a client with hours set;
    None (around the clock) otherwise."""
    if ticket.priority == "critical" or ticket.client is None or not ticket.client.hours:
        return None
    return sla.calendar(ticket.priority, ticket.client)


def _hours(client: Client) -> str | None:
    if not client.hours:
        return None
    return f"{client.hours} ({client.timezone})" if client.timezone else client.hours
