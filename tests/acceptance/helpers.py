"""Reading what Slack and the mailbox show, for the acceptance tests."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack, wait_until
from storage.models import Ticket

GUEST = CAST.contact  # the client's IT lead, a guest in the technician channel: not staff


def actions_in(blocks: Any) -> list[str]:
    found = []
    for block in blocks or []:
        if block.get("type") == "actions":
            found += [e.get("action_id") for e in block.get("elements", [])]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("action_id"):
            found.append(accessory["action_id"])
    return found


def block_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def bot_messages(stack: Stack, channel: str) -> list[Any]:
    return [m for m in stack.emu.messages(channel) if m.bot_id]


def card(stack: Stack, ticket_id: int) -> Any:
    """The ticket's card, found through the message the bot recorded for it."""
    from sqlalchemy import select

    from storage.models import ChatMessage

    with stack.rt.sessions() as s:
        row = s.scalar(
            select(ChatMessage).where(
                ChatMessage.ticket_id == ticket_id, ChatMessage.role == "card"
            )
        )
    assert row is not None, f"no card for #{ticket_id}"
    msg = stack.emu.message(row.channel, row.ts)
    assert msg.channel == CAST.tech_channel
    return msg


def client_root(stack: Stack, ticket_id: int, channel: str = CAST.client_channel) -> Any:
    for msg in stack.emu.messages(channel):
        if msg.bot_id and f"#{ticket_id}" in msg.text and "received" in msg.text.lower():
            return msg
    raise AssertionError(f"no client thread root for #{ticket_id} in {channel}")


def replies(stack: Stack, channel: str, ts: str) -> list[Any]:
    return list(stack.emu.replies(channel, ts))


def mails_to(stack: Stack, address: str) -> list[Any]:
    assert stack.mail is not None
    return [m.message for m in stack.mail.messages if address in [r.lower() for r in m.rcpt_tos]]


def ticket(stack: Stack, ticket_id: int) -> Ticket:
    with stack.rt.sessions() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        return t


def ok(delivery: Any) -> Any:
    assert delivery.status == 200, f"bot answered {delivery.status}: {delivery.body}"
    data = delivery.json or {}
    assert data.get("response_action") != "errors", data
    return delivery


def open_critical(
    stack: Stack,
    user: str = CAST.employee,
    channel: str = CAST.client_channel,
    *,
    priority: str = "critical",
) -> int:
    """Erin's 'Internet down' ticket (critical unless told) through the modal; returns its id."""
    ok(stack.emu.slash_command(user, channel, ""))
    ok(
        stack.emu.submit_view(
            user,
            values={
                "title": "Internet down at HQ",
                "description": "No internet on any floor since 9:10.",
                "priority": priority,
                "affected": "all",
            },
        )
    )
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        from sqlalchemy import func, select

        return int(s.scalar(select(func.max(Ticket.id))) or 0)


def assign(stack: Stack, ticket_id: int, technician: str = CAST.tech1) -> None:
    ok(stack.emu.click(CAST.manager, CAST.tech_channel, card(stack, ticket_id).ts, ids.ASSIGN))
    ok(stack.emu.submit_view(CAST.manager, values={"assignee": technician}))
    stack.wait_delivered()


def command_body(text: str) -> bytes:
    """A /ticket slash command's form body from the employee in the client channel, unsigned."""
    return urllib.parse.urlencode(
        {
            "command": "/ticket",
            "text": text,
            "user_id": CAST.employee,
            "channel_id": CAST.client_channel,
            "team_id": "T0EMU",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/none",
        }
    ).encode()


def home_of(stack: Stack, user: str, ready: Callable[[Any], bool] = lambda v: True) -> Any:
    """`user`'s Home once it is published and `ready` says it is the one wanted."""

    def published() -> bool:
        view = stack.emu.home_view(user)
        return view is not None and ready(view)

    wait_until(published, 15, lambda: f"no such Home for {user}: {stack.emu.home_view(user)}")
    return stack.emu.home_view(user)


def showing(text: str) -> Callable[[Any], bool]:
    return lambda view: text in block_text(view.view["blocks"])
