"""PostgreSQL: several runners claiming the same due timers at once fire each exactly once; the
timers a killed process had claimed fire on another at once (no lease to wait out)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.timers.runner import TimerRunner
from bot.service.timers.schedule import Firing, TimerKind, Timers
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


# A process that claims due timers (holding their row locks in its transaction) and then hangs.
_CLAIMER = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
conn = engine.connect()
conn.begin()
rows = conn.execute(text(
    "SELECT id FROM timers WHERE state = 'pending' ORDER BY id LIMIT 250 FOR UPDATE SKIP LOCKED"
)).all()
print(len(rows), flush=True)
sys.stdin.read()
"""


def test_the_timers_a_killed_process_had_claimed_fire_at_once_on_another(
    pg_url: str, pg_sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    fired: list[str] = []

    def count(f: Firing) -> datetime | None:
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
    runner = TimerRunner(session_factory=pg_sessions, timers=timers, notifier=notifier, clock=clock)
    claimer = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, pg_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert claimer.stdout is not None and claimer.stdout.readline().strip() == "250"
        assert runner.fire_due() == DUE - 250  # the claimed ones are someone else's
        os.kill(claimer.pid, signal.SIGKILL)
        claimer.wait(10)
        killed = time.monotonic()
        deadline = killed + 30  # the lease the issue asks for: here, nothing to wait out
        done = 0
        while done < 250 and time.monotonic() < deadline:
            done += runner.fire_due()
        assert done == 250, f"{done} of the killed process's timers fired within 30 s"
    finally:
        if claimer.poll() is None:
            claimer.kill()
            claimer.wait(10)
    assert sorted(fired) == sorted(f"count:{n}" for n in range(DUE))
