"""Writes outbox rows inside the caller's transaction; the dispatcher delivers them later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from bot.clock import Clock
from storage.models import outbox_table

_PENDING = "ticketbot.outbox_rows"


class OutboxWriter:
    """Collects a transaction's outbox rows and inserts them in one statement as it commits."""

    def __init__(self, clock: Clock, *, on_commit: Callable[[], None] | None = None) -> None:
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
            event.listen(session, "before_commit", self._write, once=True)
            event.listen(session, "after_commit", self._committed, once=True)
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
            session.execute(insert(outbox_table), rows)

    def _committed(self, _session: Session) -> None:
        if self._on_commit is not None:
            self._on_commit()
