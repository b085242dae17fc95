"""Ticket lifecycle figures for /metrics (created, assigned, resolved, closed), counted only once
the transaction that made them commits: a rolled-back or retried use-case counts nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bot.telemetry.metrics import Metrics
from storage.models import Ticket

_PENDING = "ticketbot.lifecycle_pending"


class LifecycleMetrics:
    """Called by the Notifier for each ticket event it writes the notifications of."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def created(self, session: Session, ticket: Ticket) -> None:
        counter = self._metrics.tickets_created.labels(source=ticket.source)
        _after_commit(session, counter.inc)

    def assigned(self, session: Session, ticket: Ticket, *, first: bool) -> None:
        if first:
            waited = _seconds(ticket.created_at, ticket.updated_at)
            histogram = self._metrics.time_to_assign.labels(priority=ticket.priority)
            _after_commit(session, lambda: histogram.observe(waited))

    def resolved(self, session: Session, ticket: Ticket) -> None:
        took = _seconds(ticket.created_at, ticket.updated_at)
        histogram = self._metrics.time_to_resolve.labels(priority=ticket.priority)
        _after_commit(session, lambda: histogram.observe(took))

    def closed(self, session: Session, ticket: Ticket) -> None:
        counter = self._metrics.tickets_closed.labels(source=ticket.source)
        _after_commit(session, counter.inc)


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def _after_commit(session: Session, fn: Callable[[], None]) -> None:
    session.info.setdefault(_PENDING, []).append(fn)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for fn in session.info.pop(_PENDING, ()):
        fn()


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: a rolled-back one counted nothing
        session.info.pop(_PENDING, None)
