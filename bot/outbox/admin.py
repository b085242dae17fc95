"""Operator view of the outbox: list parked (or pending) rows and put them back in the queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import OutboxRow


def list_rows(session: Session, status: str = "parked", limit: int = 100) -> list[OutboxRow]:
    query = select(OutboxRow).where(OutboxRow.status == status).order_by(OutboxRow.id).limit(limit)
    return list(session.scalars(query))


def retry(session: Session, ids: Sequence[int], now: datetime, *, all_parked: bool = False) -> int:
    """Re-queue parked rows (by id, or all of them); returns how many were re-queued."""
    query = update(OutboxRow).where(OutboxRow.status == "parked")
    if not all_parked:
        query = query.where(OutboxRow.id.in_(list(ids)))
    result = session.execute(
        query.values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
