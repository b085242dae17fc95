"""The /metrics gauges read from the database at scrape time (never on a request path): open
tickets by priority and state, outbox rows waiting or parked by channel, timers overdue."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.tickets import OPEN_STATES
from storage.models import OutboxRow, Ticket

_OPEN = sorted(s.value for s in OPEN_STATES)
# Delivered rows ("done") are history, not load: counting them would scan the whole outbox.
_WAITING = ("pending", "sending", "parked")


class DatabaseCollector(Collector):
    """Three grouped queries per scrape, on one short read-only session."""

    def __init__(self, sessions: sessionmaker[Session], overdue: Callable[[], int]) -> None:
        self._sessions = sessions
        self._overdue = overdue

    def describe(self) -> list[Metric]:
        return list(self._families({}, {}, 0))

    def collect(self) -> Iterator[Metric]:
        with self._sessions() as s:
            tickets = s.execute(
                select(Ticket.priority, Ticket.state, func.count())
                .where(Ticket.state.in_(_OPEN))
                .group_by(Ticket.priority, Ticket.state)
            ).all()
            outbox = s.execute(
                select(OutboxRow.channel, OutboxRow.status, func.count())
                .where(OutboxRow.status.in_(_WAITING))
                .group_by(OutboxRow.channel, OutboxRow.status)
            ).all()
        open_tickets = {(str(p), str(st)): int(n) for p, st, n in tickets}
        rows = {(str(c), str(st)): int(n) for c, st, n in outbox}
        yield from self._families(open_tickets, rows, self._overdue())

    def _families(
        self, open_tickets: dict[tuple[str, str], int], rows: dict[tuple[str, str], int], due: int
    ) -> Iterator[Metric]:
        t = GaugeMetricFamily(
            "ticketbot_open_tickets",
            "Tickets not closed or cancelled, by priority and state.",
            labels=["priority", "state"],
        )
        for (priority, state), n in sorted(open_tickets.items()):
            t.add_metric([priority, state], n)
        yield t
        o = GaugeMetricFamily(
            "ticketbot_outbox_rows",
            "Outbox rows by channel and status: pending or sending (the backlog), parked.",
            labels=["channel", "status"],
        )
        for (channel, status), n in sorted(rows.items()):
            o.add_metric([channel, status], n)
        yield o
        yield GaugeMetricFamily(
            "ticketbot_timers_overdue", "Timers due but not fired yet.", value=due
        )
