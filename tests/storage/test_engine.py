"""make_engine: PostgreSQL pings only connections that sat idle; SQLite's writer lock is released
whichever way a transaction ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.sandbox.stack import wait_until
from storage.engine import PING_AFTER_IDLE, make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Person

# ---- PostgreSQL: a ping after PING_AFTER_IDLE seconds unused, none before ------------------


class IdleClock:
    """The engine's idle clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def pass_idle_period(self) -> None:
        self.now += PING_AFTER_IDLE + 0.5


@pytest.fixture
def idle_clock() -> IdleClock:
    return IdleClock()


@pytest.fixture
def pg_engine(pg_url: str, idle_clock: IdleClock) -> Iterator[Engine]:
    engine = make_engine(pg_url, idle_clock=idle_clock)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_admin(pg_url: str) -> Iterator[Engine]:
    """A connection of its own (outside the engine under test) to watch and kill backends."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


def _last_statement(admin: Engine, pid: int) -> str | None:
    """What backend `pid` last ran (pg_stat_activity.query); None once it is gone."""
    with admin.connect() as conn:
        query = "SELECT query FROM pg_stat_activity WHERE pid = :pid"
        return conn.execute(text(query), {"pid": pid}).scalar_one_or_none()


def _backend_pid(engine: Engine) -> int:
    """Use a pooled connection once; its backend's pid."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_connection_reused_within_the_idle_period_is_not_pinged(
    pg_engine: Engine, pg_admin: Engine, idle_clock: IdleClock
) -> None:
    pid = _backend_pid(pg_engine)
    before = _last_statement(pg_admin, pid)

    with pg_engine.connect() as conn:  # checkout: a ping would be a statement of its own
        assert _last_statement(pg_admin, pid) == before
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid

    idle_clock.pass_idle_period()
    with pg_engine.connect() as conn:  # after the idle period: pinged on checkout
        assert _last_statement(pg_admin, pid) != before
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid


def test_idle_connection_whose_backend_died_is_replaced_on_checkout(
    pg_engine: Engine, pg_admin: Engine, idle_clock: IdleClock
) -> None:
    pid = _backend_pid(pg_engine)
    with pg_admin.connect() as conn:
        killed = conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    assert killed is True
    wait_until(lambda: _last_statement(pg_admin, pid) is None, 10, lambda: f"{pid} still up")
    idle_clock.pass_idle_period()

    with pg_engine.connect() as conn:
        replacement = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert conn.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert replacement != pid
    assert _backend_pid(pg_engine) == replacement  # and it is the one pooled now


# ---- SQLite: one writer at a time, released on commit and on every kind of rollback --------


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _person(slack_id: str) -> dict[str, object]:
    return {"slack_user_id": slack_id, "name": slack_id, "refreshed_at": datetime.now(UTC)}


def _write_from_another_thread(sessions: sessionmaker[Session], slack_id: str) -> None:
    """Insert a person on a thread of its own; fail (not hang) when the writer lock is held."""
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with sessions.begin() as s:
                s.execute(insert(Person), _person(slack_id))
        except BaseException as e:  # handed to the test thread
            failures.append(e)

    writer = threading.Thread(target=write, daemon=True)  # daemon: a stuck one can't hang pytest
    writer.start()
    writer.join(timeout=10)
    assert not writer.is_alive(), "the next writer is still waiting for the writer lock"
    assert failures == []


def _slack_ids(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as s:
        return list(s.scalars(select(Person.slack_user_id).order_by(Person.id)))


def test_failed_statement_rolls_back_and_the_next_writer_gets_in(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    with sqlite_sessions.begin() as s:
        s.execute(insert(Person), _person("UFIRST"))

    with pytest.raises(IntegrityError), sqlite_sessions.begin() as s:
        s.execute(insert(Person), _person("UPARTIAL"))
        s.execute(insert(Person), _person("UFIRST"))  # unique slack_user_id

    _write_from_another_thread(sqlite_sessions, "UNEXT")
    assert _slack_ids(sqlite_sessions) == ["UFIRST", "UNEXT"]


def test_transaction_sqlite_ended_itself_releases_the_writer(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    with sqlite_sessions.begin() as s:
        s.execute(insert(Person), _person("UFIRST"))

    # OR ROLLBACK: on the conflict SQLite rolls the whole transaction back by itself, so there
    # is no transaction left for the session's rollback to end.
    conflict = text(
        "INSERT OR ROLLBACK INTO people (slack_user_id, name, refreshed_at)"
        " VALUES ('UFIRST', 'again', CURRENT_TIMESTAMP)"
    )
    with pytest.raises(IntegrityError), sqlite_sessions.begin() as s:
        s.execute(insert(Person), _person("UPARTIAL"))
        s.execute(conflict)

    _write_from_another_thread(sqlite_sessions, "UNEXT")
    assert _slack_ids(sqlite_sessions) == ["UFIRST", "UNEXT"]
    with sqlite_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 2
