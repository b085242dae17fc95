"""SQLAlchemy 2.x table models. Repositories and use-cases own queries and transactions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    slack_channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    teams_webhook_url: Mapped[str | None] = mapped_column(Text)
    teams_tenant_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    teams_channel_id: Mapped[str | None] = mapped_column(String(512), unique=True)
    teams_outgoing_secret: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]

    domains: Mapped[list[ClientDomain]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientDomain.domain"
    )
    alert_labels: Mapped[list[ClientAlertLabel]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )
    # Read only by SLA arithmetic: loaded when asked for, not with every ticket's client.
    holidays: Mapped[list[ClientHoliday]] = relationship(
        cascade="all, delete-orphan", order_by="ClientHoliday.day"
    )


class ClientHoliday(Base):
    """A local date on which the client's business hours do not run (SLA clocks stop)."""

    __tablename__ = "client_holidays"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class ClientDomain(Base):
    __tablename__ = "client_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    client: Mapped[Client] = relationship(back_populates="domains")


class ClientAlertLabel(Base):
    __tablename__ = "client_alert_labels"
    __table_args__ = (UniqueConstraint("key", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))
    client: Mapped[Client] = relationship(back_populates="alert_labels")


class Person(Base):
    """One person across Slack, Teams and email (matched by email address; directory cache).
    Managers come from settings; technicians from settings or, when none are set, from
    `tech_member` / `teams_tech_member`; a deactivated person has no role at all."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Teams: the Entra object id (stable, in every activity) and the Bot Framework id (29:…),
    # which a 1:1 conversation with the person is created for.
    teams_aad_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    teams_user_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    refreshed_at: Mapped[datetime]
    # A human, non-guest member of the technician channel, as Slack last told us.
    tech_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A member of the Teams technician channel's team, as Teams last told us.
    teams_tech_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deactivated_at: Mapped[datetime | None]


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), index=True)
    affected: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="slack")
    source_link: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    client_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    # How monitoring found the client ("matched host fs01.acme.test"); None for people's tickets.
    client_match: Mapped[str | None] = mapped_column(String(200))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # Where the submitter asked: a Slack channel, or a Teams conversation (source "teams").
    origin_channel: Mapped[str | None] = mapped_column(String(512))
    onsite_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    onsite_eta: Mapped[str | None] = mapped_column(Text)
    onsite_note: Mapped[str | None] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Assignment, a staff status change or a technician's update: what a silent assignee's
    # reminder counts from.
    last_tech_update_at: Mapped[datetime | None]
    # SLA (bot/service/sla.py): due times from the priority's targets on the client's calendar.
    response_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    response_breached_at: Mapped[datetime | None]
    resolve_breached_at: Mapped[datetime | None]
    # When 75 % of a target was used and the warning went out (the card turns amber).
    response_warned_at: Mapped[datetime | None]
    resolve_warned_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    client: Mapped[Client | None] = relationship(lazy="joined")
    submitter: Mapped[Person | None] = relationship(foreign_keys=[submitter_id], lazy="joined")
    assignee: Mapped[Person | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    onsite_person: Mapped[Person | None] = relationship(
        foreign_keys=[onsite_person_id], lazy="joined"
    )
    helpers: Mapped[list[TicketHelper]] = relationship(
        cascade="all, delete-orphan", order_by="TicketHelper.id", lazy="selectin"
    )


class TicketHelper(Base):
    __tablename__ = "ticket_helpers"
    __table_args__ = (UniqueConstraint("ticket_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    added_at: Mapped[datetime]
    person: Mapped[Person] = relationship(lazy="joined")


class TicketEvent(Base):
    """One immutable timeline row: who did what, when, from which surface."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    surface: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The Slack message this row came from (thread replies), so edits and deletions find it.
    source_channel: Mapped[str | None] = mapped_column(String(512))
    source_ts: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_ticket_events_source", "source_channel", "source_ts"),)


