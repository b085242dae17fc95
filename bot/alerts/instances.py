"""Alert instances: each alert's latest word stored under its group, and what changed with it
(joined the group, firing again, recovered)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.alerts.model import Alert, AlertStatus
from bot.alerts.title import clean_title
from bot.domain.text import CONTROL_CHARS, TITLE_MAX
from bot.messages.escape import one_line
from storage.bulk import insert_rows
from storage.models import AlertGroup, AlertInstance, alert_instances_table


@dataclass
class Changes:
    """Titles of the alerts that joined an open ticket's group, fired again, or recovered."""

    joined: list[str] = field(default_factory=list)
    again: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


def upsert_instances(
    s: Session,
    group: AlertGroup,
    items: list[Alert],
    now: datetime,
    *,
    opening: bool = False,
    new_group: bool = False,
) -> Changes:
    """Store each alert's latest word; say which joined, fired again or recovered."""
    changes = Changes()
    known: dict[str, AlertInstance] = {}
    if not new_group:  # a group inserted just now has no instances to look up
        known = {
            row.fingerprint: row
            for row in s.scalars(
                select(AlertInstance).where(
                    AlertInstance.group_id == group.id,
                    AlertInstance.fingerprint.in_([a.fingerprint for a in items]),
                )
            )
        }
    fresh: list[dict[str, Any]] = []
    for alert in items:
        row = known.get(alert.fingerprint)
        title = alert_title(alert.title)
        if row is None:
            fresh.append(
                {
                    "group_id": group.id,
                    "fingerprint": alert.fingerprint,
                    "status": alert.status.value,
                    "title": title,
                    "labels": dict(alert.labels),
                    "starts_at": alert.starts_at,
                    "ends_at": alert.ends_at,
                    "seen": 1,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
            )
            if alert.status is AlertStatus.FIRING and not opening:
                changes.joined.append(title)
            continue
        if row.status != alert.status.value and not opening:
            if alert.status is AlertStatus.FIRING:
                changes.again.append(title)
            else:
                changes.recovered.append(title)
        s.execute(
            update(AlertInstance)
            .where(AlertInstance.id == row.id)
            .values(
                status=alert.status.value,
                title=title,
                starts_at=alert.starts_at or row.starts_at,
                ends_at=alert.ends_at,
                seen=AlertInstance.seen + 1,
                last_seen_at=now,
            )
        )
    # Straight to the connection: the group row they refer to is flushed already.
    insert_rows(s.connection(), alert_instances_table, fresh)
    return changes


def still_firing(s: Session, group: AlertGroup) -> int:
    return int(
        s.scalar(
            select(func.count())
            .select_from(AlertInstance)
            .where(
                AlertInstance.group_id == group.id,
                AlertInstance.status == AlertStatus.FIRING.value,
            )
        )
        or 0
    )


def alert_title(raw: str) -> str:
    """No mentions, status tags or markers, whatever the source (bot.alerts.title)."""
    text = CONTROL_CHARS.sub("", raw or "")
    title = one_line(clean_title(text), TITLE_MAX)
    return title or "Monitoring alert"
