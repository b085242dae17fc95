"""On PostgreSQL a worker hears the outbox rows another process commits (LISTEN/NOTIFY) and
starts on them at once, not at its next poll."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.config.email import SmtpSettings
from bot.domain.clock import SystemClock
from bot.email.route import EmailRoute
from bot.email.sender import EmailSender
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.policy import DispatchPolicy
from bot.outbox.shared import Outbox
from bot.outbox.writer import OutboxWriter
from bot.sandbox.mail import MailSink
from bot.sandbox.stack import wait_until
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade

# Far longer than the test may take: only a notification can start the delivery in time.
POLL = 60.0


@pytest.fixture
def engines(pg_url: str) -> Iterator[tuple[Engine, Engine]]:
    web, worker = make_engine(pg_url), make_engine(pg_url)
    upgrade(web)
    yield web, worker
    web.dispose()
    worker.dispose()


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as s:
        yield s


def _mail_worker(engine: Engine, sink: MailSink) -> Dispatcher:
    """A worker process that delivers email only."""
    email = EmailRoute(EmailSender(SmtpSettings.from_url(sink.url), "helpdesk@msp.example"))
    return Dispatcher(
        Outbox(make_session_factory(engine), clock=SystemClock()),
        {"email": email},
        policy=DispatchPolicy(poll_interval=POLL),
        channels=("email",),
        worker_id="worker",
    )


def test_a_worker_hears_rows_another_process_commits(
    engines: tuple[Engine, Engine], sink: MailSink
) -> None:
    web, worker_engine = engines
    worker = _mail_worker(worker_engine, sink)
    worker.start()
    try:
        assert worker.listener is not None
        assert worker.listener.listening.wait(10)
        sessions = make_session_factory(web)
        waits = []
        for n in range(5):
            started = time.monotonic()
            with sessions.begin() as s:  # the web process: it wakes no dispatcher of its own
                OutboxWriter(SystemClock()).add(
                    s,
                    channel="email",
                    kind="email",
                    stream=f"email:listen:{n}",
                    payload={
                        "to": "carl@acme.example",
                        "subject": f"mail {n}",
                        "text": "text",
                        "html": "<p>html</p>",
                        "message_id": f"<listen-{n}@msp.example>",
                    },
                )
            wait_until(lambda n=n: len(sink.messages) == n + 1, 10, lambda: "not delivered")
            waits.append(time.monotonic() - started)
        assert max(waits) < 5.0, waits
        print(f"commit → mail at the sink: {', '.join(f'{w * 1000:.0f} ms' for w in waits)}")
    finally:
        worker.stop()


def test_a_transaction_too_big_to_describe_still_wakes_the_worker(
    engines: tuple[Engine, Engine], sink: MailSink
) -> None:
    """Its notification names only the channels (a notification holds 8000 bytes)."""
    web, worker_engine = engines
    worker = _mail_worker(worker_engine, sink)
    worker.start()
    try:
        assert worker.listener is not None
        assert worker.listener.listening.wait(10)
        with make_session_factory(web).begin() as s:
            writer = OutboxWriter(SystemClock())
            for n in range(100):
                writer.add(
                    s,
                    channel="email",
                    kind="email",
                    stream=f"email:big:{n}",
                    target=f"person-{n:03d}-" + "x" * 80,
                    payload={
                        "to": f"person{n}@acme.example",
                        "subject": f"mail {n}",
                        "text": "text",
                        "html": "<p>html</p>",
                        "message_id": f"<big-{n}@msp.example>",
                    },
                )
        wait_until(lambda: len(sink.messages) == 100, 20, lambda: f"{len(sink.messages)} sent")
    finally:
        worker.stop()
