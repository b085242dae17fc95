"""OutboxWriter: rows go in with the transaction that added them, and the dispatchers hear of them
only once that transaction has committed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter, Written
from storage.models import OutboxRow, ProcessedEvent


class Woken:
    """The dispatchers' side of `on_commit`: what each commit said it wrote."""

    def __init__(self) -> None:
        self.calls: list[Written] = []

    def __call__(self, written: Written) -> None:
        self.calls.append(written)


@pytest.fixture
def woken() -> Woken:
    return Woken()


@pytest.fixture
def writer(clock: ManualClock, woken: Woken) -> OutboxWriter:
    return OutboxWriter(clock, on_commit=woken)


def _add(writer: OutboxWriter, s: Session, stream: str, channel: str = "CTECHS") -> None:
    writer.add(s, channel=channel, kind="post", stream=stream, payload={"text": stream})


def _streams(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(OutboxRow.stream).order_by(OutboxRow.id)))


def test_rows_are_inserted_at_commit_and_the_heads_of_their_streams_wake_the_dispatchers(
    sessions: sessionmaker[Session], writer: OutboxWriter, woken: Woken
) -> None:
    with sessions.begin() as s:
        _add(writer, s, "ticket:1")
        _add(writer, s, "ticket:1", channel="CLATER")  # behind the first row of its stream
        _add(writer, s, "ticket:2", channel="CACME")
        assert woken.calls == []
    assert _streams(sessions) == ["ticket:1", "ticket:1", "ticket:2"]
    assert woken.calls == [{("CTECHS", "post", None), ("CACME", "post", None)}]


def test_rows_of_a_rolled_back_transaction_are_dropped_not_written_by_the_next_one(
    sessions: sessionmaker[Session], writer: OutboxWriter, woken: Woken
) -> None:
    with sessions() as s:
        with pytest.raises(RuntimeError), s.begin():
            _add(writer, s, "lost")
            raise RuntimeError("the use-case failed")
        with s.begin():
            _add(writer, s, "kept")
    assert _streams(sessions) == ["kept"]
    assert woken.calls == [{("CTECHS", "post", None)}]


def test_a_savepoint_commit_does_not_wake_the_dispatchers_before_the_transaction_commits(
    sessions: sessionmaker[Session], writer: OutboxWriter, woken: Woken, clock: ManualClock
) -> None:
    with sessions.begin() as s:
        _add(writer, s, "ticket:1")
        with s.begin_nested():
            s.add(ProcessedEvent(key="Ev1", at=clock.now()))
        assert woken.calls == []
        _add(writer, s, "ticket:2", channel="CACME")
    assert sorted(_streams(sessions)) == ["ticket:1", "ticket:2"]
    assert woken.calls == [{("CTECHS", "post", None), ("CACME", "post", None)}]


def test_sessions_that_write_no_outbox_rows_are_left_alone(
    sessions: sessionmaker[Session], writer: OutboxWriter, woken: Woken, clock: ManualClock
) -> None:
    with sessions.begin() as s:
        s.add(ProcessedEvent(key="Ev2", at=clock.now()))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
    assert woken.calls == []
