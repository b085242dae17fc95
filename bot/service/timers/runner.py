"""Fires due timers once across every process: claimed with FOR UPDATE SKIP LOCKED (PostgreSQL;
SQLite has one writer) and fired and rescheduled in the claiming transaction, so a crash rolls
all of it back and another process fires it."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.domain.clock import Clock
from bot.service.notify.matrix import Notifier
from bot.service.sla import SlaPolicy
from bot.service.timers import sla as sla_timers
from bot.service.timers.digest import DailyDigest
from bot.service.timers.escalation import EscalationPolicy, kinds
from bot.service.timers.monthly_report import MonthlyReport
from bot.service.timers.schedule import CANCELLED, FIRED, PENDING, Firing, Timers
from bot.telemetry.logs import about_ticket
from storage.engine import make_session_factory
from storage.models import Ticket, Timer

log = logging.getLogger(__name__)

# How often a process looks for due timers: the resolution of every timer.
TICK = timedelta(seconds=5)
# Timers fired per transaction (a failure redoes its batch one timer at a time).
BATCH = 50
# A timer whose firing failed is tried again this much later (the others go on).
RETRY_AFTER = timedelta(minutes=1)


class TimerRunner:
    """Claims due timer rows and fires them through their kind's handler."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        timers: Timers,
        notifier: Notifier,
        clock: Clock,
        batch: int = BATCH,
        retry_after: timedelta = RETRY_AFTER,
    ) -> None:
        self._sessions = session_factory
        # Whether anything is due is asked without a write transaction: on SQLite that would
        # queue behind (and hold up) the one writer every tick, due or not.
        self._reads = make_session_factory(session_factory.kw["bind"], read_only=True)
        self._timers = timers
        self._notify = notifier
        self._clock = clock
        self._batch = batch
        self._retry_after = retry_after
        self._lock = threading.Lock()  # one round at a time in this process

    def fire_due(self) -> int:
        """Fire every timer due now (an overdue one once, however late); returns how many were
        fired or found moot. A timer that fails is retried later and holds up no other."""
        with self._lock:
            now = self._clock.now()
            with self._reads() as s:
                if s.scalar(self._due(now).with_only_columns(Timer.id)) is None:
                    return 0
            done = 0
            while True:
                handled, more = self._round(now)
                done += handled
                if not more:
                    return done

    def overdue(self) -> int:
        """Timers due but not fired yet (for /metrics: growing means no process fires them)."""
        now = self._clock.now()
        with self._reads() as s:
            return int(s.scalar(self._due(now).with_only_columns(func.count()).order_by(None)) or 0)

    def _round(self, now: datetime) -> tuple[int, bool]:
        claimed: list[int] = []
        try:
            with self._sessions.begin() as s:
                rows = self._claim(s, now, self._batch)
                claimed = [row.id for row in rows]
                tickets = self._tickets(s, rows)
                for row in rows:
                    with about_ticket(row.ticket_id):
                        self._fire(s, row, tickets.get(row.ticket_id), now)
            return len(claimed), len(claimed) == self._batch
        except Exception:
            if not claimed:
                raise
        # Something in the batch failed, and nothing of it was written: each on its own now.
        handled = 0
        for timer_id in claimed:
            try:
                with self._sessions.begin() as s:
                    found = self._claim(s, now, 1, timer_id=timer_id)
                    if found:
                        ticket = self._tickets(s, found).get(found[0].ticket_id)
                        with about_ticket(found[0].ticket_id):
                            self._fire(s, found[0], ticket, now)
                        handled += 1
            except Exception as e:  # the loop's outer boundary: one timer, not all of them
                log.warning(
                    "timer %s failed (%s); trying again in %s", timer_id, e, self._retry_after
                )
                self._defer(timer_id, now)
        return handled, True

    def _claim(
        self, s: Session, now: datetime, limit: int, *, timer_id: int | None = None
    ) -> list[Timer]:
        query = self._due(now).limit(limit)
        if timer_id is not None:
            query = query.where(Timer.id == timer_id)
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(s.scalars(query))

    def _due(self, now: datetime) -> Select[Timer]:
        return (
            select(Timer)
            .where(Timer.state == PENDING, Timer.due_at <= now)
            .order_by(Timer.due_at, Timer.id)
        )

    def _tickets(self, s: Session, rows: list[Timer]) -> dict[int | None, Ticket]:
        """The claimed timers' tickets, read together."""
        ids = {row.ticket_id for row in rows if row.ticket_id is not None}
        if not ids:
            return {}
        return {t.id: t for t in s.scalars(select(Ticket).where(Ticket.id.in_(ids))).unique()}

    def _fire(self, s: Session, row: Timer, ticket: Ticket | None, now: datetime) -> None:
        kind = self._timers.kinds.get(row.kind)
        moot = kind is None or (
            kind.plan is not None
            and (ticket is None or row.kind not in self._timers.plan(ticket, now))
        )
        row.updated_at = now
        if kind is None:
            log.warning("timer %s has an unknown kind %r; cancelled", row.key, row.kind)
        if moot or kind is None:
            row.state = CANCELLED
            return
        before = self._timers.plan(ticket, now) if ticket is not None else {}
        firing = Firing(
            session=s,
            key=row.key,
            kind=row.kind,
            data=dict(row.data or {}),
            fires=row.fires,
            due_at=row.due_at,
            now=now,
            ticket=ticket,
            notifier=self._notify,
            timers=self._timers,
        )
        again = kind.fire(firing)
        row.fires += 1
        row.fired_at = now
        row.data = firing.data
        if again is None:
            row.state = FIRED
        else:
            row.due_at = max(again, now)
        if ticket is not None:
            wanted = self._timers.plan(ticket, now)
            if wanted != before:
                s.flush()  # the handler changed the ticket (closed it): that moots timers
                self._timers.sync(s, ticket, now, wanted)

    def _defer(self, timer_id: int, now: datetime) -> None:
        with self._sessions.begin() as s:
            row = s.get(Timer, timer_id)
            if row is not None and row.state == PENDING:
                row.due_at = now + self._retry_after
                row.updated_at = now


def build_timers(settings: Settings) -> Timers:
    """The timer kinds of a deployment, with the delays its settings give."""
    policy = EscalationPolicy(
        reping_after=settings.reping_after,
        remind_after={
            "critical": settings.remind_after,
            "high": settings.remind_after_high,
            "medium": settings.remind_after_medium,
            "low": settings.remind_after_low,
        },
        confirm_remind_after=settings.confirm_remind_after,
        auto_close_after=settings.auto_close_after,
    )
    daily = DailyDigest.of(settings)
    monthly = MonthlyReport.of(settings)
    extra = [daily.kind()] if daily is not None else []
    extra += [monthly.kind()] if monthly is not None else []
    return Timers.of([*kinds(policy), *sla_timers.kinds(SlaPolicy.of(settings)), *extra])
