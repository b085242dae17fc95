"""Database rows → the read-only views the renderers take."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import replies
from bot.messages.view import (
    DeliveryView,
    MonitoringView,
    OnsiteView,
    PersonRef,
    SlaClock,
    TicketView,
    TimelineEntry,
)
from storage.models import AlertGroup, AlertInstance, OutboxRow, Person, Ticket, TicketEvent


def person_ref(person: Person) -> PersonRef:
    return PersonRef(
        name=person.name,
        slack_id=person.slack_user_id,
        email=person.email,
        aad_id=person.teams_aad_id,
    )


def ticket_view(ticket: Ticket, now: datetime) -> TicketView:
    onsite = None
    if ticket.onsite_person is not None:
        onsite = OnsiteView(
            who=person_ref(ticket.onsite_person),
            eta=ticket.onsite_eta or "",
            note=ticket.onsite_note or "",
        )
    submitter = (
        person_ref(ticket.submitter)
        if ticket.submitter is not None
        else PersonRef(name="monitoring" if ticket.source == "monitoring" else "unknown")
    )
    return TicketView(
        id=ticket.id,
        title=ticket.title,
        description=ticket.description,
        priority=ticket.priority,
        state=ticket.state,
        submitter=submitter,
        created_at=ticket.created_at,
        now=now,
        client_name=ticket.client.name if ticket.client else None,
        client_unknown=ticket.client_unknown,
        client_match=ticket.client_match if ticket.client is not None else None,
        affected=ticket.affected,
        assignee=person_ref(ticket.assignee) if ticket.assignee else None,
        helpers=tuple(person_ref(h.person) for h in ticket.helpers),
        source=ticket.source,
        source_link=ticket.source_link,
        onsite=onsite,
        resolution_note=ticket.resolution_note,
        version=ticket.version,
        sla=sla_clocks(ticket),
    )


class SlaFacts(Protocol):
    """What the SLA clocks are drawn from: a Ticket, or a row read with these columns."""

    @property
    def state(self) -> str: ...
    @property
    def response_due_at(self) -> datetime | None: ...
    @property
    def resolve_due_at(self) -> datetime | None: ...
    @property
    def responded_at(self) -> datetime | None: ...
    @property
    def response_breached_at(self) -> datetime | None: ...
    @property
    def resolve_breached_at(self) -> datetime | None: ...
    @property
    def response_warned_at(self) -> datetime | None: ...
    @property
    def resolve_warned_at(self) -> datetime | None: ...


def sla_clocks(ticket: SlaFacts) -> tuple[SlaClock, ...]:
    """The clocks worth showing: first response until it is given, resolution while the ticket
    is open, and either one when it was late (until the ticket is closed or cancelled)."""
    clocks = []
    live = ticket.state not in ("closed", "cancelled")
    response, resolve = ticket.response_due_at, ticket.resolve_due_at
    if response is not None and ticket.response_breached_at is not None and live:
        clocks.append(SlaClock("response", response, "breached", ticket.response_breached_at))
    elif response is not None and ticket.state == "new" and ticket.responded_at is None:
        if ticket.response_warned_at is not None:
            clocks.append(SlaClock("response", response, "at_risk"))
        else:
            clocks.append(SlaClock("response", response, "running"))
    if resolve is not None and ticket.resolve_breached_at is not None and live:
        clocks.append(SlaClock("resolve", resolve, "breached", ticket.resolve_breached_at))
    elif resolve is not None and ticket.state == "awaiting_confirmation":
        clocks.append(SlaClock("resolve", resolve, "stopped"))
    elif resolve is not None and live:
        clocks.append(
            SlaClock("resolve", resolve, "at_risk" if ticket.resolve_warned_at else "running")
        )
    return tuple(clocks)


def timeline(session: Session, ticket_id: int) -> list[TimelineEntry]:
    """The ticket's rows, oldest first. A reply's row is internal unless the client saw that
    version and sees the reply now: internal notes, and an update made internal, stay internal."""
    rows = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    ).all()
    now_public: dict[tuple[str, str], bool] = {}
    reply_of: dict[int, tuple[str, str]] = {}  # row id → the reply (Slack message) it belongs to
    keys: list[tuple[str, str] | None] = []
    row_public: list[bool] = []
    for r in rows:
        key = (r.source_channel, r.source_ts) if r.source_channel and r.source_ts else None
        of = r.data.get("of") if isinstance(r.data, dict) else None
        if key is None and isinstance(of, int):
            # Edit and delete rows written before they carried their source name the original.
            key = reply_of.get(of)
        if key is not None:
            reply_of[r.id] = key
            now_public[key] = replies.after(now_public.get(key), r.kind)
        keys.append(key)
        row_public.append(now_public[key] if key is not None else True)
    return [
        TimelineEntry(
            at=r.at,
            actor=r.actor_label,
            kind=r.kind,
            text=r.text,
            surface=r.surface,
            internal=not (public and (key is None or now_public[key])),
        )
        for r, key, public in zip(rows, keys, row_public, strict=True)
    ]


def deliveries(session: Session, ticket_id: int) -> list[DeliveryView]:
    """Every notification the ticket's events wrote to the outbox, oldest first."""
    rows = session.execute(
        select(
            OutboxRow.channel,
            OutboxRow.kind,
            OutboxRow.target,
            OutboxRow.payload,
            OutboxRow.status,
            OutboxRow.attempts,
            OutboxRow.last_error,
            OutboxRow.created_at,
            OutboxRow.delivered_at,
        )
        .where(OutboxRow.ticket_id == ticket_id)
        .order_by(OutboxRow.id)
    ).all()
    return [
        DeliveryView(
            channel=r.channel,
            kind=r.kind,
            target=r.target or _email_to(r.channel, r.payload),
            status=r.status,
            attempts=r.attempts,
            last_error=r.last_error,
            created_at=r.created_at,
            delivered_at=r.delivered_at,
        )
        for r in rows
    ]


def _email_to(channel: str, payload: object) -> str | None:
    if channel != "email" or not isinstance(payload, dict):
        return None
    to = payload.get("to")
    return to if isinstance(to, str) else None


def monitoring_view(session: Session, ticket_id: int) -> MonitoringView | None:
    """Counts over the alert groups that raised or joined this ticket."""
    row = session.execute(
        select(func.sum(AlertGroup.notifications), func.max(AlertGroup.last_seen_at)).where(
            AlertGroup.ticket_id == ticket_id
        )
    ).one()
    if row[0] is None or row[1] is None:
        return None
    states = dict(
        session.execute(
            select(AlertInstance.status, func.count())
            .join(AlertGroup, AlertGroup.id == AlertInstance.group_id)
            .where(AlertGroup.ticket_id == ticket_id)
            .group_by(AlertInstance.status)
        ).all()
    )
    return MonitoringView(
        notifications=int(row[0]),
        last_seen=row[1],
        firing=int(states.get("firing", 0)),
        alerts=int(sum(states.values())),
    )
