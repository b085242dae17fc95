"""Read-only values the renderers draw from; built by the service/dispatcher from database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class PersonRef:
    """Someone shown in a message: a Slack user (mentioned as <@ID>) or an email-only contact."""

    name: str
    slack_id: str | None = None
    email: str | None = None
    aad_id: str | None = None  # Teams (Entra) object id

    @property
    def key(self) -> str:
        """How handlers name this person in a button or choice: Slack id, `teams:<aad id>`,
        or email."""
        if self.slack_id:
            return self.slack_id
        if self.aad_id:
            return f"teams:{self.aad_id}"
        return self.email or self.name


@dataclass(frozen=True)
class OnsiteView:
    who: PersonRef
    eta: str
    note: str = ""


@dataclass(frozen=True)
class MonitoringView:
    """What monitoring has said about a ticket's problem: repeats only show up here."""

    notifications: int
    last_seen: datetime
    firing: int
    alerts: int


@dataclass(frozen=True)
class SlaClock:
    """One SLA clock of a ticket (`kind` response or resolve) as the card shows it.

    `status`: running | at_risk (75 % of the target used) | breached | stopped (the ticket
    awaits confirmation)."""

    kind: Literal["response", "resolve"]
    due_at: datetime
    status: Literal["running", "at_risk", "breached", "stopped"]
    breached_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryView:
    """One notification of a ticket from the outbox, as the detail modal shows it."""

    channel: str  # slack | teams | email | webhook
    kind: str  # card | post | dm | email | …
    target: str | None  # conversation id, or the email address
    status: str  # pending | sending | done | parked
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class TicketView:
    """A ticket as the renderers see it. All text fields are raw user/alert text (unescaped)."""

    id: int
    title: str
    description: str
    priority: str  # low | medium | high | critical
    state: str  # new | assigned | in_progress | awaiting_confirmation | closed | cancelled
    submitter: PersonRef
    created_at: datetime
    now: datetime  # for "age"
    client_name: str | None = None
    client_unknown: bool = False  # no client company matched: flag for the manager
    client_match: str | None = None  # how monitoring found the client: "matched host fs01.x"
    affected: str | None = None  # key from AFFECTED_CHOICES
    assignee: PersonRef | None = None
    helpers: tuple[PersonRef, ...] = ()
    source: str = "slack"  # slack | monitoring | teams | email
    source_link: str | None = None  # e.g. the alert generator URL
    onsite: OnsiteView | None = None
    resolution_note: str | None = None
    version: int = 1
    monitoring: MonitoringView | None = None  # filled where it is shown (/ticket status)
    sla: tuple[SlaClock, ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str  # display name, or "monitoring", "system"
    kind: str  # event kind, e.g. "created", "assigned", "update", "internal_note"
    text: str = ""
    surface: str = "slack"  # slack | email | cli | monitoring | teams
    internal: bool = False  # a row of a reply the client does not see now: staff only


@dataclass(frozen=True)
class SlackMessage:
    """What chat.postMessage/chat.update gets: a notification fallback `text` and `blocks`."""

    text: str
    blocks: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class TeamsMessage:
    """What a Teams activity gets: a notification/fallback summary `text` (Teams markdown), the
    Adaptive Card `card` (the attachment's content) and activity-level mention `entities`."""

    text: str
    card: dict[str, object]
    entities: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class TeamsMention:
    """Who a critical ticket card notifies in Teams (our own config, never user text).

    `id`: the channel's conversation id (`19:…@thread.tacv2`), the team's id, or the tag's id.
    """

    kind: Literal["channel", "team", "tag"]
    id: str
    name: str


@dataclass(frozen=True)
class EmailContent:
    subject: str  # single line, CR/LF already removed
    text: str
    html: str


PRIORITIES = ("low", "medium", "high", "critical")

PRIORITY_HELP = {
    "low": "A question or advice; nobody is blocked.",
    "medium": "One person or a few are slowed down; work goes on.",
    "high": "A person or a team is blocked; no good workaround.",
    "critical": (
        "Many staff can't work, or a time-critical function is down (internet, server, payroll)."
    ),
}

AFFECTED_CHOICES = {
    "me": "Just me",
    "few": "A few people (2–10)",
    "team": "A department or team (10–50)",
    "all": "Everyone at the site",
}

STATE_LABELS = {
    "new": "New",
    "assigned": "Assigned",
    "in_progress": "In progress",
    "awaiting_confirmation": "Awaiting confirmation",
    "closed": "Closed",
    "cancelled": "Cancelled",
}
