"""What the routes and dispatchers of one process share: their sessions, the clock, the metrics,
the paces of every conversation and the messages delivery recorded."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from bot.outbox.pacing import Paces
from bot.outbox.recorded import Recorded
from bot.telemetry.metrics import Metrics
from storage.engine import make_session_factory


class Outbox:
    """Built first, handed to each surface's routes, then with them to the dispatchers."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.bind: Engine = session_factory.kw["bind"]
        # Delivery's own transactions are short: on SQLite they go before the requests' (and
        # reads need not wait for writers at all), so that it keeps up with a burst of requests.
        self.sessions = make_session_factory(self.bind, write_first=True)
        self.reads = make_session_factory(self.bind, read_only=True)
        self.clock = clock
        self.metrics = metrics or Metrics()
        # Several processes deliver at once (on PostgreSQL), or only this one (SQLite).
        self.postgres: bool = self.bind.dialect.name == "postgresql"
        # The routes add their rules (through the dispatchers that deliver them).
        self.paces = Paces(self.sessions, {}, reads=self.reads)

    def recorded(self, surface: str) -> Recorded:
        """The messages delivery records on `surface` (its cards, thread roots and mirrors)."""
        return Recorded(sessions=self.sessions, reads=self.reads, clock=self.clock, surface=surface)
