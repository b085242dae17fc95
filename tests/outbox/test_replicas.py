"""Several delivery processes (each a dispatcher with engines of its own) on one PostgreSQL
database deliver one backlog: each message once, no channel faster than Slack's pace, and the
rows a killed process held sent by the others once their lease runs out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.domain.clock import SystemClock
from bot.email.route import EmailRoute
from bot.email.sender import EmailSender
from bot.home.reader import HomeReader
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.policy import DispatchPolicy
from bot.outbox.shared import Outbox
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.sandbox.stack import CAST, Stack
from bot.slack.delivery import SlackDelivery
from bot.slack.gateway import SlackGateway
from bot.telemetry.metrics import Metrics
from storage.engine import make_engine, make_session_factory
from tests.acceptance.helpers import mails_to
from tests.outbox.rows import add_row, outbox_row, pending_mails, pending_posts
from tests.outbox.timing import faster_than, most_within

LEASE = timedelta(seconds=2)
POLICY = DispatchPolicy(poll_interval=0.2, lease=LEASE)
CHANNELS = (CAST.client_channel, CAST.tech_channel, CAST.employee)  # the last: a DM
PER_CHANNEL = 8
MAILS = 12
OTHERS = 3  # processes besides the stack's own


@pytest.fixture
def stack(pg_url: str) -> Iterator[Stack]:
    with Stack(database_url=pg_url, policy=POLICY, extra_env={"TICKETBOT_OUTBOX_LEASE": "2s"}) as s:
        s.emu.enforce_rate_limits = True
        yield s


@pytest.fixture
def others(stack: Stack, pg_url: str) -> Iterator[list[Dispatcher]]:
    engines: list[Engine] = []
    dispatchers = []
    assert stack.settings.smtp is not None
    for n in range(OTHERS):
        engine = make_engine(pg_url)
        engines.append(engine)
        clock = SystemClock()
        outbox = Outbox(make_session_factory(engine), clock=clock, metrics=Metrics())
        slack = SlackGateway(WebClient(token=stack.emu.bot_token, base_url=stack.emu.api_url))
        directory = Directory(lookup=slack, clock=clock, managers=[CAST.manager])
        home = HomeReader(reads=outbox.reads, directory=directory, clock=clock)
        routes = {
            "slack": SlackDelivery(outbox, slack=slack, tech_channel=CAST.tech_channel, home=home),
            "email": EmailRoute(EmailSender(stack.settings.smtp, "helpdesk@msp.example")),
        }
        dispatchers.append(Dispatcher(outbox, routes, policy=POLICY, worker_id=f"replica-{n}"))
    yield dispatchers
    for d in dispatchers:
        d.stop()
    for engine in engines:
        engine.dispose()


def _backlog(stack: Stack) -> None:
    writer = OutboxWriter(stack.clock)
    with stack.rt.sessions.begin() as s:
        pending_posts(s, writer, CHANNELS, PER_CHANNEL)
        pending_mails(s, writer, MAILS, "test")


def test_four_processes_deliver_one_backlog_once_within_the_pace(
    stack: Stack, others: list[Dispatcher]
) -> None:
    now = stack.clock.now()
    held = [
        add_row(
            stack.rt.sessions,
            now,
            channel="slack",
            kind="post",
            stream=f"test:held:{i}",
            payload={"channel": CAST.client_channel, "text": f"held {i}", "blocks": []},
            target=CAST.client_channel,
            held_until=now + LEASE,  # by a process that was killed
        )
        for i in range(2)
    ]
    for d in others:
        d.start()
    _backlog(stack)
    stack.wait_delivered(60)

    posts = [c for c in stack.emu.calls_to("chat.postMessage") if c.ok]
    counts = Counter(str(c.params["text"]) for c in posts)
    expected = {f"{ch} {i}" for ch in CHANNELS for i in range(PER_CHANNEL)} | {"held 0", "held 1"}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    assert stack.emu.stats.ratelimited == 0
    assert {str(c.params["channel"]) for c in posts} == set(CHANNELS)
    assert faster_than(posts, rate=1.0, burst=3) == []
    taken_over = []
    for row_id in held:
        row = outbox_row(stack.rt.sessions, row_id)
        assert row.status == "done" and row.delivered_at is not None
        taken_over.append((row.delivered_at - now).total_seconds())
    assert max(taken_over) < (LEASE + timedelta(seconds=5)).total_seconds()
    print(
        f"most posts in one channel within 5 s: {most_within(posts, 5.0)}; "
        f"a killed process's rows sent {', '.join(f'{s:.1f}' for s in taken_over)} s "
        f"after their claim (lease {LEASE.total_seconds():.0f} s)"
    )

    delivered = [
        d.metrics.value("ticketbot_outbox_delivered_total", channel="slack") for d in others
    ]
    assert sum(delivered) > 0, "the other processes delivered nothing"

    assert stack.mail is not None
    for i in range(MAILS):
        (mail,) = mails_to(stack, f"person{i}@acme.example")
        assert mail["Message-ID"] == f"<test-{i}@msp.example>"
