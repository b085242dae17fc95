"""Builders for the activities Teams sends a bot: 1:1 and channel messages, thread replies, card
clicks (Action.Execute / Action.Submit), dialogs (task/fetch, task/submit), roster changes.

Shapes follow what the Bot Connector delivers to `/api/messages` for the `msteams` channel.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.teams.records import JSON, TeamsChannel, TeamsUser

CARD_ACTION = "adaptiveCard/action"


@dataclass
class ActivityFactory:
    """Makes activities as the stand-in's Bot Connector would deliver them to the bot.

    `next_id` gives numeric activity ids; `personal_conversation` the 1:1 conversation id
    ("a:…") of a user with the bot.
    """

    service_url: str
    tenant_id: str
    bot_id: str  # "28:<app id>"
    bot_name: str
    next_id: Callable[[], str]
    personal_conversation: Callable[[TeamsUser], str]

    # -- messages ----------------------------------------------------------------------

    def personal_message(self, user: TeamsUser, text: str, **extra: Any) -> JSON:
        """`text` typed by `user` in their 1:1 chat with the bot."""
        return self._message(user, self._personal(user), text, **extra)

    def channel_message(
        self, user: TeamsUser, channel: TeamsChannel, text: str, *, mention_bot: bool = True
    ) -> JSON:
        """A new post in `channel` (a thread root); by default it @mentions the bot first."""
        activity_id = self.next_id()
        conversation = self._channel(channel, activity_id)
        return self._message(
            user, conversation, text, activity_id=activity_id, mention_bot=mention_bot
        ) | {"channelData": self._channel_data(channel)}

    def thread_reply(
        self,
        user: TeamsUser,
        channel: TeamsChannel,
        root_id: str,
        text: str,
        *,
        mention_bot: bool = False,
    ) -> JSON:
        """A reply in the thread of `root_id` (Teams sends these without @mention only to bots
        with the ChannelMessage.Read.Group permission)."""
        return self._message(
            user, self._channel(channel, root_id), text, mention_bot=mention_bot
        ) | {"replyToId": root_id, "channelData": self._channel_data(channel)}

    def submit_action(self, user: TeamsUser, where: JSON, value: JSON, reply_to_id: str) -> JSON:
        """An Action.Submit click: a `message` with `value` and no text."""
        activity = self._base("message", user, where)
        activity |= {"replyToId": reply_to_id, "value": value}
        return activity

    # -- invokes -----------------------------------------------------------------------

    def card_action(
        self, user: TeamsUser, where: JSON, verb: str, data: JSON, reply_to_id: str
    ) -> JSON:
        """An Action.Execute click on the card activity `reply_to_id` (Universal Actions)."""
        value = {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        }
        return self._invoke(user, where, CARD_ACTION, value) | {"replyToId": reply_to_id}

    def task_fetch(self, user: TeamsUser, where: JSON, data: JSON) -> JSON:
        """Opening a dialog (task module) from a button whose data is `data`."""
        return self._invoke(
            user, where, "task/fetch", {"data": data, "context": {"theme": "default"}}
        )

    def task_submit(self, user: TeamsUser, where: JSON, data: JSON) -> JSON:
        """Submitting a dialog: `data` holds the form's inputs (and the button's own data)."""
        return self._invoke(
            user, where, "task/submit", {"data": data, "context": {"theme": "default"}}
        )

    # -- roster ------------------------------------------------------------------------

    def members_added(self, users: list[TeamsUser], where: JSON, *, by: TeamsUser) -> JSON:
        """`conversationUpdate` for `users` joining (the bot's own install adds the bot id)."""
        activity = self._base("conversationUpdate", by, where)
        activity["membersAdded"] = [u.account() for u in users]
        activity["channelData"] |= {"eventType": "teamMemberAdded"}
        return activity

    def members_removed(self, users: list[TeamsUser], where: JSON, *, by: TeamsUser) -> JSON:
        activity = self._base("conversationUpdate", by, where)
        activity["membersRemoved"] = [u.account() for u in users]
        activity["channelData"] |= {"eventType": "teamMemberRemoved"}
        return activity

    # -- where an activity happens -----------------------------------------------------

    def personal(self, user: TeamsUser) -> JSON:
        """The `conversation` of `user`'s 1:1 chat with the bot."""
        return self._personal(user)

    def channel(self, channel: TeamsChannel, root_id: str) -> JSON:
        """The `conversation` of the thread of `root_id` in `channel`."""
        return self._channel(channel, root_id) | {"channelData": self._channel_data(channel)}

    # -- internals ---------------------------------------------------------------------

    def _personal(self, user: TeamsUser) -> JSON:
        return {
            "conversationType": "personal",
            "tenantId": user.tenant_id,
            "id": self.personal_conversation(user),
        }

    def _channel(self, channel: TeamsChannel, root_id: str) -> JSON:
        return {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": channel.tenant_id,
            "id": f"{channel.id};messageid={root_id}",
            "channelData": self._channel_data(channel),
        }

    def _channel_data(self, channel: TeamsChannel) -> JSON:
        return {
            "teamsChannelId": channel.id,
            "teamsTeamId": channel.team_id,
            "channel": {"id": channel.id, "name": channel.name},
            "team": {
                "id": channel.team_id,
                "name": channel.team_name,
                "aadGroupId": channel.aad_group_id,
            },
            "tenant": {"id": channel.tenant_id},
        }

    def _base(
        self, kind: str, user: TeamsUser, where: JSON, activity_id: str | None = None
    ) -> JSON:
        now = dt.datetime.now(dt.UTC)
        conversation = {k: v for k, v in where.items() if k != "channelData"}
        channel_data = where.get("channelData") or {"tenant": {"id": conversation["tenantId"]}}
        return {
            "type": kind,
            "id": activity_id or self.next_id(),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.isoformat(timespec="milliseconds"),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": user.account(),
            "conversation": conversation,
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "channelData": dict(channel_data),
            "locale": "en-US",
            "localTimezone": "Europe/Berlin",
        }

    def _message(
        self,
        user: TeamsUser,
        where: JSON,
        text: str,
        *,
        activity_id: str | None = None,
        mention_bot: bool = False,
        **extra: Any,
    ) -> JSON:
        activity = self._base("message", user, where, activity_id)
        entities: list[JSON] = [
            {
                "type": "clientInfo",
                "locale": "en-US",
                "country": "US",
                "platform": "Web",
                "timezone": "Europe/Berlin",
            }
        ]
        if mention_bot:
            tag = f"<at>{html.escape(self.bot_name)}</at>"
            text = f"{tag} {text}"
            entities.insert(
                0,
                {
                    "type": "mention",
                    "text": tag,
                    "mentioned": {"id": self.bot_id, "name": self.bot_name},
                },
            )
        activity |= {"text": text, "textFormat": "plain", "entities": entities, **extra}
        return activity

    def _invoke(self, user: TeamsUser, where: JSON, name: str, value: JSON) -> JSON:
        activity = self._base("invoke", user, where)
        activity |= {"name": name, "value": value}
        return activity


def new_user_id() -> str:
    """A Teams user id ("29:" + an opaque string, as the Bot Connector issues them)."""
    return "29:1" + uuid.uuid4().hex + uuid.uuid4().hex[:8]


def new_thread_id() -> str:
    """A channel / team id ("19:…@thread.tacv2")."""
    return f"19:{uuid.uuid4().hex}@thread.tacv2"
