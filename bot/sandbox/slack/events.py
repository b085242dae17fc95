"""Events API: what posting, editing or deleting a message, opening the Home tab, joining or
leaving a channel, or deactivating an account sends the bot.

Each builder changes the workspace as Slack would and returns the event payloads; hold `ws.cond`.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, replace

from bot.sandbox.slack.elements import with_block_ids
from bot.sandbox.slack.records import JSON, Channel, Delivery, Message
from bot.sandbox.slack.render import rich_text_blocks
from bot.sandbox.slack.workspace import Workspace


@dataclass(frozen=True)
class Outbound:
    """The events one change makes Slack send; none when the bot is not in the channel."""

    ts: str
    channel: Channel
    payloads: list[JSON]


def not_member(channel: Channel) -> Delivery:
    """The stand-in answer for an event Slack does not send (the bot is not in `channel`)."""
    body = f"not delivered: the bot is not a member of {channel.id}"
    return Delivery(0, body, None, {}, kind="events_api")


def app_home_opened(ws: Workspace, user: str) -> JSON:
    who = ws.user_or_raise(user)
    event: JSON = {
        "type": "app_home_opened",
        "user": who.id,
        "channel": ws.dm_for(who.id).id,
        "tab": "home",
        "event_ts": ws.next_ts(),
    }
    home = ws.homes.get(who.id)
    if home is not None:
        event["view"] = ws.api_view(home)
    return _envelope(ws, event)


def user_message(
    ws: Workspace,
    user: str,
    channel: str,
    text: str,
    *,
    thread_ts: str | None,
    broadcast: bool,
    app_mention: bool,
) -> Outbound:
    """`user` posts `text`: the `message` event, then `app_mention` if it mentions the bot."""
    who, where = ws.user_or_raise(user), ws.channel_or_raise(channel)
    if not where.is_im and user not in where.members:
        if where.is_private:
            raise AssertionError(f"{user} is not a member of private channel {where.id}")
        where.members.append(user)
    parent = None
    if thread_ts is not None:
        parent = ws.by_key.get((where.id, thread_ts))
        if parent is None or parent.deleted or parent.is_reply:
            raise AssertionError(f"no top-level message {thread_ts} in {where.id}")
    ts = ws.next_ts()
    blocks = rich_text_blocks(text)
    message = ws.store(
        Message(
            channel=where.id,
            ts=ts,
            user=who.id,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            reply_broadcast=broadcast and thread_ts is not None,
            subtype="thread_broadcast" if broadcast and thread_ts else None,
        )
    )
    event: JSON = {"type": "message"}
    if message.subtype:
        event["subtype"] = message.subtype
    event.update(client_msg_id=str(uuid.uuid4()), user=who.id, text=text, ts=ts)
    if parent is not None:
        event["thread_ts"] = parent.ts
        event["parent_user_id"] = parent.user or parent.bot_id
        if broadcast:
            event["root"] = parent.to_api(ws.team_id)
    event.update(
        team=ws.team_id,
        channel=where.id,
        channel_type=where.channel_type,
        event_ts=ts,
        blocks=copy.deepcopy(blocks),
    )
    member = where.is_im or ws.bot_user_id in where.members
    payloads = [_envelope(ws, event)]
    mentioned = f"<@{ws.bot_user_id}" in text
    if member and app_mention and not where.is_im and mentioned:
        mention_event = {
            k: v
            for k, v in event.items()
            if k not in ("channel_type", "parent_user_id", "subtype", "root")
        }
        payloads.append(_envelope(ws, {**mention_event, "type": "app_mention"}))
    return Outbound(ts, where, payloads if member else [])


def bot_message(
    ws: Workspace,
    channel: str,
    *,
    text: str,
    attachments: list[JSON] | None,
    blocks: list[JSON] | None,
    bot_id: str,
    username: str,
    subtype: str | None,
    thread_ts: str | None,
) -> Outbound:
    """Another integration posts (webhook shape; subtype=None gives a modern app's)."""
    where = ws.channel_or_raise(channel)
    ts = ws.next_ts()
    atts = copy.deepcopy(attachments or [])
    for n, att in enumerate(atts, start=1):
        att.setdefault("id", n)
    message = ws.store(
        Message(
            channel=where.id,
            ts=ts,
            user=None,
            text=text,
            blocks=with_block_ids(blocks or [], ts),
            attachments=atts,
            thread_ts=thread_ts,
            bot_id=bot_id,
            username=username,
            subtype=subtype,
        )
    )
    event = message.to_api(ws.team_id)
    event["icons"] = {"image_48": f"https://avatars.example.invalid/{bot_id}-48.png"}
    event.update(channel=where.id, event_ts=ts, channel_type=where.channel_type)
    member = where.is_im or ws.bot_user_id in where.members
    payload = _envelope(ws, event)
    return Outbound(ts, where, [payload] if member else [])


def message_changed(ws: Workspace, user: str, channel: str, ts: str, new_text: str) -> Outbound:
    """`user` edits their message `ts`."""
    where = ws.channel_or_raise(channel)
    message = ws.by_key.get((where.id, ts))
    if message is None or message.deleted or message.user != user:
        raise AssertionError(f"{user} has no message {ts} in {where.id} to edit")
    previous = message.to_api(ws.team_id)
    message.updates.append(replace(message, updates=[]))
    message.text = new_text
    message.blocks = rich_text_blocks(new_text)
    return _changed(ws, where, message, previous)


def bot_message_changed(
    ws: Workspace, channel: str, ts: str, *, text: str, attachments: list[JSON] | None
) -> Outbound:
    """An integration edits its own message (Zabbix recolours an alert green on recovery)."""
    where = ws.channel_or_raise(channel)
    message = ws.by_key.get((where.id, ts))
    if message is None or message.deleted or not message.bot_id:
        raise AssertionError(f"no integration message {ts} in {where.id} to edit")
    previous = message.to_api(ws.team_id)
    message.updates.append(replace(message, updates=[]))
    message.text = text
    atts = copy.deepcopy(attachments or [])
    for n, att in enumerate(atts, start=1):
        att.setdefault("id", n)
    message.attachments = atts
    return _changed(ws, where, message, previous)


def _changed(ws: Workspace, where: Channel, message: Message, previous: JSON) -> Outbound:
    event_ts = ws.next_ts()
    message.edited_ts = event_ts
    current = message.to_api(ws.team_id)
    for shape in (previous, current):
        if message.is_reply:
            parent = ws.by_key.get((where.id, str(message.thread_ts)))
            shape["parent_user_id"] = parent.user if parent else None
    payload = _envelope(
        ws,
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": where.id,
            "channel_type": where.channel_type,
            "ts": event_ts,
            "event_ts": event_ts,
            "message": current,
            "previous_message": previous,
        },
    )
    member = where.is_im or ws.bot_user_id in where.members
    return Outbound(event_ts, where, [payload] if member else [])


