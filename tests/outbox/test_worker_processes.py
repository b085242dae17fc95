"""Two `ticketbot run --role worker` processes on PostgreSQL deliver one backlog; one is
SIGKILLed midway: every message reaches the emulator and the mail sink once, no channel faster
than Slack's pace, and the killed worker's messages go out from the other after the lease."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.domain.clock import SystemClock
from bot.outbox.writer import OutboxWriter
from bot.sandbox.mail import MailSink
from bot.sandbox.process import BotProcess
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.slack.records import ApiCall
from bot.sandbox.stack import CAST, wait_until
from storage.engine import make_engine, make_session_factory
from storage.models import OutboxRow
from tests.outbox.rows import pending_mails, pending_posts
from tests.outbox.timing import faster_than, most_within

LEASE = 3.0  # seconds
CHANNELS = (CAST.client_channel, CAST.tech_channel, CAST.employee)  # the last: a DM
PER_CHANNEL = 10
MAILS = 20


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-workers") as emu:
        emu.add_user(CAST.manager, "Maya Manager", email="maya@msp.example")
        emu.add_user(CAST.tech1, "Tom Tech", email="tom@msp.example")
        emu.add_user(CAST.employee, "Erin Employee", email="erin@acme.example")
        emu.add_channel(CAST.tech_channel, "technicians", members=[CAST.manager, CAST.tech1])
        emu.add_channel(CAST.client_channel, "acme-help", members=[CAST.employee])
        emu.enforce_rate_limits = True
        yield emu


def test_a_worker_killed_midway_loses_and_repeats_nothing(pg_url: str, emu: SlackEmulator) -> None:
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    with MailSink() as sink:
        settings = {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": CAST.tech_channel,
            "TICKETBOT_MANAGERS": CAST.manager,
            "DATABASE_URL": pg_url,
            "SMTP_URL": sink.url,
            "EMAIL_FROM": "helpdesk@msp.example",
            "TICKETBOT_OUTBOX_LEASE": f"{LEASE:.0f}s",
        }
        workers = [BotProcess(settings, role="worker") for _ in range(2)]
        workers[0].migrate()
        try:
            for w in workers:
                w.start()
            writer = OutboxWriter(SystemClock())
            with sessions.begin() as s:  # as a web process writes them
                pending_posts(s, writer, CHANNELS, PER_CHANNEL)
                pending_mails(s, writer, MAILS, "worker")

            def posted() -> list[ApiCall]:
                return [c for c in emu.calls_to("chat.postMessage") if c.ok]

            wait_until(lambda: len(posted()) >= 9, 30, lambda: f"{len(posted())} posted")
            workers[0].kill()
            killed_at, before = time.monotonic(), len(posted())

            def idle() -> bool:
                with sessions() as s:
                    busy = s.scalar(
                        select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))
                    )
                return busy == 0

            wait_until(idle, 90, lambda: "the backlog was never delivered")
            took = time.monotonic() - killed_at
        finally:
            for w in workers:
                w.stop()

        posts = [c for c in emu.calls_to("chat.postMessage") if c.ok]
        counts = Counter(str(c.params["text"]) for c in posts)
        assert set(counts) == {f"{ch} {i}" for ch in CHANNELS for i in range(PER_CHANNEL)}
        assert set(counts.values()) == {1}, [t for t, n in counts.items() if n > 1]
        assert emu.stats.ratelimited == 0
        assert faster_than(posts, rate=1.0, burst=3) == []
        ids = Counter(m.message["Message-ID"] for m in sink.messages)
        assert set(ids) == {f"<worker-{i}@msp.example>" for i in range(MAILS)}
        assert set(ids.values()) == {1}
        print(
            f"a worker killed after {before} posts; the rest done {took:.1f} s later; "
            f"most posts in one channel within 5 s: {most_within(posts, 5.0)}"
        )
    engine.dispose()
