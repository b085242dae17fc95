"""The periodic jobs on APScheduler: at once when asked, then every interval by the trigger; sooner
again after a failure. Shown on the jobs' triggers and next run times, never by sleeping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.app.scheduler import Scheduler


class Work:
    """Counts its runs; fails while `failing`."""

    def __init__(self) -> None:
        self.runs = 0
        self.failing = False

    def __call__(self) -> None:
        self.runs += 1
        if self.failing:
            raise ConnectionError("Slack is unreachable")


class Runs:
    """Makes a job due and waits until APScheduler has run it (its executor's event, no sleep)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._done = threading.Semaphore(0)
        self.raised: list[BaseException] = []
        scheduler.apscheduler.add_listener(self._ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _ran(self, event: JobExecutionEvent) -> None:
        if event.exception is not None:
            self.raised.append(event.exception)
        self._done.release()

    def fire(self, name: str) -> datetime:
        """Run `name` now through APScheduler; returns the run's scheduled time."""
        due = datetime.now(UTC).replace(microsecond=0)
        self._scheduler.apscheduler.modify_job(name, next_run_time=due)
        assert self._done.acquire(timeout=10), "APScheduler did not run the job"
        assert self.raised == []  # a failure is the job's to handle, not APScheduler's
        return due


def next_run(scheduler: Scheduler, name: str) -> datetime:
    run: datetime = scheduler.apscheduler.get_job(name).next_run_time
    return run


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    scheduler = Scheduler()
    yield scheduler
    scheduler.stop()


def test_runs_at_once_then_every_interval(scheduler: Scheduler) -> None:
    work = Work()
    before = datetime.now(UTC)
    scheduler.add("job", work, every=timedelta(minutes=10))
    assert scheduler.run_now("job")  # at once, in this thread (the members refresh at start)
    scheduler.start()
    after = datetime.now(UTC)
    job = scheduler.apscheduler.get_job("job")
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 600)
    assert job.trigger.interval == timedelta(minutes=10)
    # Not before it is due: the trigger's first run is one interval after the job was added.
    assert (
        before + timedelta(minutes=10)
        <= next_run(scheduler, "job")
        <= after + timedelta(minutes=10)
    )
    due = Runs(scheduler).fire("job")
    assert next_run(scheduler, "job") == due + timedelta(minutes=10)
    assert work.runs == 2


def test_failure_is_retried_sooner_until_it_succeeds(
    scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    work, runs = Work(), Runs(scheduler)
    scheduler.add("job", work, every=timedelta(minutes=10), retry=timedelta(seconds=30))
    scheduler.start()
    work.failing = True
    for _ in range(2):  # still failing: tried again, 30 seconds after each failure
        before = datetime.now(UTC)
        with caplog.at_level(logging.WARNING, logger="bot.app.scheduler"):
            runs.fire("job")
        after = datetime.now(UTC)
        assert before + timedelta(seconds=30) <= next_run(scheduler, "job")
        assert next_run(scheduler, "job") <= after + timedelta(seconds=30)
    assert [r.getMessage() for r in caplog.records] == [
        "job failed (Slack is unreachable); trying again in 0:00:30"
    ] * 2
    work.failing = False
    due = runs.fire("job")
    assert next_run(scheduler, "job") == due + timedelta(minutes=10)  # back to every 10 minutes
    assert work.runs == 3


def test_a_failure_at_start_is_retried_sooner(scheduler: Scheduler) -> None:
    work = Work()
    work.failing = True
    scheduler.add("job", work, every=timedelta(minutes=10), retry=timedelta(seconds=30))
    before = datetime.now(UTC)
    assert not scheduler.run_now("job")  # Slack down at start: the process serves anyway
    scheduler.start()
    after = datetime.now(UTC)
    assert before + timedelta(seconds=30) <= next_run(scheduler, "job")
    assert next_run(scheduler, "job") <= after + timedelta(seconds=30)


def test_retry_is_never_later_than_the_interval(scheduler: Scheduler) -> None:
    work = Work()
    work.failing = True
    scheduler.add("job", work, every=timedelta(minutes=1), retry=timedelta(minutes=5))
    scheduler.start()
    before = datetime.now(UTC)
    Runs(scheduler).fire("job")
    after = datetime.now(UTC)
    assert before + timedelta(minutes=1) <= next_run(scheduler, "job")
    assert next_run(scheduler, "job") <= after + timedelta(minutes=1)