class ChatMessage(Base):
    """A chat message that belongs to a ticket: its card, its client thread root, mirrors.
    In Teams, `channel` is the conversation id (without `;messageid=`) and `ts` the activity id."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("channel", "ts"),
        Index("ix_chat_messages_ticket_role", "ticket_id", "role"),
        Index("ix_chat_messages_source", "source_channel", "source_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))  # card | client_root | mirror | help | confirm
    surface: Mapped[str] = mapped_column(String(16), default="slack", server_default="slack")
    channel: Mapped[str] = mapped_column(String(512))
    ts: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(64))
    source_channel: Mapped[str | None] = mapped_column(String(512))
    source_ts: Mapped[str | None] = mapped_column(String(64))
    rendered_version: Mapped[int | None] = mapped_column(Integer)  # cards: ticket version shown
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """A notification to deliver (or delivered); rows of one `stream` go strictly in order."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_stream_status", "stream", "status", "id"),
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    stream: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))  # slack | email | teams | webhook
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    # The conversation a post goes to, for per-conversation pacing (None: not paced).
    target: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|sending|done|parked
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class Pace(Base):
    """How fast one conversation may be posted to, shared by every delivery process (GCRA):
    `tat` is when its bucket is full again, `paused_until` the end of a Retry-After; both in
    seconds since the epoch, so that the pace moves in one UPDATE on every database."""

    __tablename__ = "paces"
    # A pass reads the targets out of budget: those whose `tat` is ahead of now.
    __table_args__ = (Index("ix_paces_tat", "tat"),)

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)  # slack | teams | …
    target: Mapped[str] = mapped_column(String(512), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)
    paused_until: Mapped[float | None] = mapped_column(Double)


class TeamsConversation(Base):
    """A Teams conversation the bot has heard from: where to reach it (its Bot Connector
    `serviceUrl` differs by region) and whose it is."""

    __tablename__ = "teams_conversations"

    id: Mapped[str] = mapped_column(String(512), primary_key=True)  # without ;messageid=
    service_url: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # personal | channel | groupChat
    team_id: Mapped[str | None] = mapped_column(String(512))  # channel: its team
    # personal: the person it is with (Entra object id).
    user_aad_id: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Idempotency keys of inbound deliveries (Slack event_id, message channel+ts)."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]


class AlertGroup(Base):
    """One problem as monitoring names it (its dedup key), and the ticket opened for it last."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of `key`
    key: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ticket: Mapped[Ticket | None] = relationship()


class AlertInstance(Base):
    """One alert of a group (Alertmanager fingerprint), with what it last said."""

    __tablename__ = "alert_instances"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    seen: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AlertStorm(Base):
    """A burst of new alert tickets shown as one summary message instead of one card each."""

    __tablename__ = "alert_storms"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    last_ticket_at: Mapped[datetime]
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)
    summary_ts: Mapped[str | None] = mapped_column(String(32))
    rendered_count: Mapped[int] = mapped_column(Integer, default=0)


class AlertStormTicket(Base):
    __tablename__ = "alert_storm_tickets"

    storm_id: Mapped[int] = mapped_column(
        ForeignKey("alert_storms.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, unique=True
    )
    added_at: Mapped[datetime]


class Timer(Base):
    """Something due at `due_at` (a re-ping, a reminder, the digest), claimed and fired by one
    process; a ticket's timers follow its facts (bot/service/timers/schedule.py)."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # ticket:42:reping, digest
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # pending | fired | cancelled
    fires: Mapped[int] = mapped_column(Integer, default=0)  # times fired since last armed
    fired_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HomeViewer(Base):
    """A Slack user who opened the bot's App Home: their Home is republished when their tickets
    change, at the page they last chose."""

    __tablename__ = "home_viewers"

    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]


class JobCursor(Base):
    """How far a periodic job has read (the App Home refresh: tickets changed up to `at`)."""

    __tablename__ = "job_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
    # What the last run saw (ticket id → version): a row read again in the overlap is skipped
    # unless it changed since.
    seen: Mapped[dict[str, Any]] = mapped_column(default=dict)


# Storm detection counts the monitoring tickets of the last minute.
Index("ix_tickets_source_created", Ticket.source, Ticket.created_at)
# The App Home refresh reads the tickets changed since its last run.
Index("ix_tickets_updated", Ticket.updated_at)


# Tables for Core inserts on hot paths (no ORM unit-of-work per row).
outbox_table = Base.metadata.tables["outbox"]
paces_table = Base.metadata.tables["paces"]
ticket_events_table = Base.metadata.tables["ticket_events"]
tickets_table = Base.metadata.tables["tickets"]
alert_instances_table = Base.metadata.tables["alert_instances"]
timers_table = Base.metadata.tables["timers"]
