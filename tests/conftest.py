"""Shared fixtures: a clean environment; SQLite and (TEST_DATABASE_URL) PostgreSQL databases,
migrated, with an engine and sessions on request."""

from __future__ import annotations

import io
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError
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


# ---- databases ---------------------------------------------------------------------------
# Migrating costs far more than most tests: the migrations run once per test process (each
# xdist worker is one), and every test gets a copy of their result or finds it emptied.
# tests/storage/test_migrations.py runs the real migrations on an empty database each time.


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test process, which `database_url` copies."""
    path = tmp_path_factory.mktemp("migrated") / "ticketbot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


# Rows the migrations write: what emptying the migrated database keeps.
_KEPT = ("alembic_version",)
# The migrated schema as PostgreSQL describes it: its tables' columns, constraints, indexes,
# triggers and functions, and the migrations' revision.
_SCHEMA = """
SELECT md5(string_agg(part, ' | ' ORDER BY part)) FROM (
    SELECT format('%s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL SELECT proname || ' ' || md5(prosrc) FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'revision ' || version_num FROM alembic_version
) AS schema(part)
"""
_RESTART_SEQUENCES = """
SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'public'::regnamespace
"""


class PostgresDatabases:
    """This test process's own databases on the TEST_DATABASE_URL server, made on first use and
    dropped at the end, so that concurrent runs and workers never touch each other's tables:
    one emptied of everything for each test, one migrated once and emptied of rows for each."""

    def __init__(self, server: str) -> None:
        self.server = make_url(server)
        self.prefix = f"ticketbot_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.made: list[str] = []
        self._urls: dict[str, str] = {}
        self._migrated: Engine | None = None
        self._schema: str | None = None  # the migrated schema's digest (_SCHEMA)
        self._tables: list[str] = []  # its tables, each after those whose keys refer to it

    def empty(self) -> str:
        """The URL of a database with nothing in it, not even the migrations' tables."""
        url = self._database("empty")
        reset_postgres(url)
        return url

    def migrated(self) -> str:
        """The URL of a database migrated to head with no rows but the migrations' own."""
        url = self._database("migrated")
        if self._migrated is None:
            self._migrated = create_engine(url, pool_size=1)
        if self._schema is None or not self._emptied():
            self._migrate(url)  # first use, or a test changed the schema (dropped a table, say)
        return url

    def _emptied(self) -> bool:
        """Delete every row but the migrations' own, if the schema is still the migrated one."""
        assert self._migrated is not None
        try:
            with self._migrated.begin() as conn:
                if conn.scalar(text(_SCHEMA)) != self._schema:
                    return False
                for table in self._tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
                conn.execute(text(_RESTART_SEQUENCES))
        except ProgrammingError:  # alembic_version is gone
            return False
        return True

    def _migrate(self, url: str) -> None:
        assert self._migrated is not None
        self._migrated.dispose()
        reset_postgres(url)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        with self._migrated.connect() as conn:
            self._schema = conn.scalar(text(_SCHEMA))
        tables = MetaData()
        tables.reflect(self._migrated)
        self._tables = [t.name for t in reversed(tables.sorted_tables) if t.name not in _KEPT]

    def _database(self, kind: str) -> str:
        if kind not in self._urls:
            name = f"{self.prefix}_{kind}"
            admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                # A commit need not wait for the disk: these databases do not outlive the run.
                conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
            admin.dispose()
            self.made.append(name)
            self._urls[kind] = self.server.set(database=name).render_as_string(hide_password=False)
        return self._urls[kind]

    def drop(self) -> None:
        if self._migrated is not None:
            self._migrated.dispose()
        if not self.made:
            return
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_postgres: PostgresDatabases | None = None  # this process's, once a test asks


def postgres() -> PostgresDatabases | None:
    """This test process's PostgreSQL databases (None without TEST_DATABASE_URL)."""
    global _postgres
    server = server_url()
    if _postgres is None and server is not None:
        _postgres = PostgresDatabases(server)
    return _postgres


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres is not None:
        _postgres.drop()


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
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database, migrated, with no rows but the migrations' own: SQLite in a temp dir,
    and PostgreSQL when configured."""
    if request.param == "sqlite":
        path = tmp_path / "ticketbot.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    databases = postgres()
    assert databases is not None
    return databases.migrated()


@pytest.fixture(params=_params())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with nothing in it, for the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ticketbot.db'}"
    databases = postgres()
    assert databases is not None
    return databases.empty()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ticketbot.db'}"


@pytest.fixture
def pg_url() -> str:
    """An empty PostgreSQL database (not migrated)."""
    databases = postgres()
    if databases is None:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL)")
    return databases.empty()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated database of `database_url`."""
    engine = make_engine(database_url)
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
