"""What the Teams listeners read from an activity: who, where, the text as typed, an invoke's data.
Every field is read defensively: Teams sends variety."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.teams.conversations import split_thread

_AT = re.compile(r"<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_BLOCK_END = re.compile(r"</(p|div)>|<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class Incoming:
    """An activity as the listeners use it."""

    id: str
    conversation: str  # without ;messageid=
    thread: str | None  # the thread's root activity id, in a channel
    kind: str  # personal | channel | groupChat
    user_id: str
    aad_id: str
    name: str
    tenant: str | None
    service_url: str
    text: str  # plain text, mentions of the bot removed
    reply_to: str | None
    team_id: str | None
    value: dict[str, Any] = field(default_factory=dict)
    from_bot: bool = False
    addressed: bool = True  # to the bot: a 1:1 or group chat, or a channel post @mentioning it

    @property
    def actor_key(self) -> str:
        return f"teams:{self.aad_id}"

    @property
    def where(self) -> str:
        """The conversation to answer in: the thread, in a channel."""
        if self.thread:
            return f"{self.conversation};messageid={self.thread}"
        return self.conversation


def dump(activity: Any) -> dict[str, Any]:
    """The SDK's activity model as the JSON Teams sent."""
    if isinstance(activity, dict):
        return activity
    dumped: dict[str, Any] = activity.model_dump(by_alias=True, exclude_none=True)
    return dumped


def parse(activity: dict[str, Any]) -> Incoming | None:
    """None when the activity lacks what a person's activity always has."""
    sender = activity.get("from") or {}
    conversation = activity.get("conversation") or {}
    conversation_id = str(conversation.get("id") or "")
    user_id, aad_id = str(sender.get("id") or ""), str(sender.get("aadObjectId") or "")
    if not conversation_id or not user_id:
        return None
    base, thread = split_thread(conversation_id)
    channel_data = activity.get("channelData") or {}
    tenant = (channel_data.get("tenant") or {}).get("id") or conversation.get("tenantId")
    team = (channel_data.get("team") or {}).get("id")
    recipient = str((activity.get("recipient") or {}).get("id") or "")
    value = activity.get("value")
    return Incoming(
        id=str(activity.get("id") or ""),
        conversation=base,
        thread=thread,
        kind=str(conversation.get("conversationType") or "personal"),
        user_id=user_id,
        aad_id=aad_id.lower(),
        name=str(sender.get("name") or "Teams user"),
        tenant=str(tenant).lower() if tenant else None,
        service_url=str(activity.get("serviceUrl") or ""),
        text=plain_text(str(activity.get("text") or ""), activity.get("entities"), recipient),
        reply_to=str(activity["replyToId"]) if activity.get("replyToId") else None,
        team_id=str(team) if team else None,
        value=value if isinstance(value, dict) else {},
        from_bot=sender.get("role") == "bot" or user_id.startswith("28:"),
        addressed=conversation.get("conversationType") != "channel"
        or bool(bot_mentions(activity.get("entities"), recipient)),
    )


def bot_mentions(entities: object, bot_id: str) -> set[str]:
    """The `<at>…</at>` texts that mention the bot."""
    names = set()
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict) and entity.get("type") == "mention":
            mentioned = entity.get("mentioned") or {}
            if isinstance(mentioned, dict) and str(mentioned.get("id") or "") == bot_id:
                names.add(str(entity.get("text") or ""))
    return names


def plain_text(text: str, entities: object, bot_id: str) -> str:
    """A Teams message's text as the person typed it: the bot's @mention removed, HTML (channel
    messages arrive as HTML) turned into text."""
    for name in bot_mentions(entities, bot_id):
        text = text.replace(name, " ")
    text = _BLOCK_END.sub("\n", text)
    text = _TAG.sub("", _AT.sub(lambda m: _TAG.sub("", m.group(0)), text))
    lines = [" ".join(line.split()) for line in html.unescape(text).splitlines()]
    return "\n".join(line for line in lines if line).strip()


def invoke_data(value: dict[str, Any]) -> dict[str, Any]:
    """A task/fetch or task/submit value: its `data` (Teams wraps the button's data there)."""
    data = value.get("data")
    return data if isinstance(data, dict) else value


def ticket_id(data: dict[str, Any]) -> int | None:
    """The ticket a button or form names; None when it names none (or nonsense)."""
    raw = data.get("ticket")
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None
