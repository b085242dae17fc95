"""Reads what an alert storm's summary shows: its tickets, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages.alerts import StormLine
from storage.models import AlertStorm, AlertStormTicket, Client, Ticket

# The summary lists at most this many tickets; the rest is counted ("… and N more").
MAX_LINES = 1000


@dataclass(frozen=True)
class StormSnapshot:
    id: int
    channel: str
    summary_ts: str | None
    started_at: datetime
    total: int
    rendered: int
    lines: list[StormLine]


def snapshot(session: Session, storm_id: int) -> StormSnapshot | None:
    storm = session.get(AlertStorm, storm_id)
    if storm is None:
        return None
    rows = session.execute(
        select(Ticket.id, Ticket.priority, Client.name, Ticket.title)
        .join(AlertStormTicket, AlertStormTicket.ticket_id == Ticket.id)
        .outerjoin(Client, Client.id == Ticket.client_id)
        .where(AlertStormTicket.storm_id == storm_id)
        .order_by(Ticket.id.desc())
        .limit(MAX_LINES)
    ).all()
    return StormSnapshot(
        id=storm.id,
        channel=storm.channel,
        summary_ts=storm.summary_ts,
        started_at=storm.started_at,
        total=storm.ticket_count,
        rendered=storm.rendered_count,
        lines=[StormLine(tid, prio, client, title) for tid, prio, client, title in rows],
    )


def storm_of(session: Session, ticket_id: int) -> AlertStorm | None:
    """The storm a ticket was folded into, if any."""
    return session.scalar(
        select(AlertStorm)
        .join(AlertStormTicket, AlertStormTicket.storm_id == AlertStorm.id)
        .where(AlertStormTicket.ticket_id == ticket_id)
    )
