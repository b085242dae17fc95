"""Leases: a row claimed by a process that was killed is sent by another once its lease runs
out (and not before); a live process extends the leases of the rows it holds."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.claims import Claims
from bot.outbox.policy import DispatchPolicy
from bot.sandbox.stack import CAST, Stack, wait_until
from bot.telemetry.metrics import Metrics
from tests.outbox.rows import add_row, outbox_row

LEASE = timedelta(seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stack(database_url: str, clock: ManualClock) -> Iterator[Stack]:
    with Stack(database_url=database_url, clock=clock) as s:
        yield s


def _posts(stack: Stack, text: str) -> int:
    return sum(
        1 for c in stack.emu.calls_to("chat.postMessage") if c.ok and c.params.get("text") == text
    )


def test_the_lease_is_a_setting_of_30_seconds_by_default(stack: Stack) -> None:
    assert stack.settings.outbox_lease == LEASE


def test_a_killed_processs_row_is_sent_by_another_once_its_lease_runs_out(
    stack: Stack, clock: ManualClock
) -> None:
    sessions = stack.rt.sessions
    held = add_row(
        sessions,
        clock.now(),
        channel="slack",
        kind="post",
        stream="test:held",
        payload={"channel": CAST.client_channel, "text": "held by a dead process"},
        target=CAST.client_channel,
        held_until=clock.now() + LEASE,
    )
    clock.advance(LEASE - timedelta(seconds=1))
    # A row of another conversation goes at once: the dispatcher ran, and left the held one.
    free = add_row(
        sessions,
        clock.now(),
        channel="slack",
        kind="post",
        stream="test:free",
        payload={"channel": CAST.tech_channel, "text": "free"},
        target=CAST.tech_channel,
    )
    stack.rt.dispatchers[0].wake()
    wait_until(lambda: outbox_row(sessions, free).status == "done", 15)
    assert outbox_row(sessions, held).status == "sending"
    assert _posts(stack, "held by a dead process") == 0

    clock.advance(timedelta(seconds=1))
    stack.wait_delivered()
    row = outbox_row(sessions, held)
    assert (row.status, row.attempts) == ("done", 1)
    assert _posts(stack, "held by a dead process") == 1


def test_a_live_process_extends_the_leases_it_holds(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    claims = Claims(
        sessions=sessions,
        clock=clock,
        policy=DispatchPolicy(lease=LEASE),
        metrics=Metrics(),
        channels=None,
        skip_locked=sessions.kw["bind"].dialect.name == "postgresql",
    )
    ids = [
        add_row(
            sessions,
            clock.now(),
            channel="email",
            kind="email",
            stream=f"test:{n}",
            payload={"n": n},
        )
        for n in range(3)
    ]
    claimed = claims.claim(claims.queries(kind=None).claim, [], lambda *_: 1.0)
    assert sorted(r.id for r in claimed) == ids

    clock.advance(LEASE / 2)
    assert claims.renew() == 3
    assert all(outbox_row(sessions, i).locked_until == clock.now() + LEASE for i in ids)

    claims.finish(ids[0], status="done", result={}, count_attempt=True)
    clock.advance(LEASE * 2)  # the process stalled past its lease
    with caplog.at_level(logging.WARNING):
        assert claims.renew() == 0
    assert f"{ids[1]}, {ids[2]}" in caplog.text and "may send them too" in caplog.text
