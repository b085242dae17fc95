"""Which outbox rows are due, claiming them under a lease, and recording how each went.

A stream is a conversation (a ticket's card and its thread, its client thread, a person's DMs, a
recipient's mail): only its oldest undelivered row is eligible, so a reply never overtakes its
parent and a row retrying in one stream delays no other.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from bot.domain.clock import Clock
from bot.outbox.errors import DeliveryError
from bot.outbox.policy import DispatchPolicy
from bot.telemetry.metrics import Metrics
from storage.models import OutboxRow, outbox_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    id: int
    stream: str
    ticket_id: int | None
    channel: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    target: str | None
    created_at: datetime
    # Claimed before by a process whose lease ran out: its send may have gone through.
    interrupted: bool = False


@dataclass(frozen=True)
class LaneQueries:
    """A lane's claim (due rows, each the oldest undelivered of its stream, outside paced
    targets `:paced`) and the time its next deferred row falls due."""

    claim: Select[Any]
    next_due: Select[Any]


class Claims:
    """The outbox rows of one dispatcher: claims them and records their outcome."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        policy: DispatchPolicy,
        metrics: Metrics,
        channels: tuple[str, ...] | None,
        skip_locked: bool,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._policy = policy
        self._metrics = metrics
        self._channels = channels
        self._skip_locked = skip_locked
        self._jitter = random.Random()  # its own: the global generator belongs to the caller
        self._held: set[int] = set()  # claimed here and not finished yet
        self._held_lock = threading.Lock()

    def queries(self, *, kind: str | None, others: Collection[str] = ()) -> LaneQueries:
        """A lane's queries: for rows of `kind`, or (None) of every kind but `others` (which
        have lanes of their own). Only future times count for `next_due`: rows already due but
        not claimed wait behind their stream."""
        o = outbox_table.c
        earlier = outbox_table.alias("earlier")
        blocked = exists().where(
            earlier.c.stream == o.stream,
            earlier.c.id < o.id,
            earlier.c.status.in_(("pending", "sending")),
        )
        now: BindParameter[datetime] = bindparam("now")
        due = or_(
            and_(o.status == "pending", o.next_attempt_at <= now),
            and_(o.status == "sending", o.locked_until <= now),
        )
        query = select(
            o.id,
            o.stream,
            o.ticket_id,
            o.channel,
            o.kind,
            o.payload,
            o.attempts,
            o.target,
            o.created_at,
            o.status,
        ).where(
            due,
            ~blocked,
            or_(o.target.is_(None), o.target.not_in(bindparam("paced", expanding=True))),
        )
        mine = [o.kind == kind] if kind is not None else [o.kind != other for other in others]
        if self._channels is not None:
            mine.append(o.channel.in_(self._channels))
        claim = query.where(*mine).order_by(o.id).limit(self._policy.batch)
        next_due = select(func.min(o.next_attempt_at)).where(
            *mine, o.status == "pending", o.next_attempt_at > now
        )
        return LaneQueries(claim, next_due)

    def claim(
        self,
        query: Select[Any],
        paced: list[str],
        available: Callable[[str, str, datetime], float],
    ) -> list[Claimed]:
        """Mark due rows `sending` under a lease, at most what each target's pace allows now
        (`available(channel, target, now)`); the rest stay pending, untouched, for a later pass."""
        now = self._clock.now()
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        with self._sessions.begin() as s:
            budget: dict[str, float] = {}
            claimed: list[Claimed] = []
            for r in s.execute(query, {"now": now, "paced": paced}):
                if r.target is not None:
                    left = budget.setdefault(r.target, available(r.channel, r.target, now))
                    if left < 1.0:
                        continue
                    budget[r.target] = left - 1.0
                claimed.append(
                    Claimed(
                        r.id,
                        r.stream,
                        r.ticket_id,
                        r.channel,
                        r.kind,
                        r.payload,
                        r.attempts,
                        r.target,
                        r.created_at,
                        interrupted=r.status == "sending",
                    )
                )
            if claimed:
                s.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id.in_([row.id for row in claimed]))
                    .values(status="sending", locked_until=now + self._policy.lease)
                )
        with self._held_lock:
            self._held.update(row.id for row in claimed)
        return claimed

    def renew(self) -> int:
        """Extend the lease of every row claimed here and not finished yet (a batch is sent one
        row after another, and a send may be slow); returns how many were extended. A lease that
        ran out before this (a process stalled longer than the lease) is logged: another
        process may have taken the row and send it too."""
        with self._held_lock:
            held = sorted(self._held)
        if not held:
            return 0
        now = self._clock.now()
        o = outbox_table.c
        with self._sessions.begin() as s:
            renewed = s.execute(
                update(outbox_table)
                .where(o.id.in_(held), o.status == "sending", o.locked_until >= now)
                .values(locked_until=now + self._policy.lease)
                .returning(o.id)
            ).scalars()
            lost = set(held) - set(renewed)
        with self._held_lock:
            lost &= self._held  # finished meanwhile: not lost
        if lost:
            log.warning(
                "outbox lease ran out before it was extended for row(s) %s: "
                "another process may send them too",
                ", ".join(map(str, sorted(lost))),
            )
        return len(held) - len(lost)

    def release_orphaned(self) -> int:
        """On SQLite only this process delivers, so the leases of rows left `sending` by a crash
        end now: they are retried at once, as interrupted sends (on PostgreSQL another replica
        may hold them: their lease decides)."""
        if self._skip_locked:
            return 0
        query = select(OutboxRow.id).where(OutboxRow.status == "sending")
        if self._channels is not None:
            query = query.where(OutboxRow.channel.in_(self._channels))
        with self._sessions.begin() as s:
            orphans = list(s.scalars(query))
            if orphans:
                s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(orphans))
                    .values(locked_until=self._clock.now())
                )
        if orphans:
            log.info("released %d outbox row(s) claimed before a restart", len(orphans))
        return len(orphans)

    def failed(self, row_id: int, channel: str, attempts: int, e: DeliveryError) -> None:
        """A transient error retries after a backoff (or Retry-After); the rest park the row."""
        now = self._clock.now()
        if e.transient and attempts < self._policy.max_attempts:
            delay = e.retry_after
            if delay is None:
                delay = min(
                    self._policy.max_backoff, self._policy.base_backoff * 2 ** (attempts - 1)
                ) * self._jitter.uniform(0.8, 1.2)
            log.warning("outbox row %s: %s; retry in %.1fs", row_id, e.message, delay)
            self.finish(
                row_id,
                status="pending",
                next_at=now + timedelta(seconds=delay),
                error=e.message,
                count_attempt=True,
            )
            self._metrics.outbox_retries.labels(channel=channel).inc()
            return
        log.error("outbox row %s parked after %d attempt(s): %s", row_id, attempts, e.message)
        self.finish(row_id, status="parked", error=e.message, count_attempt=True)
        self._metrics.outbox_parked.labels(channel=channel).inc()

    def finish(
        self,
        row_id: int,
        *,
        status: str,
        next_at: datetime | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        count_attempt: bool,
        session: Session | None = None,
    ) -> None:
        """Record how a delivery went, in its own transaction or in `session`'s."""
        with self._held_lock:
            self._held.discard(row_id)
        now = self._clock.now()
        values: dict[str, Any] = {"status": status, "locked_until": None}
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if error is not None:
            values["last_error"] = error[:2000]
        if status == "done":
            values["delivered_at"] = now
            values["result"] = result or {}
        statement = update(OutboxRow).where(OutboxRow.id == row_id).values(**values)
        if session is not None:
            session.execute(statement)
            return
        with self._sessions.begin() as s:
            s.execute(statement)
