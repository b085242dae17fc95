"""`response_url`s: handed out with commands and actions; the bot's POSTs to them edit messages."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace

from bot.sandbox.slack.blocks import block_errors
from bot.sandbox.slack.elements import with_block_ids
from bot.sandbox.slack.records import JSON, Ephemeral, Message, ResponsePost
from bot.sandbox.slack.wire import Reply, flag
from bot.sandbox.slack.workspace import ResponseTarget, Workspace

RESPONSE_URL_MAX_USES = 5


def issue(
    ws: Workspace, user: str, channel: str, message_ts: str | None, ephemeral: bool = False
) -> str:
    """A fresh response_url for `user`; `message_ts` is the message it may replace or delete."""
    key = uuid.uuid4().hex
    ws.response_targets[key] = ResponseTarget(user, channel, message_ts, ephemeral)
    return f"{ws.base_url}/response/{key}"


def handle(ws: Workspace, key: str, raw: bytes) -> Reply:
    """One POST to `/response/<key>` (the HTTP server's route)."""
    with ws.cond:
        try:
            status, body = _apply(ws, key, raw)
        finally:
            ws.changed()
    return Reply(status, body.encode(), {"Content-Type": "text/plain"})


def _apply(ws: Workspace, key: str, raw: bytes) -> tuple[int, str]:
    target = ws.response_targets.get(key)
    if target is None:
        return 404, "invalid_url"
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        return 400, "invalid_payload"
    if not isinstance(payload, dict):
        return 400, "invalid_payload"
    target.uses += 1
    status, body = 200, "ok"
    if target.uses > RESPONSE_URL_MAX_USES:
        status, body = 404, "used_url"
    elif block_errors(payload.get("blocks")):
        status, body = 400, "invalid_blocks"
    elif not flag(payload.get("delete_original")) and not (
        payload.get("text") or payload.get("blocks") or payload.get("attachments")
    ):
        status, body = 400, "no_text"
    ws.responses.append(
        ResponsePost(
            url=f"{ws.base_url}/response/{key}",
            payload=payload,
            user=target.user,
            channel=target.channel,
            message_ts=target.message_ts,
            status=status,
            at=ws.now(),
        )
    )
    if status == 200:
        _show(ws, target, payload)
    return status, body


def _show(ws: Workspace, target: ResponseTarget, payload: JSON) -> None:
    text = str(payload.get("text") or "")
    blocks = list(payload.get("blocks") or [])
    attachments = list(payload.get("attachments") or [])
    original: Message | Ephemeral | None = None
    if target.message_ts is not None:
        if target.ephemeral:
            original = next((e for e in ws.ephemerals if e.message_ts == target.message_ts), None)
        else:
            original = ws.by_key.get((target.channel, target.message_ts))
    if original is not None and flag(payload.get("delete_original")):
        original.deleted = True
    elif original is not None and flag(payload.get("replace_original")):
        original.updates.append(replace(original, updates=[]))  # type: ignore[arg-type]
        original.text = text
        original.blocks = with_block_ids(blocks, ws.next_ts())
        original.attachments = copy.deepcopy(attachments)
    elif payload.get("response_type") == "in_channel":
        ts = ws.next_ts()
        ws.store(
            Message(
                channel=target.channel,
                ts=ts,
                user=ws.bot_user_id,
                text=text,
                blocks=with_block_ids(blocks, ts),
                attachments=copy.deepcopy(attachments),
                thread_ts=payload.get("thread_ts") or None,
                bot_id=ws.bot_id,
                app_id=ws.app_id,
            )
        )
    elif not flag(payload.get("delete_original")):
        ts = ws.next_ts()
        ws.ephemerals.append(
            Ephemeral(
                channel=target.channel,
                user=target.user,
                message_ts=ts,
                text=text,
                blocks=with_block_ids(blocks, ts),
                attachments=copy.deepcopy(attachments),
                thread_ts=payload.get("thread_ts") or None,
            )
        )
