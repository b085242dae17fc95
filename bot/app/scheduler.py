"""The process's periodic jobs on APScheduler 3: interval triggers that coalesce missed runs, one
run at a time, and a failed run tried again sooner. Job bodies read time from the injected clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)


class Scheduler:
    """The periodic jobs of one process, by name; `start` once, `stop` once."""

    def __init__(self) -> None:
        # The jobs' state and triggers (tests read them; APScheduler keeps time by the wall clock).
        self.apscheduler = BackgroundScheduler(timezone=UTC)
        # APScheduler's shutdown holds its job store lock while it waits for running jobs: a job
        # failing then must not ask for that lock to move its next run.
        self._moves = threading.Lock()
        self._stopping = False

    def add(
        self,
        name: str,
        work: Callable[[], object],
        *,
        every: timedelta,
        retry: timedelta = RETRY_AFTER,
    ) -> str:
        """`work` every `every`, first one interval from now; after a failure, again after
        `retry` (never later than `every`) until it succeeds. Returns the job's name."""
        seconds = every.total_seconds()
        self.apscheduler.add_job(
            self._run,
            IntervalTrigger(seconds=seconds, timezone=UTC),
            args=(name, work, min(retry, every)),
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,  # runs missed while the process was busy or asleep: one run
            max_instances=1,
            # A run later than this is dropped: the next one, one interval on, does its work.
            misfire_grace_time=max(1, round(seconds)),
        )
        return name

    def run_now(self, name: str) -> bool:
        """Run job `name` in this thread (before `start`: the first members refresh, before the
        process serves); True when it succeeded."""
        job = self.apscheduler.get_job(name)
        if job is None:
            raise KeyError(name)
        return bool(job.func(*job.args))

    def start(self) -> None:
        self.apscheduler.start()

    def stop(self) -> None:
        """Stop the jobs; waits for one that is running."""
        with self._moves:
            self._stopping = True
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=True)

    def _run(self, name: str, work: Callable[[], object], retry: timedelta) -> bool:
        """One run of a job; a failure moves its next run `retry` from now."""
        try:
            work()
        except Exception as e:  # a job's outer boundary: say so, and try again sooner
            log.warning("%s failed (%s); trying again in %s", name, e, retry)
            with self._moves:
                if not self._stopping:
                    # Replaces the next run APScheduler set by the trigger before this one began.
                    self.apscheduler.modify_job(name, next_run_time=datetime.now(UTC) + retry)
            return False
        return True
