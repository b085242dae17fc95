"""The Bot Connector's conversations REST API (`/v3/conversations`) over what the stand-in holds:
the roster, channels and the team behind each, 1:1 chats, and the activities the bot posted."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from bot.sandbox.teams.records import (
    JSON,
    ConversationKind,
    PostedActivity,
    TeamsChannel,
    TeamsUser,
)
from bot.sandbox.teams.wire import Reply, error

# The API's paths, after the service path (smba.trafficmanager.net/teams/v3/conversations/…).
PATH = re.compile(r"^(?:/[^/]+)?/v3/conversations(?:/(?P<rest>.*))?$")


@dataclass
class Conversation:
    id: str
    kind: ConversationKind
    tenant_id: str
    member_ids: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """What the API refuses, as the connector is set now."""

    service_url: str
    max_message_bytes: int
    not_installed: set[str]  # users who have not installed the app: no 1:1 chat with them


class Conversations:
    """The conversations and what the bot posted in them; the caller holds the connector's lock
    around every use."""

    def __init__(self, tenant_id: str, ids: Iterator[int]) -> None:
        self.tenant_id = tenant_id
        self._ids = ids  # activity ids, shared with the activities the connector builds
        self.users: dict[str, TeamsUser] = {}
        self.channels: dict[str, TeamsChannel] = {}
        self.conversations: dict[str, Conversation] = {}
        self.personal: dict[str, str] = {}  # user id → 1:1 conversation id
        self.posted: dict[str, PostedActivity] = {}  # activity id → posted activity
        self.order: list[str] = []  # activity ids in posting order

    def add_channel(self, channel: TeamsChannel) -> None:
        self.channels[channel.id] = channel
        for conv_id in (channel.id, channel.team_id):
            self.conversations[conv_id] = Conversation(
                conv_id, "channel", channel.tenant_id, channel.member_ids
            )

    def set_team_members(self, channel: TeamsChannel, member_ids: tuple[str, ...]) -> None:
        for conv_id in (channel.id, channel.team_id):
            self.conversations[conv_id].member_ids = member_ids

    def personal_chat(self, user_id: str, tenant_id: str) -> str:
        """The id of the user's 1:1 chat with the bot (created on first use)."""
        conv_id = self.personal.get(user_id)
        if conv_id is None:
            conv_id = "a:1" + secrets.token_urlsafe(48)
            self.personal[user_id] = conv_id
            self.conversations[conv_id] = Conversation(conv_id, "personal", tenant_id, (user_id,))
        return conv_id

    def answer(self, method: str, rest: str, raw: bytes, body: Any, limits: Limits) -> Reply:
        """One call to `/v3/conversations/{rest}`."""
        parts = [unquote(p) for p in rest.split("/")] if rest else []
        if method == "POST" and not parts:
            return self._create(raw, body, limits)
        if not parts:
            return error(405, "MethodNotAllowed", "unsupported")
        conv_id, _, root = parts[0].partition(";messageid=")
        conv = self.conversations.get(conv_id)
        if conv is None:
            return error(404, "ConversationNotFound", "Conversation not found.")
        tail = parts[1:]
        too_big = len(raw) > limits.max_message_bytes
        if tail[:1] == ["activities"] and method in ("POST", "PUT") and too_big:
            return error(413, "MessageSizeTooBig", "Message size too big")
        if tail == ["activities"] and method == "POST":
            return self._send(conv, root or None, body)
        if len(tail) == 2 and tail[0] == "activities":
            if method == "POST":  # "reply to activity": the thread of tail[1] in a channel
                thread = root or (tail[1] if conv.kind == "channel" else "")
                return self._send(conv, thread or None, body)
            if method == "PUT":
                return self._update(conv, tail[1], body)
            if method == "DELETE":
                return self._delete(conv, tail[1])
        if method == "GET" and tail in (["members"], ["pagedmembers"]):
            members = [self.users[m].to_api() for m in conv.member_ids if m in self.users]
            if tail == ["pagedmembers"]:
                return Reply(200, {"members": members})
            return Reply(200, members)
        if method == "GET" and len(tail) == 2 and tail[0] == "members":
            user = self._member(conv, tail[1])
            if user is None:
                return error(404, "MemberNotFoundInConversation", "The member was not found.")
            return Reply(200, user.to_api())
        return error(405, "MethodNotAllowed", f"unsupported: {method} {'/'.join(tail)}")

    def _member(self, conv: Conversation, key: str) -> TeamsUser | None:
        for member_id in conv.member_ids:
            user = self.users.get(member_id)
            if user is not None and key in (user.id, user.aad_object_id):
                return user
        return None

    def _create(self, raw: bytes, body: Any, limits: Limits) -> Reply:
        if not isinstance(body, dict):
            return error(400, "BadSyntax", "body must be a JSON object")
        if len(raw) > limits.max_message_bytes:
            return error(413, "MessageSizeTooBig", "Message size too big")
        channel_data = body.get("channelData") or {}
        tenant = (
            body.get("tenantId") or (channel_data.get("tenant") or {}).get("id") or self.tenant_id
        )
        if body.get("isGroup"):
            channel_id = (channel_data.get("channel") or {}).get("id")
            conv = self.conversations.get(str(channel_id))
            if conv is None or conv.kind != "channel":
                return error(404, "ConversationNotFound", "Channel not found.")
            activity = body.get("activity")
            if not isinstance(activity, dict):
                return error(400, "BadArgument", "a channel post needs an activity")
            activity_id = self._record(conv.id, None, activity)
            return Reply(
                201,
                {
                    "id": f"{conv.id};messageid={activity_id}",
                    "activityId": activity_id,
                    "serviceUrl": limits.service_url,
                },
            )
        members = body.get("members") or []
        if len(members) != 1 or not isinstance(members[0], dict):
            return error(400, "BadArgument", "a 1:1 conversation needs exactly one member")
        user_id = str(members[0].get("id") or "")
        user = self.users.get(user_id) or next(
            (u for u in self.users.values() if u.aad_object_id == user_id), None
        )
        if user is None or user.id in limits.not_installed:
            return error(403, "Forbidden", "The bot is not installed for this user.")
        if tenant != user.tenant_id:
            return error(403, "Forbidden", "The user is not in this tenant.")
        conv_id = self.personal_chat(user.id, user.tenant_id)
        out: JSON = {"id": conv_id, "serviceUrl": limits.service_url}
        activity = body.get("activity")
        if isinstance(activity, dict):
            out["activityId"] = self._record(conv_id, None, activity)
        return Reply(201, out)

    def _send(self, conv: Conversation, root: str | None, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return error(400, "BadSyntax", "body must be an activity")
        if conv.kind == "personal":
            root = None  # 1:1 chats have no threads
        elif root is not None:
            # Roots posted by people are unknown here: accept them; a bot post elsewhere is not.
            parent = self.posted.get(root)
            if parent is not None and parent.conversation_id != conv.id:
                return error(400, "BadArgument", "Thread root is in another conversation")
        if body["type"] == "typing":
            return Reply(200, {})
        return Reply(201, {"id": self._record(conv.id, root, body)})

    def _update(self, conv: Conversation, activity_id: str, body: Any) -> Reply:
        posted = self.posted.get(activity_id)
        if posted is None or posted.conversation_id != conv.id or posted.deleted:
            return error(404, "ActivityNotFound", "Activity not found.")
        if not isinstance(body, dict):
            return error(400, "BadSyntax", "body must be an activity")
        posted.versions.append(posted.activity)
        posted.activity = {**body, "id": activity_id}
        return Reply(200, {"id": activity_id})

    def _delete(self, conv: Conversation, activity_id: str) -> Reply:
        posted = self.posted.get(activity_id)
        if posted is None or posted.conversation_id != conv.id or posted.deleted:
            return error(404, "ActivityNotFound", "Activity not found.")
        posted.deleted = True
        return Reply(200, None)

    def _record(self, conv_id: str, root: str | None, activity: JSON) -> str:
        activity_id = str(next(self._ids))
        self.posted[activity_id] = PostedActivity(
            activity_id, conv_id, {**activity, "id": activity_id}, thread_root=root
        )
        self.order.append(activity_id)
        return activity_id
