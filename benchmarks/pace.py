"""The delivery pace: what one take (on PostgreSQL a post's UPDATE … RETURNING; in memory on
SQLite) and one look (a pass's reading of the conversations out of budget) cost, beside the
floor of the same round: a transaction that only runs SELECT 1 (the machine may be busy).

    python benchmarks/pace.py [--postgres URL] [--takes 2000] [--targets 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.outbox.pacing import LOOK_EVERY, PaceRule, Paces  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def measure(url: str, takes: int, targets: int) -> tuple[list[float], list[float], list[float]]:
    engine = make_engine(url)
    upgrade(engine)
    paces = Paces(
        make_session_factory(engine, write_first=True),
        {"slack": PaceRule(0.9, 3)},
        reads=make_session_factory(engine, read_only=True),
    )
    floor = make_session_factory(engine, write_first=True)
    take_ms, look_ms, floor_ms = [], [], []
    for n in range(takes):
        now = T0 + timedelta(seconds=n * 0.01)
        started = time.perf_counter()
        paces.take("slack", f"C{n % targets:05d}", now)
        take_ms.append((time.perf_counter() - started) * 1000)
        if n % 10 == 0:
            started = time.perf_counter()
            paces.look(now)
            look_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with floor.begin() as s:
                s.execute(text("SELECT 1"))
            floor_ms.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return take_ms, look_ms, floor_ms


def show(label: str, take_ms: list[float], look_ms: list[float], floor_ms: list[float]) -> None:
    q = statistics.quantiles(take_ms, n=100)
    lq = statistics.quantiles(look_ms, n=100)
    fq = statistics.quantiles(floor_ms, n=100)
    print(
        f"{label:<11} take p50 {q[49]:.2f} ms ({q[49] / fq[49]:.1f}× floor) p99 {q[98]:.2f} ms   "
        f"look per pass (a read every {LOOK_EVERY} s at most) p50 {lq[49]:.2f} ms "
        f"p99 {lq[98]:.2f} ms   "
        f"floor p50 {fq[49]:.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--takes", type=int, default=2000)
    parser.add_argument("--targets", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        show("SQLite", *measure(f"sqlite:///{Path(tmp) / 'pace.db'}", args.takes, args.targets))
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"ticketbot_pace_{os.getpid()}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            show("PostgreSQL", *measure(url, args.takes, args.targets))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
