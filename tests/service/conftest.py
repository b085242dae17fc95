"""A migrated database, a ManualClock and a Directory over a fake users.info, for service tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import ManualClock
from bot.service.directory import Directory, SlackUser
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade

MANAGER = "UMAYA"
TECHNICIAN = "UTOM"
EMPLOYEE = "UERIN"


class StaticUsers:
    """users.info over a fixed table (the directory's UserLookup); no channel members."""

    def __init__(self, *users: SlackUser) -> None:
        self.users = {u.id: u for u in users}

    def user_info(self, user_id: str) -> SlackUser | None:
        return self.users.get(user_id)

    def channel_members(self, channel_id: str) -> list[str]:
        return []


class Statements:
    """The SQL an engine sends, recorded with a `before_cursor_execute` listener."""

    def __init__(self, engine: Engine) -> None:
        self.sent: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.sent.append(statement)

    def clear(self) -> None:
        self.sent.clear()

    def selects_from(self, table: str) -> list[str]:
        reads = re.compile(rf"^\s*SELECT\b.*\bFROM {table}\b", re.IGNORECASE | re.DOTALL)
        return [s for s in self.sent if reads.search(s)]


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """PostgreSQL only: for races that SQLite's one writer at a time rules out."""
    engine = make_engine(pg_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(pg_engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def users() -> StaticUsers:
    return StaticUsers(
        SlackUser(MANAGER, "Maya Manager", "maya@msp.example"),
        SlackUser(TECHNICIAN, "Tom Tech", "tom@msp.example"),
        SlackUser(EMPLOYEE, "Erin Employee", "erin@acme.example"),
    )


@pytest.fixture
def directory(users: StaticUsers, clock: ManualClock) -> Directory:
    return Directory(lookup=users, clock=clock, managers=[MANAGER], technicians=[TECHNICIAN])


@pytest.fixture
def statements(engine: Engine) -> Statements:
    return Statements(engine)
