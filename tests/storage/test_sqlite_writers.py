"""SQLite in one process: readers never queue behind the writer, and the outbox's own short
writes go before the requests' waiting ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from bot.sandbox.stack import wait_until
from storage.engine import _WriterQueue, make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Person


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _people(engine: Engine, *, read_only: bool) -> int:
    with make_session_factory(engine, read_only=read_only)() as s:
        return int(s.scalar(select(func.count()).select_from(Person)) or 0)


@contextmanager
def _uncommitted_write(engine: Engine) -> Iterator[None]:
    """Inside: another thread holds a write transaction that has inserted a person; it commits
    when the block ends."""
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with make_session_factory(engine).begin() as s:
            s.execute(
                insert(Person).values(
                    slack_user_id="UWRITER", name="Writer", refreshed_at=datetime.now(UTC)
                )
            )
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        thread.join(10)


def test_a_read_only_session_reads_while_a_writer_holds_the_database(engine: Engine) -> None:
    seen: list[int] = []
    with _uncommitted_write(engine):
        reader = threading.Thread(target=lambda: seen.append(_people(engine, read_only=True)))
        reader.start()
        reader.join(5)
        assert seen == [0], "the reader waited for the writer, or saw its uncommitted row"
    assert _people(engine, read_only=True) == 1


def test_first_writers_go_before_writers_already_waiting() -> None:
    queue = _WriterQueue()
    order: list[str] = []
    queue.acquire()

    def write(name: str, *, first: bool) -> threading.Thread:
        def run() -> None:
            queue.acquire(first=first)
            order.append(name)
            queue.release()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def waiting(n: int) -> bool:
        return len(queue._first) + len(queue._others) == n

    request = write("request", first=False)
    wait_until(lambda: waiting(1), 5)
    outbox = write("outbox", first=True)
    wait_until(lambda: waiting(2), 5)
    queue.release()
    request.join(5)
    outbox.join(5)
    assert order == ["outbox", "request"]


def test_a_writer_waits_while_a_first_writer_is_queued() -> None:
    queue = _WriterQueue()
    queue.acquire(first=True)
    queue.release()
    queue.acquire()  # nobody waiting: an ordinary writer gets straight in
    queue.release()


def test_in_memory_readers_queue_behind_the_writer_on_the_one_shared_connection() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    seen: list[int] = []
    with _uncommitted_write(engine):
        reader = threading.Thread(target=lambda: seen.append(_people(engine, read_only=True)))
        reader.start()
        reader.join(0.2)
        assert reader.is_alive(), "the reader did not wait for the writer"
    reader.join(10)
    assert seen == [1]  # it ran once the writer committed, on the same connection
    engine.dispose()
