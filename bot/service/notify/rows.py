"""One outbox row per surface (Slack, Teams, a Teams Workflows webhook): its channel, stream,
payload and the conversation a post is paced in; and where a ticket's client thread lives.
The Notifier's base: it holds its collaborators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.messages.view import SlackMessage
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.people.identity import TEAMS_PREFIX
from bot.service.lifecycle_metrics import LifecycleMetrics
from bot.service.notify.settings import NotifySettings
from bot.service.notify.streams import stream
from storage.models import Ticket


@dataclass(frozen=True)
class ClientThread:
    """Where a ticket's client thread lives: a Slack channel or DM, or a Teams conversation
    (`user` instead: a 1:1 chat with that person, created on delivery)."""

    surface: str  # slack | teams
    channel: str | None = None
    user: str | None = None  # teams: Entra object id
    fallback_dm: str | None = None  # slack: the submitter, when the channel refuses the post


class Rows:
    """Writes one outbox row for a surface, in the use-case's transaction. Messages are stored
    as rendered for Slack; the Teams adapter renders them as cards."""

    def __init__(
        self,
        settings: NotifySettings,
        directory: Directory,
        outbox: OutboxWriter,
        lifecycle: LifecycleMetrics | None = None,
    ) -> None:
        """`lifecycle`: counts the events for /metrics (none: not counted)."""
        self._settings = settings
        self._directory = directory
        self._outbox = outbox
        self._lifecycle = lifecycle

    def client_thread_of(self, ticket: Ticket) -> ClientThread | None:
        """Where the client hears about `ticket`: where they asked; else (monitoring) the
        client's Teams channel or the submitter's chat; None: by email only."""
        settings = self._settings
        submitter = ticket.submitter
        if ticket.source == "teams":
            if settings.teams_on and ticket.origin_channel:
                return ClientThread("teams", channel=ticket.origin_channel)
            return None
        slack_id = submitter.slack_user_id if submitter else None
        if settings.slack_on and (ticket.origin_channel or slack_id):
            return ClientThread(
                "slack", channel=ticket.origin_channel or slack_id, fallback_dm=slack_id
            )
        if settings.teams_on:
            if ticket.client is not None and ticket.client.teams_channel_id:
                return ClientThread("teams", channel=ticket.client.teams_channel_id)
            if submitter is not None and submitter.teams_aad_id:
                return ClientThread("teams", user=submitter.teams_aad_id)
        return None

    def _chat(
        self,
        surface: str,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
    ) -> None:
        if surface == "teams":
            self._teams(session, ticket, stream, kind, payload)
        else:
            self._slack(session, ticket, stream, kind, payload)

    def _post(
        self, session: Session, ticket: Ticket, stream: str, msg: SlackMessage, **fields: object
    ) -> None:
        self._slack(session, ticket, stream, "post", {**fields, **message_fields(msg)})

    def _teams(
        self,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
        *,
        target: str | None = None,
    ) -> None:
        """A Teams row; `target` (the conversation, for pacing) defaults to where it lands."""
        if target is None and kind in ("card", "post"):
            target = self._teams_target(ticket, payload)
        self._row("teams", session, ticket, stream, kind, payload, target)

    def _teams_target(self, ticket: Ticket, payload: Mapping[str, object]) -> str | None:
        anchor = payload.get("anchor")
        if anchor == "card" or "anchor" not in payload and "conversation" not in payload:
            return self._settings.teams_tech_channel
        if anchor == "client_root":
            where = self.client_thread_of(ticket)
            if where is None:
                return None
            return where.channel or (TEAMS_PREFIX + where.user if where.user else None)
        conversation = payload.get("conversation")
        if conversation:
            return str(conversation)
        user = payload.get("user")
        return TEAMS_PREFIX + str(user) if user else None

    def _webhook(self, session: Session, ticket: Ticket, msg: SlackMessage) -> None:
        """A client-thread message for a notify-only client's Teams Workflows webhook."""
        client = ticket.client
        if client is None or not client.teams_webhook_url:
            return
        self._outbox.add(
            session,
            channel="webhook",
            kind="post",
            stream=stream("webhook", "client", ticket.id),
            payload={"client_id": client.id, **message_fields(msg)},
            ticket_id=ticket.id,
            target=f"webhook:{client.id}",
        )

    def _slack(
        self,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
    ) -> None:
        self._row(
            "slack", session, ticket, stream, kind, payload, self._target(ticket, kind, payload)
        )

    def _row(
        self,
        channel: str,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
        target: str | None,
    ) -> None:
        """A ticket's row; `target`: the conversation it is paced in (None: not paced)."""
        self._outbox.add(
            session,
            channel=channel,
            kind=kind,
            stream=stream,
            payload=dict(payload),
            ticket_id=ticket.id,
            target=target,
        )

    def _target(self, ticket: Ticket, kind: str, payload: Mapping[str, object]) -> str | None:
        """The channel a post lands in, for pacing (updates and deletions are not paced)."""
        if kind == "card" or payload.get("anchor") == "card":
            return self._settings.tech_channel
        if kind != "post":
            return None
        if payload.get("anchor") == "client_root":
            where = self.client_thread_of(ticket)
            return where.channel if where is not None else None
        channel = payload.get("channel")
        return str(channel) if channel else None


def message_fields(msg: SlackMessage) -> dict[str, object]:
    return {"text": msg.text, "blocks": list(msg.blocks)}
