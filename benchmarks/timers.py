"""How long until N due timers have all fired, from when the worker processes (started and
connected) are told to go: unassigned critical tickets whose re-ping is due, each fire writing
its card-thread post, the managers' DMs and a timeline row.

    python benchmarks/timers.py [--timers 10000] [--workers 1 3]

SQLite: one process. PostgreSQL (TEST_DATABASE_URL set): once per --workers count, in a
database of its own, created and dropped here.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, make_url, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.clock import SystemClock  # noqa: E402
from bot.outbox.writer import OutboxWriter  # noqa: E402
from bot.people.directory import Directory  # noqa: E402
from bot.service.notify.matrix import Notifier  # noqa: E402
from bot.service.notify.settings import NotifySettings  # noqa: E402
from bot.service.timers.escalation import EscalationPolicy, kinds  # noqa: E402
from bot.service.timers.runner import TimerRunner  # noqa: E402
from bot.service.timers.schedule import Timers  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Timer, tickets_table, timers_table  # noqa: E402

CHUNK = 1000


def seed(url: str, count: int) -> None:
    """`count` unassigned critical tickets, each with a re-ping due a minute ago."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            ids = conn.execute(
                insert(tickets_table).returning(tickets_table.c.id),
                [
                    {
                        "title": f"Site {start + i} offline",
                        "description": "",
                        "priority": "critical",
                        "state": "new",
                        "source": "monitoring",
                        "client_unknown": True,
                        "created_at": now - timedelta(minutes=6),
                        "updated_at": now - timedelta(minutes=6),
                        "version": 1,
                    }
                    for i in range(n)
                ],
            ).scalars()
            conn.execute(
                insert(timers_table),
                [
                    {
                        "key": f"ticket:{tid}:reping",
                        "ticket_id": tid,
                        "kind": "reping",
                        "due_at": now - timedelta(minutes=1),
                        "state": "pending",
                        "fires": 0,
                        "fired_at": None,
                        "data": {"since": (now - timedelta(minutes=6)).isoformat()},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for tid in ids
                ],
            )
    engine.dispose()


def work(url: str, ready: Any, go: Any, results: multiprocessing.Queue[int]) -> None:
    """One worker process: built and connected, then on `go` fire what is due until nothing is."""
    engine = make_engine(url)
    clock = SystemClock()
    directory = Directory(
        lookup=None, clock=clock, managers=["UMAYA", "UMEL"], technicians=["UTOM"]
    )
    notifier = Notifier(
        NotifySettings(tech_channel="CTECHS", critical_mention="<!here>", email_domain=None),
        directory,
        OutboxWriter(clock),
    )
    runner = TimerRunner(
        session_factory=make_session_factory(engine),
        timers=Timers.of(kinds(EscalationPolicy())),
        notifier=notifier,
        clock=clock,
    )
    with engine.connect() as conn:  # connected before the clock starts
        conn.execute(text("SELECT 1"))
    ready.release()
    go.wait()
    results.put(runner.fire_due())
    engine.dispose()


def measure(url: str, count: int, workers: int) -> tuple[float, int]:
    seed(url, count)
    ctx = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = ctx.Queue()
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=work, args=(url, ready, go, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire(timeout=120)
    started = time.perf_counter()
    go.set()
    fired = [results.get(timeout=3600) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    engine = make_engine(url)
    with engine.connect() as conn:
        once = conn.scalar(
            select(func.count()).where(timers_table.c.state == "pending", Timer.fires == 1)
        )
    engine.dispose()
    if sum(fired) != count or once != count:
        raise SystemExit(f"fired {sum(fired)} (rescheduled once: {once}), expected {count}")
    return elapsed, sum(fired)


def report(label: str, count: int, elapsed: float) -> None:
    print(f"{label:<28} {count} timers fired in {elapsed:7.2f} s  ({count / elapsed:7.0f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"timers-bench-{secrets.token_hex(3)}.db"
    try:
        elapsed, fired = measure(f"sqlite:///{tmp}", args.timers, 1)
        report("SQLite, 1 process", fired, elapsed)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)

    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        print("PostgreSQL: skipped (TEST_DATABASE_URL is not set)")
        return
    for workers in args.workers:
        name = f"timers_bench_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        try:
            elapsed, fired = measure(url, args.timers, workers)
            report(f"PostgreSQL, {workers} process(es)", fired, elapsed)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