def message_deleted(ws: Workspace, user: str, channel: str, ts: str) -> Outbound:
    """`user` deletes their message `ts`."""
    where = ws.channel_or_raise(channel)
    message = ws.by_key.get((where.id, ts))
    if message is None or message.deleted or message.user != user:
        raise AssertionError(f"{user} has no message {ts} in {where.id} to delete")
    message.deleted = True
    event_ts = ws.next_ts()
    payload = _envelope(
        ws,
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": where.id,
            "channel_type": where.channel_type,
            "ts": event_ts,
            "event_ts": event_ts,
            "deleted_ts": ts,
            "previous_message": message.to_api(ws.team_id),
        },
    )
    member = where.is_im or ws.bot_user_id in where.members
    return Outbound(event_ts, where, [payload] if member else [])


def member_joined(ws: Workspace, user: str, channel: str) -> Outbound:
    """`user` joins `channel` (or is added to it): `member_joined_channel`."""
    who, where = ws.user_or_raise(user), ws.channel_or_raise(channel)
    if where.is_im or who.id in where.members:
        raise AssertionError(f"{user} cannot join {where.id}")
    where.members.append(who.id)
    return _membership(ws, "member_joined_channel", who.id, where)


def member_left(ws: Workspace, user: str, channel: str) -> Outbound:
    """`user` leaves `channel` (or is removed from it): `member_left_channel`."""
    who, where = ws.user_or_raise(user), ws.channel_or_raise(channel)
    if where.is_im or who.id not in where.members:
        raise AssertionError(f"{user} is not a member of {where.id}")
    where.members.remove(who.id)
    return _membership(ws, "member_left_channel", who.id, where)


def _membership(ws: Workspace, kind: str, user: str, where: Channel) -> Outbound:
    ts = ws.next_ts()
    event: JSON = {
        "type": kind,
        "user": user,
        "channel": where.id,
        "channel_type": "G" if where.is_private else "C",
        "team": ws.team_id,
        "event_ts": ts,
    }
    # Slack tells the bot about its own channels only (a bot that just left is still told).
    member = ws.bot_user_id in where.members or user == ws.bot_user_id
    return Outbound(ts, where, [_envelope(ws, event)] if member else [])


def user_change(ws: Workspace, user: str) -> JSON:
    """`user`'s account changed (here: after a deactivation); sent to every app in the team."""
    who = ws.user_or_raise(user)
    ts = ws.next_ts()
    event: JSON = {
        "type": "user_change",
        "user": who.to_api(ws.team_id),
        "cache_ts": int(ws.now()),
        "event_ts": ts,
    }
    return _envelope(ws, event)


def _envelope(ws: Workspace, event: JSON) -> JSON:
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "context_team_id": ws.team_id,
        "context_enterprise_id": None,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": ws.next_id("Ev"),
        "event_time": int(ws.now()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }
