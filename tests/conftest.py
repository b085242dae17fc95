"""Shared fixtures: a clean environment; SQLite and (TEST_DATABASE_URL) PostgreSQL databases,
migrated, with an engine and sessions on request."""

from __future__ import annotations

import io
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.people.directory import Directory
from bot.people.identity import SlackUser
from bot.telemetry.logs import JsonFormatter
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN, Statements, StaticUsers

SCRUBBED_PREFIXES = ("SLACK_", "TEAMS_", "SMTP_", "TICKETBOT_", "EMAIL_", "ALERT_")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def json_log() -> Iterator[Callable[[str], io.StringIO]]:
    """`json_log(name)`: what the logger `name` writes from now on, formatted as LOG_FORMAT=json
    does (one JSON object per line); the handler is removed after the test."""
    attached: list[tuple[logging.Logger, logging.Handler]] = []

    def attach(name: str) -> io.StringIO:
        out = io.StringIO()
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        attached.append((logger, handler))
        return out

    yield attach
    for logger, handler in attached:
        logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Slack/SMTP settings or proxies leak in from the machine running the tests."""
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES) or key in PROXIES or key == "DATABASE_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")


def server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


_session_db: dict[str, str] = {}


def postgres_url() -> str | None:
    """A database of this test session's own on the TEST_DATABASE_URL server (made on first use),
    so that concurrent runs against one server never reset each other's tables."""
    base = server_url()
    if base is None:
        return None
    if "url" not in _session_db:
        url = make_url(base)
        name = f"ticketbot_test_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        _session_db["url"] = url.set(database=name).render_as_string(hide_password=False)
        _session_db["name"] = name
        _session_db["base"] = base
    return _session_db["url"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "name" not in _session_db:
        return
    admin = create_engine(make_url(_session_db["base"]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_session_db["name"]}" WITH (FORCE)'))
    admin.dispose()


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _params() -> list[object]:
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    server_url() is None, reason="TEST_DATABASE_URL is not set (PostgreSQL)"
                ),
            ],
        ),
    ]


@pytest.fixture(params=_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite in a temp dir, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ticketbot.db'}"
        return
    url = postgres_url()
    assert url is not None
    reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ticketbot.db'}"


@pytest.fixture
def pg_url() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL)")
    reset_postgres(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database of `database_url`."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


# ---- service-level fixtures: a ManualClock and a Directory over a fake users.info --------
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
