"""Arming and stopping a timer that code schedules by key at a local time of day (the daily
digest, the monthly report), so that a restart keeps an armed or overdue one as it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.service.timers.schedule import PENDING, Timers
from storage.models import Timer


def arm(
    sessions: sessionmaker[Session],
    timers: Timers,
    key: str,
    *,
    due_at: datetime,
    at: str,
    now: datetime,
) -> None:
    """Arm timer `key` (its kind is its key) at `due_at`, unless it is pending for the time of
    day `at` already: an overdue one is left as it is, so it fires once after downtime."""
    with sessions.begin() as s:
        row = s.scalar(select(Timer).where(Timer.key == key))
        if row is not None and row.state == PENDING and row.data.get("at") == at:
            return
        timers.schedule(s, key, key, due_at, now, data={"at": at})


def disarm(sessions: sessionmaker[Session], timers: Timers, key: str, now: datetime) -> None:
    with sessions.begin() as s:
        timers.cancel(s, now, key=key)
