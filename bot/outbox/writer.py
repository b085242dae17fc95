"""Writes outbox rows inside the caller's transaction; the dispatcher delivers them later."""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bot.domain.clock import Clock
from storage.batch import batch
from storage.models import outbox_table

_WRITER = "ticketbot.outbox_writer"
_STREAMS = "ticketbot.outbox_streams"
_WRITTEN = "ticketbot.outbox_written"

# What a commit wrote: the (channel, kind, target) of its rows, so that only a dispatcher that can
# send one of them now needs to wake up.
Written = Set[tuple[str, str, str | None]]


class OutboxWriter:
    """Adds outbox rows to the transaction's write batch (storage.batch), and wakes the
    dispatchers once the transaction has committed."""

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
        batch(session).insert(
            outbox_table,
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
            },
        )
        info = session.info
        info[_WRITER] = self
        streams: set[str] = info.setdefault(_STREAMS, set())
        if stream not in streams:  # only the first row of a stream may be sendable now
            streams.add(stream)
            info.setdefault(_WRITTEN, set()).add((channel, kind, target))

    def _committed(self, written: Written) -> None:
        if written and self._on_commit is not None:
            self._on_commit(written)


# Listening on the Session class once: a listener added to each session costs more than the
# INSERT it triggers. Sessions that wrote no outbox rows pass through with one dict lookup.
@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: nothing is visible to others yet
        return
    writer: OutboxWriter | None = session.info.pop(_WRITER, None)
    if writer is not None:
        session.info.pop(_STREAMS, None)
        writer._committed(session.info.pop(_WRITTEN, set()))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: a rolled-back one wrote nothing
        for key in (_WRITER, _STREAMS, _WRITTEN):
            session.info.pop(key, None)
