"""The process roles: what one process of a deployment does (web, worker, or all of it)."""

from __future__ import annotations

from enum import StrEnum


class ProcessRole(StrEnum):
    """What one process does (`ticketbot run --role`). Several processes share their state
    through PostgreSQL only; on SQLite one process does everything."""

    ALL = "all"
    WEB = "web"  # Slack, Teams and alert intake: writes rows, sends nothing
    WORKER = "worker"  # outbox delivery, storm summaries, timers, the directory refresh

    @property
    def serves(self) -> bool:
        """Serves Slack (HTTP or Socket Mode), Teams and the alert webhooks."""
        return self is not ProcessRole.WORKER

    @property
    def works(self) -> bool:
        """Runs the background work: delivery, storm summaries, timers, refreshes."""
        return self is not ProcessRole.WEB
