"""Periodic work: at once the first time, then every interval; sooner again after a failure."""

from __future__ import annotations

from datetime import timedelta

from bot.app.scheduler import Periodic
from bot.domain.clock import ManualClock


class Work:
    """Counts its runs; fails while `failing`."""

    def __init__(self) -> None:
        self.runs = 0
        self.failing = False

    def __call__(self) -> None:
        self.runs += 1
        if self.failing:
            raise ConnectionError("Slack is unreachable")


def test_runs_at_once_then_every_interval() -> None:
    clock, work = ManualClock(), Work()
    periodic = Periodic("job", work, every=timedelta(minutes=10))
    assert periodic.run(clock.now())
    clock.advance(timedelta(minutes=9, seconds=59))
    assert not periodic.run(clock.now())
    clock.advance(timedelta(seconds=1))
    assert periodic.run(clock.now())
    assert work.runs == 2


def test_failure_is_retried_sooner_until_it_succeeds() -> None:
    clock, work = ManualClock(), Work()
    periodic = Periodic("job", work, every=timedelta(minutes=10), retry=timedelta(seconds=30))
    assert periodic.tick == timedelta(seconds=30)
    work.failing = True
    assert not periodic.run(clock.now())
    clock.advance(timedelta(seconds=30))
    assert not periodic.run(clock.now())  # still failing: tried again
    work.failing = False
    clock.advance(timedelta(seconds=30))
    assert periodic.run(clock.now())
    clock.advance(timedelta(seconds=30))
    assert not periodic.run(clock.now())  # back to every 10 minutes
    assert work.runs == 3


def test_retry_is_never_later_than_the_interval() -> None:
    periodic = Periodic("job", Work(), every=timedelta(seconds=5), retry=timedelta(seconds=30))
    assert periodic.tick == timedelta(seconds=5)
