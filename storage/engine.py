"""Engine and session factory: SQLite with WAL and a busy timeout, PostgreSQL with a pool."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

PING_AFTER_IDLE = 1.0  # seconds a pooled connection may sit unused before it is pinged
_IDLE_SINCE = "ticketbot.idle_since"
_READ_ONLY = "ticketbot_read_only"  # an execution option: transactions that only read
_FIRST = "ticketbot_write_first"  # an execution option: short writes that go before others


def make_engine(
    url: str, *, echo: bool = False, idle_clock: Callable[[], float] = time.monotonic
) -> Engine:
    """Build an engine for `url`; SQLite gets WAL, foreign keys and a 30 s busy timeout.
    `idle_clock` (seconds) times how long a PostgreSQL connection sat unused in the pool."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; we issue BEGIN IMMEDIATE ourselves
            # so that writers queue on the busy timeout instead of failing on lock upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # One writer at a time anyway (SQLite): queue this process's writers on a lock instead of
        # in SQLite's busy handler, which sleeps in growing steps and makes the tail latency.
        writer = _WriterQueue()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if not memory and conn.get_execution_options().get(_READ_ONLY):
                # Deferred: in WAL mode a reader sees the last commit and never waits for a writer.
                # (An in-memory database is one shared connection: its readers queue too.)
                _sqlite(conn, "BEGIN")
                return
            writer.acquire(first=bool(conn.get_execution_options().get(_FIRST)))
            try:
                _sqlite(conn, "BEGIN IMMEDIATE")
            except BaseException:
                writer.release()
                raise
            conn.info["ticketbot.writer"] = True

        # These events come *before* the DBAPI commit or rollback. Ending the transaction here,
        # then letting the next writer in, keeps its BEGIN IMMEDIATE from meeting our still-open
        # transaction and sleeping in SQLite's busy handler; pysqlite's own commit() or rollback()
        # that follows finds no transaction and does nothing.
        @event.listens_for(engine, "commit")
        def _sqlite_commit(conn: Any) -> None:
            _sqlite_end(conn, "COMMIT")

        @event.listens_for(engine, "rollback")
        def _sqlite_rollback(conn: Any) -> None:
            _sqlite_end(conn, "ROLLBACK")

        def _sqlite_end(conn: Any, sql: str) -> None:
            if not conn.info.pop("ticketbot.writer", False):
                return
            try:
                # SQLite itself ends the transaction on some errors: then there is nothing to end.
                if not (conn.closed or conn.invalidated) and _in_transaction(conn):
                    _sqlite(conn, sql)
            finally:
                writer.release()

        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)

    # A connection that sat unused in the pool may have been dropped (a database restart, a
    # firewall's idle timeout): it is pinged before use. One reused within a second is not; the
    # ping (SQLAlchemy's pool_pre_ping does it on every checkout) would be one more round trip
    # per request. A connection that dies in use is invalidated with the whole pool, as always.
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = idle_clock()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or idle_clock() - since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as e:
            raise InvalidatePoolError(f"connection failed its ping: {e}") from e

    return engine


def _sqlite(conn: Any, sql: str) -> None:
    """Run a transaction statement on pysqlite itself: SQLAlchemy's execution machinery costs
    several times the statement. Errors are wrapped as SQLAlchemy wraps them."""
    try:
        conn.connection.dbapi_connection.execute(sql)
    except sqlite3.Error as e:
        raise DBAPIError.instance(sql, None, e, sqlite3.Error) from e


def _in_transaction(conn: Any) -> bool:
    return bool(conn.connection.dbapi_connection.in_transaction)


def make_session_factory(
    engine: Engine, *, read_only: bool = False, write_first: bool = False
) -> sessionmaker[Session]:
    """Sessions on `engine`. On SQLite, a `read_only` session's transactions (which must not
    write) skip the queue of writers, and a `write_first` session's go to its head: for the
    outbox's own short bookkeeping, so that delivery keeps pace with a burst of requests."""
    options = {_READ_ONLY: read_only, _FIRST: write_first}
    bind = engine.execution_options(**options) if read_only or write_first else engine
    return sessionmaker(bind, expire_on_commit=False)


class _WriterQueue:
    """The one SQLite writer of this process at a time, in arrival order, except that `first`
    waiters go before the others. The lock passes straight to the next waiter: only that
    thread wakes up."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._first: deque[threading.Lock] = deque()
        self._others: deque[threading.Lock] = deque()

    def acquire(self, *, first: bool = False) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            (self._first if first else self._others).append(turn)
        turn.acquire()  # released by release(), which hands the writer over to us

    def release(self) -> None:
        with self._mutex:
            waiting = self._first or self._others
            if waiting:
                waiting.popleft().release()
            else:
                self._held = False
