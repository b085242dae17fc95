"""PostgreSQL: several runners claiming the same due timers at once fire each exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import ManualClock
from bot.service.directory import Directory
from bot.service.notify import Notifier, NotifySettings
from bot.service.outbox import OutboxWriter
from bot.service.timers import Firing, TimerKind, Timers
from bot.timer_runner import TimerRunner
from storage.models import Timer

DUE = 500
RUNNERS = 4


def test_four_runners_fire_500_due_timers_exactly_once_each(
    pg_sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    fired: list[str] = []
    lock = threading.Lock()

    def count(f: Firing) -> datetime | None:
        with lock:
            fired.append(f.key)
        return None

    timers = Timers.of([TimerKind("count", fire=count)])
    notifier = Notifier(
        NotifySettings(tech_channel="CTECHS", critical_mention="<!here>", email_domain=None),
        directory,
        OutboxWriter(clock),
    )
    with pg_sessions.begin() as s:
        for n in range(DUE):
            timers.schedule(s, f"count:{n}", "count", clock.now(), clock.now())
    clock.advance(timedelta(seconds=1))
    runners = [
        TimerRunner(
            session_factory=pg_sessions, timers=timers, notifier=notifier, clock=clock, batch=10
        )
        for _ in range(RUNNERS)
    ]
    start = threading.Barrier(RUNNERS)
    counts = [0] * RUNNERS

    def run(i: int) -> None:
        start.wait()
        counts[i] = runners[i].fire_due()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sum(counts) == DUE
    assert Counter(fired).most_common(1)[0][1] == 1 and len(fired) == DUE
    with pg_sessions() as s:
        states = dict(s.execute(select(Timer.state, func.count()).group_by(Timer.state)).all())
    assert states == {"fired": DUE}
