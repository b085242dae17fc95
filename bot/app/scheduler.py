"""The process's periodic jobs on APScheduler 3: `Periodic` work with a sooner retry after a
failure, ticked by a `BackgroundScheduler`. Job bodies read time from the injected clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.domain.clock import Clock

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)


class Periodic:
    """`work` every `every`; after a failure, again after `retry` (never later than `every`)
    until it succeeds. The job ticks every `tick` and runs `work` only when it is due."""

    def __init__(
        self,
        name: str,
        work: Callable[[], None],
        *,
        every: timedelta,
        retry: timedelta = RETRY_AFTER,
    ) -> None:
        self.name = name
        self._work = work
        self._every = every
        self._retry = min(retry, every)
        self._due: datetime | None = None  # None: due now
        self._lock = threading.Lock()

    @property
    def tick(self) -> timedelta:
        return self._retry

    def run(self, now: datetime) -> bool:
        """Run `work` if it is due; True when it ran and succeeded."""
        with self._lock:
            if self._due is not None and now < self._due:
                return False
            try:
                self._work()
            except Exception as e:  # a job's outer boundary: say so, and try again sooner
                log.warning("%s failed (%s); trying again in %s", self.name, e, self._retry)
                self._due = now + self._retry
                return False
            self._due = now + self._every
            return True


class Scheduler:
    """The periodic jobs of one process; `start` once, `stop` once."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def add(self, periodic: Periodic) -> None:
        self._scheduler.add_job(
            lambda: periodic.run(self._clock.now()),
            "interval",
            seconds=periodic.tick.total_seconds(),
            id=periodic.name,
            name=periodic.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,  # a late tick still runs; `Periodic` decides what is due
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        """Stop ticking; waits for a job that is running."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
