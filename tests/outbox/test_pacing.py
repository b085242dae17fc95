"""The per-conversation pace, kept in the database: a GCRA bucket, Retry-After pauses, the
technician channel's token kept for an alert storm's summary, and one pace for every process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.pacing import PaceRule, Paces
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TECH = "CTECH"


def _paces(sessions: sessionmaker[Session], rate: float = 0.9) -> Paces:
    return Paces(
        sessions,
        {
            "slack": PaceRule(rate, 3, reserved={TECH: 1.0}),
            "teams": PaceRule(1.8, 4),
        },
    )


@pytest.fixture
def paces(sessions: sessionmaker[Session]) -> Paces:
    return _paces(sessions)


@pytest.fixture
def pg_engines(pg_url: str) -> Iterator[list[Engine]]:
    """Four engines on one PostgreSQL database: four processes' connections (on SQLite only
    one process delivers)."""
    engines = [make_engine(pg_url) for _ in range(4)]
    upgrade(engines[0])
    yield engines
    for e in engines:
        e.dispose()


def test_ordinary_posts_leave_the_reserved_token_for_an_urgent_one(paces: Paces) -> None:
    assert paces.take("slack", TECH, T0) is None
    assert paces.take("slack", TECH, T0) is None
    retry_at = paces.take("slack", TECH, T0)  # the third token is kept
    assert retry_at is not None and retry_at > T0
    paces.look(T0)
    assert TECH in paces.blocked(T0)
    assert paces.available("slack", TECH, T0) == pytest.approx(0.0, abs=1e-5)
    assert paces.take("slack", TECH, T0, urgent=True) is None  # the storm summary goes at once
    assert paces.take("slack", TECH, T0, urgent=True) is not None


def test_the_reserve_refills_before_ordinary_posts_go_again(
    sessions: sessionmaker[Session],
) -> None:
    paces = _paces(sessions, rate=1.0)
    for _ in range(3):
        assert paces.take("slack", TECH, T0, urgent=True) is None
    # Ordinary posts need two tokens (one to send, one kept): two seconds from empty.
    paces.look(T0)
    assert paces.next_free_in(T0) == pytest.approx(2.0)
    assert paces.take("slack", TECH, T0 + timedelta(seconds=1.5)) == T0 + timedelta(seconds=2)
    assert paces.take("slack", TECH, T0 + timedelta(seconds=2)) is None


def test_other_channels_keep_their_whole_burst(paces: Paces) -> None:
    assert [paces.take("slack", "CCLIENT", T0) for _ in range(3)] == [None, None, None]
    assert paces.take("slack", "CCLIENT", T0) is not None
    paces.look(T0)
    assert paces.blocked(T0) == ["CCLIENT"]
    assert paces.available("teams", "19:conversation", T0) == 4.0


def test_each_dispatcher_reads_only_the_paces_its_routes_take_from(paces: Paces) -> None:
    """One Paces serves every dispatcher of a process."""
    assert [paces.take("slack", "CCLIENT", T0) for _ in range(3)] == [None, None, None]
    paces.look(T0)
    assert paces.blocked(T0, ["slack"]) == ["CCLIENT"]
    assert paces.next_free_in(T0, ["slack"]) == pytest.approx(1 / 0.9)
    assert paces.blocked(T0, ["teams"]) == []
    assert paces.next_free_in(T0, ["teams"]) is None


def test_a_retry_after_pause_stops_urgent_posts_too(paces: Paces) -> None:
    until = T0 + timedelta(seconds=30)
    paces.pause("slack", TECH, until)
    assert paces.take("slack", TECH, T0, urgent=True) == until
    paces.look(T0)
    assert paces.available("slack", TECH, T0) == 0.0
    assert paces.next_free_in(T0) == pytest.approx(30.0)
    assert paces.take("slack", TECH, until, urgent=True) is None


def test_two_processes_share_one_pace(pg_engines: list[Engine]) -> None:
    """A post taken by one process counts against every other's: the pace is per conversation,
    not per process."""
    paces, other = (_paces(make_session_factory(e)) for e in pg_engines[:2])
    assert paces.take("slack", "CCLIENT", T0) is None
    assert other.take("slack", "CCLIENT", T0) is None
    assert paces.take("slack", "CCLIENT", T0) is None
    assert other.take("slack", "CCLIENT", T0) == T0 + timedelta(seconds=1 / 0.9)
    other.look(T0)
    assert other.blocked(T0) == ["CCLIENT"]


def test_concurrent_takers_never_exceed_the_pace(pg_engines: list[Engine]) -> None:
    """Four processes' threads take from one conversation at once, on a clock standing still:
    exactly the burst goes."""
    takers = [_paces(make_session_factory(e)) for e in pg_engines]
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(takers))

    def run(p: Paces) -> None:
        start.wait()
        n = sum(p.take("slack", "CBUSY", T0) is None for _ in range(10))
        with lock:
            granted.append(n)

    threads = [threading.Thread(target=run, args=(p,)) for p in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(granted) == 3


def test_threads_of_one_process_never_exceed_the_pace(paces: Paces) -> None:
    """A dispatcher's lanes take from one pace at once (in memory on SQLite)."""
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        n = sum(paces.take("slack", "CBUSY", T0) is None for _ in range(10))
        with lock:
            granted.append(n)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(granted) == 3
