"""Message events: thread replies become ticket updates; edits and deletions follow them.
Membership events keep who is a technician current.

Bolt runs only the first matching listener, so one `message` listener routes every subtype, and
catch-alls acknowledge the other subscribed events (an unhandled event would be a 404 and retried).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext

from bot.alerts.chat import classify_message
from bot.alerts.ingest import AlertService
from bot.config.alerts import ChatAlertRules
from bot.domain.tickets import TransitionError
from bot.messages import chat as messages
from bot.people.identity import SlackUser
from bot.people.membership import Membership
from bot.service.actor import Actor
from bot.service.errors import ServiceError
from bot.service.use_cases import TicketService

log = logging.getLogger(__name__)

HUMAN_SUBTYPES = (None, "thread_broadcast", "file_share")


@dataclass(frozen=True)
class AlertsChannel:
    """The channel where monitoring tools post, and how their messages are read."""

    channel: str
    rules: ChatAlertRules
    service: AlertService

    def handle(self, event: dict[str, Any], context: BoltContext) -> None:
        inner = event.get("message") if event.get("subtype") == "message_changed" else event
        if not isinstance(inner, dict) or inner.get("thread_ts", inner.get("ts")) != inner.get(
            "ts"
        ):
            return  # thread replies in the alerts channel are people talking, not alerts
        ours = {context.bot_id, context.bot_user_id} - {None}
        if inner.get("bot_id") in ours or inner.get("user") in ours:
            return  # never our own posts
        alert = classify_message(event, self.rules)
        if alert is not None:
            self.service.ingest([alert])


def register(
    app: App,
    service: TicketService,
    membership: Membership,
    alerts: AlertsChannel | None = None,
) -> None:
    @app.event("message")
    def handle_message_event(event: dict[str, Any], context: BoltContext) -> None:
        subtype = event.get("subtype")
        channel = event.get("channel") or ""
        if alerts is not None and channel == alerts.channel:
            alerts.handle(event, context)
            return
        if subtype in HUMAN_SUBTYPES:
            thread_ts, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
            if not thread_ts or not ts or thread_ts == ts or not user or event.get("bot_id"):
                return
            try:
                service.thread_message(
                    Actor(user),
                    channel=channel,
                    thread_ts=thread_ts,
                    ts=ts,
                    text=str(event.get("text") or ""),
                    delivery_key=f"msg:{channel}:{ts}",
                )
            except (TransitionError, ServiceError) as e:
                service.tell(user, channel, e.message)
        elif subtype == "message_changed":
            new = event.get("message") or {}
            old = event.get("previous_message") or {}
            ts = new.get("ts")
            if not ts or new.get("bot_id") or new.get("text") == old.get("text"):
                return  # unfurls and metadata changes arrive as message_changed too
            edited = (new.get("edited") or {}).get("ts") or event.get("event_ts") or ""
            service.message_edited(
                channel=channel,
                ts=ts,
                text=str(new.get("text") or ""),
                delivery_key=f"edit:{channel}:{ts}:{edited}",
            )
        elif subtype == "message_deleted":
            ts = event.get("deleted_ts")
            if ts:
                service.message_deleted(channel=channel, ts=ts, delivery_key=f"del:{channel}:{ts}")

    @app.event("app_mention")
    def handle_app_mention(event: dict[str, Any]) -> None:
        user, channel = event.get("user"), event.get("channel")
        if user and channel:
            service.tell(user, channel, messages.help_text().text)

    @app.event("member_joined_channel")
    def handle_member_joined_channel(event: dict[str, Any]) -> None:
        user, channel = event.get("user"), event.get("channel")
        if isinstance(user, str) and isinstance(channel, str):
            membership.joined(user, channel)

    @app.event("member_left_channel")
    def handle_member_left_channel(event: dict[str, Any]) -> None:
        user, channel = event.get("user"), event.get("channel")
        if isinstance(user, str) and isinstance(channel, str):
            membership.left(user, channel)

    @app.event("user_change")
    def handle_user_change(event: dict[str, Any]) -> None:
        user = event.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            membership.user_changed(SlackUser.from_api(user))
