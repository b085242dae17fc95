"""Writes outbox rows inside the caller's transaction; the dispatcher delivers them later."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bot.clock import Clock
from storage.bulk import insert_rows
from storage.models import outbox_table

_PENDING = "ticketbot.outbox_rows"
_WRITER = "ticketbot.outbox_writer"
_WRITTEN = "ticketbot.outbox_written"

# What a commit wrote: the (channel, kind, target) of its rows, so that only a dispatcher that can
# send one of them now needs to wake up.
Written = Set[tuple[str, str, str | None]]


class OutboxWriter:
    """Collects a transaction's outbox rows and inserts them in one statement as it commits."""

    def __init__(self, clock: Clock, *, on_commit: Callable[[Written], None] | None = None) -> None:
        self._clock = clock
        self._on_commit = on_commit

    def add(
        self,
        session: Session,
        *,
        channel: str,
        kind: str,
        stream: str,
        payload: dict[str, Any],
        ticket_id: int | None = None,
        target: str | None = None,
    ) -> None:
        now = self._clock.now()
        rows = session.info.get(_PENDING)
        if rows is None:
            rows = session.info[_PENDING] = []
            session.info[_WRITER] = self
        rows.append(
            {
                "ticket_id": ticket_id,
                "stream": stream,
                "channel": channel,
                "kind": kind,
                "payload": payload,
                "target": target,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )

    def _write(self, session: Session) -> None:
        rows = session.info.pop(_PENDING, None)
        if rows:
            # Straight to the connection, once new rows they may refer to are in: the rest of
            # the flush can wait for the commit that follows.
            if session.new:
                session.flush()
            insert_rows(session.connection(), outbox_table, rows)
            # Only the first row of a stream may be sendable now: the others wait behind it.
            heads: dict[str, dict[str, Any]] = {}
            for row in rows:
                heads.setdefault(row["stream"], row)
            written = session.info.setdefault(_WRITTEN, set())  # a savepoint may have written
            written.update((r["channel"], r["kind"], r["target"]) for r in heads.values())

    def _committed(self, session: Session) -> None:
        written = session.info.pop(_WRITTEN, None)
        if written and self._on_commit is not None:
            self._on_commit(written)


# Listening on the Session class once: a listener added to each session costs more than the
# INSERT it triggers. Sessions that wrote no outbox rows pass through with one dict lookup.
@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    writer: OutboxWriter | None = session.info.get(_WRITER)
    if writer is not None:
        writer._write(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: nothing is visible to others yet
        return
    writer: OutboxWriter | None = session.info.pop(_WRITER, None)
    if writer is not None:
        writer._committed(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: rows of a rolled-back one are dropped
        for key in (_PENDING, _WRITER, _WRITTEN):
            session.info.pop(key, None)
