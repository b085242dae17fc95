"""What the Slack emulator holds and records: messages, views, users, channels, calls, answers."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
DeliveryKind = Literal["events_api", "slash_commands", "interactive"]


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator saw and answered it."""

    method: str
    params: JSON
    ok: bool
    error: str | None
    status: int
    at: float


@dataclass
class Delivery:
    """The bot's answer to one delivery: HTTP response or Socket Mode ack (status 0 = none)."""

    status: int
    body: str
    json: JSON | None
    headers: dict[str, str]
    kind: str = ""
    payload: JSON = field(default_factory=dict)
    event_id: str | None = None
    envelope_id: str | None = None
    elapsed: float = 0.0
    # What Slack would refuse in a slash command's immediate answer (its blocks, validated as
    # chat.postMessage's are); the user would see "failed with the error invalid_blocks".
    response_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Message:
    """A channel message in its current version; `updates` holds earlier versions, oldest first."""

    channel: str
    ts: str
    user: str | None
    text: str
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    username: str | None = None
    subtype: str | None = None
    reply_broadcast: bool = False
    updates: list[Message] = field(default_factory=list)
    deleted: bool = False
    edited_ts: str | None = None
    metadata: JSON | None = None  # {"event_type": …, "event_payload": {…}} as posted

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str = "T0EMU") -> JSON:
        """The message object as Slack puts it into API responses and event payloads."""
        out: JSON = {"type": "message"}
        if self.subtype:
            out["subtype"] = self.subtype
        out["text"] = self.text
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
        if self.app_id:
            out["app_id"] = self.app_id
        if self.username:
            out["username"] = self.username
        out["ts"] = self.ts
        out["team"] = team_id
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.edited_ts:
            out["edited"] = {"user": self.user or "", "ts": self.edited_ts}
        if self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


@dataclass
class Ephemeral:
    """A message only `user` sees (chat.postEphemeral or a response_url reply)."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    deleted: bool = False
    updates: list[Ephemeral] = field(default_factory=list)


@dataclass
class View:
    """A modal or Home tab as Slack holds it; `view` is the definition last set by the bot."""

    id: str
    user: str
    view: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""
    is_open: bool = True
    errors: dict[str, str] = field(default_factory=dict)
    state: JSON = field(default_factory=dict)
    updates: list[JSON] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.view.get("type", "modal"))

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSON]:
        return list(self.view.get("blocks") or [])

    @property
    def title(self) -> str:
        title = self.view.get("title")
        return str(title.get("text", "")) if isinstance(title, dict) else ""

    def to_api(self, *, team_id: str, app_id: str, bot_id: str, with_state: bool = True) -> JSON:
        """The view as payloads carry it; Web API replies have empty state (`with_state=False`)."""
        v = self.view
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "blocks": copy.deepcopy(v.get("blocks") or []),
            "private_metadata": v.get("private_metadata", ""),
            "callback_id": v.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.state) if with_state else {}},
            "hash": self.hash,
            "title": copy.deepcopy(v.get("title")),
            "clear_on_close": bool(v.get("clear_on_close", False)),
            "notify_on_close": bool(v.get("notify_on_close", False)),
            "close": copy.deepcopy(v.get("close")),
            "submit": copy.deepcopy(v.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": self.external_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass(frozen=True)
class ResponsePost:
    """One POST the bot made to a `response_url` the emulator handed out."""

    url: str
    payload: JSON
    user: str
    channel: str
    message_ts: str | None
    status: int
    at: float


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "Europe/London"
    is_bot: bool = False
    is_restricted: bool = False  # a guest: multi-channel,
    is_ultra_restricted: bool = False  # ... or single-channel (both flags set, as Slack does)
    deleted: bool = False  # deactivated

    def to_api(self, team_id: str) -> JSON:
        profile: JSON = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_offset": 0,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    im_user: str | None = None

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    @property
    def channel_type(self) -> str:
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"

    def to_api(self, bot_user_id: str) -> JSON:
        if self.im_user is not None:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }


@dataclass
class Stats:
    api_calls: int = 0
    ratelimited: int = 0
    server_errors: int = 0
    deliveries: int = 0
