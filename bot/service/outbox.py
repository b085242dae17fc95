"""Writes outbox rows inside the caller's transaction; the dispatcher delivers them later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.clock import Clock
from storage.models import OutboxRow


class OutboxWriter:
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
    ) -> OutboxRow:
        now = self._clock.now()
        row = OutboxRow(
            ticket_id=ticket_id,
            stream=stream,
            channel=channel,
            kind=kind,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
        if self._on_commit is not None:
            _wake_after_commit(session, self._on_commit)
        return row


def _wake_after_commit(session: Session, wake: Callable[[], None]) -> None:
    """Call `wake` once the session commits (never for a rollback); one listener per session."""
    key = "ticketbot.outbox_wake"
    if session.info.get(key):
        return
    session.info[key] = True

    def _after_commit(sess: Session) -> None:
        sess.info.pop(key, None)
        wake()

    event.listen(session, "after_commit", _after_commit, once=True)
