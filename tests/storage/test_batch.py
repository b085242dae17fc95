"""The write batch: new rows and one version-guarded UPDATE sent as the transaction commits, on
PostgreSQL as one statement; a lost race raises StaleDataError and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from storage.batch import ONE_STATEMENT_ROWS, batch
from storage.models import outbox_table, ticket_events_table, tickets_table
from tests.fakes import Statements

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def sent(engine: Engine) -> list[str]:
    return Statements(engine).sent


@pytest.fixture
def ticket_id(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as s:
        values = {
            "title": "Printer jammed",
            "description": "",
            "priority": "medium",
            "state": "new",
            "source": "slack",
            "client_unknown": True,
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
        }
        return int(s.execute(insert(tickets_table).returning(tickets_table.c.id), values).scalar())


def _event(ticket_id: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "at": NOW,
        "actor_id": None,
        "actor_label": "system",
        "kind": kind,
        "surface": "slack",
        "text": kind,
        "data": data,
        "source_channel": None,
        "source_ts": None,
    }


def _outbox(ticket_id: int, stream: str, n: int) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "stream": stream,
        "channel": "CTECHS",
        "kind": "post",
        "payload": {"text": f"message {n}", "blocks": [{"type": "section", "n": n}]},
        "target": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }


def _state(sessions: sessionmaker[Session], ticket_id: int) -> tuple[str, int]:
    with sessions() as s:
        row = s.execute(
            select(tickets_table.c.state, tickets_table.c.version).where(
                tickets_table.c.id == ticket_id
            )
        ).one()
        return row.state, row.version


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        events = s.scalar(select(func.count()).select_from(ticket_events_table))
        rows = s.scalar(select(func.count()).select_from(outbox_table))
        return int(events or 0), int(rows or 0)


def test_rows_and_the_update_arrive_together_at_commit(
    sessions: sessionmaker[Session], ticket_id: int, sent: list[str], engine: Engine
) -> None:
    sent.clear()
    with sessions.begin() as s:
        b = batch(s)
        b.insert(ticket_events_table, _event(ticket_id, "started", {"by": "UTOM", "n": [1, 2]}))
        b.insert(outbox_table, _outbox(ticket_id, "ticket:1", 1))
        b.insert(outbox_table, _outbox(ticket_id, "ticket:1", 2))
        b.update_versioned(tickets_table, ticket_id, 1, {"state": "in_progress", "version": 2})
        assert sent == []  # nothing before the commit
    writes = [q for q in sent if "INSERT" in q or "UPDATE" in q]
    if engine.dialect.name == "postgresql":
        assert len(writes) == 1 and writes[0].lstrip().startswith("WITH")
    assert _state(sessions, ticket_id) == ("in_progress", 2)
    with sessions() as s:
        data = s.scalar(select(ticket_events_table.c.data))
        payloads = s.scalars(select(outbox_table.c.payload).order_by(outbox_table.c.id)).all()
    assert data == {"by": "UTOM", "n": [1, 2]}
    assert [p["text"] for p in payloads] == ["message 1", "message 2"]


def test_a_lost_race_raises_stale_data_at_commit_and_writes_nothing(
    sessions: sessionmaker[Session], ticket_id: int
) -> None:
    with sessions.begin() as s:
        batch(s).update_versioned(tickets_table, ticket_id, 1, {"state": "assigned", "version": 2})
    with pytest.raises(StaleDataError), sessions.begin() as s:
        b = batch(s)
        b.insert(ticket_events_table, _event(ticket_id, "started", {}))
        b.insert(outbox_table, _outbox(ticket_id, "ticket:1", 1))
        b.update_versioned(tickets_table, ticket_id, 1, {"state": "in_progress", "version": 2})
    assert _state(sessions, ticket_id) == ("assigned", 2)
    assert _counts(sessions) == (0, 0)


def test_a_rolled_back_transaction_leaves_nothing_for_the_next(
    sessions: sessionmaker[Session], ticket_id: int
) -> None:
    with sessions() as s:
        with pytest.raises(RuntimeError), s.begin():
            batch(s).insert(outbox_table, _outbox(ticket_id, "lost", 1))
            raise RuntimeError("the use-case failed")
        with s.begin():
            batch(s).insert(outbox_table, _outbox(ticket_id, "kept", 1))
    with sessions() as s:
        assert s.scalars(select(outbox_table.c.stream)).all() == ["kept"]


@pytest.mark.parametrize("count", [3, ONE_STATEMENT_ROWS + 5])
def test_rows_keep_the_order_they_were_added_in(
    sessions: sessionmaker[Session], ticket_id: int, count: int
) -> None:
    with sessions.begin() as s:
        for n in range(count):
            batch(s).insert(outbox_table, _outbox(ticket_id, "ticket:1", n))
    with sessions() as s:
        payloads = s.scalars(select(outbox_table.c.payload).order_by(outbox_table.c.id)).all()
    assert [p["blocks"][0]["n"] for p in payloads] == list(range(count))


def test_one_versioned_update_per_transaction(
    sessions: sessionmaker[Session], ticket_id: int
) -> None:
    with sessions() as s:
        b = batch(s)
        b.update_versioned(tickets_table, ticket_id, 1, {"state": "assigned", "version": 2})
        with pytest.raises(ValueError):
            b.update_versioned(tickets_table, ticket_id, 2, {"state": "closed", "version": 3})
