"""How long a manager's App Home with 300 open tickets takes: reading it from the database,
rendering the first page, and views.publish of it to the local Slack emulator (which validates
it as Slack would). Median and p90 over N repeats.

    python benchmarks/app_home.py [--tickets 300] [--repeats 50] [--postgres URL]

SQLite in a temporary directory; with --postgres, also in a database of its own on that
server, created and dropped here.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import create_engine, insert, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.clock import SystemClock  # noqa: E402
from bot.home.reader import HomeReader  # noqa: E402
from bot.people.directory import Directory  # noqa: E402
from bot.sandbox.slack.emulator import SlackEmulator  # noqa: E402
from bot.slack.gateway import SlackGateway  # noqa: E402
from bot.slack.home import home_view  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Base, tickets_table  # noqa: E402

MANAGER = "UMAYA"
TECHS = [f"UTECH{i:02}" for i in range(12)]
people_table = Base.metadata.tables["people"]
chat_messages_table = Base.metadata.tables["chat_messages"]


def seed(url: str, count: int) -> None:
    """`count` open tickets of every priority, a third assigned, some late, each with a card."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        people = conn.execute(
            insert(people_table).returning(people_table.c.id),
            [
                {"slack_user_id": u, "name": f"Tech {u[-2:]}", "refreshed_at": now}
                for u in [MANAGER, *TECHS]
            ],
        ).scalars()
        techs = list(people)[1:]
        ids = conn.execute(
            insert(tickets_table).returning(tickets_table.c.id),
            [
                {
                    "title": f"Problem {i}: printer <!channel> & scanner on floor {i % 9}",
                    "description": "",
                    "priority": ("critical", "high", "medium", "low")[i % 4],
                    "state": "assigned" if i % 3 == 0 else "new",
                    "source": "slack",
                    "client_unknown": False,
                    "assignee_id": techs[i % len(techs)] if i % 3 == 0 else None,
                    "created_at": now - timedelta(hours=i),
                    "updated_at": now - timedelta(minutes=i),
                    "resolve_due_at": now + timedelta(hours=4 - i % 8),
                    "resolve_breached_at": now if i % 5 == 0 else None,
                    "version": 1,
                }
                for i in range(count)
            ],
        ).scalars()
        conn.execute(
            insert(chat_messages_table),
            [
                {
                    "ticket_id": tid,
                    "role": "card",
                    "surface": "slack",
                    "channel": "CTECHS",
                    "ts": f"{1_700_000_000 + tid}.000100",
                    "created_at": now,
                }
                for tid in ids
            ],
        )
    engine.dispose()


def timed(repeats: int, work: Callable[[], object]) -> list[float]:
    spans = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        spans.append((time.perf_counter() - start) * 1000)
    return spans


def line(label: str, spans: list[float]) -> str:
    ordered = sorted(spans)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"  {label:<8} median {statistics.median(spans):7.2f} ms  p90 {p90:7.2f} ms"


def run(label: str, url: str, tickets: int, repeats: int, emu: SlackEmulator) -> None:
    seed(url, tickets)
    engine = make_engine(url)
    clock = SystemClock()
    directory = Directory(lookup=None, clock=clock, managers=[MANAGER], technicians=TECHS)
    reader = HomeReader(
        reads=make_session_factory(engine, read_only=True),
        directory=directory,
        clock=clock,
        workspace_url="https://emulator.slack.test/",
    )
    gateway = SlackGateway(WebClient(token=emu.bot_token, base_url=emu.api_url))
    data = reader.read(MANAGER)
    assert data.ticket_count == tickets, data.ticket_count
    view = home_view(data)
    gateway.publish_home(MANAGER, view)  # warm up; Slack (the emulator) accepts it
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    size = len(json.dumps(view, ensure_ascii=False).encode())

    def fresh() -> dict[str, object]:
        return home_view(reader.read(MANAGER))

    print(f"{label}: {tickets}-ticket manager Home, {repeats} repeats")
    print(line("read", timed(repeats, lambda: reader.read(MANAGER))))
    print(line("render", timed(repeats, lambda: home_view(data))))
    print(line("publish", timed(repeats, lambda: gateway.publish_home(MANAGER, view))))
    print(line("all", timed(repeats, lambda: gateway.publish_home(MANAGER, fresh()))))
    print(f"  first page: {len(blocks)} blocks, {size / 1024:.1f} kB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is made there)")
    args = parser.parse_args()
    emu = SlackEmulator(signing_secret=secrets.token_hex(8), bot_token="xoxb-bench")
    emu.start()
    emu.add_user(MANAGER, "Maya Manager", email="maya@msp.example")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/home.db", args.tickets, args.repeats, emu)
        if args.postgres:
            server = make_url(args.postgres)
            name = f"bench_home_{secrets.token_hex(4)}"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = server.set(database=name).render_as_string(hide_password=False)
                run("PostgreSQL", url, args.tickets, args.repeats, emu)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
