"""The report's figures, computed from one ticket's facts and summed over a set of tickets. Pure:
no database, no clock. What each figure counts is the contract written in README "Reports".

The tickets are those *opened* in the month (local time). Durations run from the ticket's
opening, in the client's business hours for non-critical tickets of a client with hours
configured, else around the clock:
- acknowledge: to the first technician attention (`tickets.responded_at`);
- assign: to the first assignment (timeline `assigned`);
- resolve: to the last resolution (timeline `resolved`) of a ticket awaiting confirmation or
  closed, minus the time it spent awaiting a confirmation that ended in a reopen.
A mean and p90 (nearest rank) are over the tickets that have that duration."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.business_hours import Calendar

PRIORITIES = ("low", "medium", "high", "critical")
SOURCES = ("person", "monitoring")
RESOLVED_STATES = frozenset({"awaiting_confirmation", "closed"})


@dataclass(frozen=True)
class TicketRow:
    """What the figures read of one ticket (from `tickets`) and its timeline (`ticket_events`:
    (kind, at) pairs of the kinds in `TIMELINE_KINDS`, in time order)."""

    id: int
    priority: str
    source: str
    state: str
    created_at: datetime
    responded_at: datetime | None
    response_due_at: datetime | None
    response_breached_at: datetime | None
    resolve_due_at: datetime | None
    resolve_breached_at: datetime | None
    events: tuple[tuple[str, datetime], ...] = ()


TIMELINE_KINDS = ("assigned", "resolved", "reopened", "onsite")


@dataclass(frozen=True)
class TicketFacts:
    """One ticket's contribution; None where it has no such figure (yet)."""

    priority: str
    source: str  # person | monitoring
    cancelled: bool
    acknowledge: timedelta | None
    assign: timedelta | None
    resolve: timedelta | None
    response_met: bool | None  # None: the clock still runs, or the ticket has no target
    resolve_met: bool | None
    resolved: bool  # resolved at least once
    reopened: bool  # reopened at least once
    onsite_visits: int


def facts(row: TicketRow, calendar: Calendar | None) -> TicketFacts:
    """`calendar`: the business calendar durations are measured on (None: around the clock)."""

    def span(end: datetime) -> timedelta:
        return _measure(row.created_at, end, calendar)

    kinds = [kind for kind, _ in row.events]
    assigned = next((at for kind, at in row.events if kind == "assigned"), None)
    resolutions = [at for kind, at in row.events if kind == "resolved"]
    resolved_now = row.state in RESOLVED_STATES and bool(resolutions)
    return TicketFacts(
        priority=row.priority,
        source="monitoring" if row.source == "monitoring" else "person",
        cancelled=row.state == "cancelled",
        acknowledge=span(row.responded_at) if row.responded_at else None,
        assign=span(assigned) if assigned else None,
        resolve=_working_time(row, calendar) if resolved_now else None,
        response_met=_response_met(row),
        resolve_met=_resolve_met(row, resolutions[-1] if resolved_now else None),
        resolved=bool(resolutions),
        reopened="reopened" in kinds,
        onsite_visits=kinds.count("onsite"),
    )


def _measure(start: datetime, end: datetime, calendar: Calendar | None) -> timedelta:
    if calendar is not None:
        return calendar.elapsed(start, end)
    return max(end - start, timedelta(0))


def _working_time(row: TicketRow, calendar: Calendar | None) -> timedelta:
    """Opening to the last resolution, without the waits for a confirmation that never came."""
    total = timedelta(0)
    running_since: datetime | None = row.created_at
    for kind, at in row.events:
        if kind == "resolved" and running_since is not None:
            total += _measure(running_since, at, calendar)
            running_since = None
        elif kind == "reopened" and running_since is None:
            running_since = at
    return total


def _response_met(row: TicketRow) -> bool | None:
    """Missed: a breach recorded, or the response came after its due time; met: a response in
    time; None: no target, or no response and no breach yet."""
    due = row.response_due_at
    if due is None:
        return None
    if row.response_breached_at is not None or (row.responded_at and row.responded_at > due):
        return False
    return True if row.responded_at is not None else None


def _resolve_met(row: TicketRow, resolved_at: datetime | None) -> bool | None:
    due = row.resolve_due_at
    if due is None:
        return None
    if row.resolve_breached_at is not None or (resolved_at and resolved_at > due):
        return False
    return True if resolved_at is not None else None


@dataclass(frozen=True)
class Durations:
    count: int
    mean: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, values: Iterable[timedelta | None]) -> Durations:
        found = sorted(v for v in values if v is not None)
        if not found:
            return cls(0, None, None)
        mean = sum(found, timedelta(0)) / len(found)
        rank = math.ceil(0.9 * len(found))  # nearest-rank p90
        return cls(len(found), timedelta(seconds=round(mean.total_seconds())), found[rank - 1])


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def share(self) -> float | None:
        return self.hits / self.total if self.total else None

    @classmethod
    def of(cls, values: Iterable[bool | None]) -> Rate:
        decided = [v for v in values if v is not None]
        return cls(sum(decided), len(decided))


@dataclass(frozen=True)
class Figures:
    opened: int
    cancelled: int
    by_priority: tuple[tuple[str, int], ...]
    by_source: tuple[tuple[str, int], ...]
    acknowledge: Durations
    assign: Durations
    resolve: Durations
    response_sla: Rate  # hits: met; total: decided (met or missed)
    resolve_sla: Rate
    reopen: Rate  # hits: reopened; total: resolved at least once
    onsite_visits: int


def summarize(tickets: Sequence[TicketFacts]) -> Figures:
    return Figures(
        opened=len(tickets),
        cancelled=sum(t.cancelled for t in tickets),
        by_priority=tuple((p, sum(t.priority == p for t in tickets)) for p in PRIORITIES),
        by_source=tuple((s, sum(t.source == s for t in tickets)) for s in SOURCES),
        acknowledge=Durations.of(t.acknowledge for t in tickets),
        assign=Durations.of(t.assign for t in tickets),
        resolve=Durations.of(t.resolve for t in tickets),
        response_sla=Rate.of(t.response_met for t in tickets),
        resolve_sla=Rate.of(t.resolve_met for t in tickets),
        reopen=Rate.of(t.reopened for t in tickets if t.resolved),
        onsite_visits=sum(t.onsite_visits for t in tickets),
    )


@dataclass(frozen=True)
class Section:
    """One client's figures (`client_id` None: tickets of no known client, or the overall)."""

    name: str
    client_id: int | None
    figures: Figures
    hours: str | None  # the business hours its durations use, as written; None: around the clock


@dataclass(frozen=True)
class Report:
    month: str  # YYYY-MM
    month_label: str  # November 2026
    timezone: str
    generated_at: datetime
    sections: tuple[Section, ...]
    overall: Section | None  # None: a report of one client
