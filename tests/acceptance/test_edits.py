"""An edit can take something back: card-thread replies edited between update and internal note."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import TicketEvent
from tests.acceptance.helpers import (
    GUEST,
    actions_in,
    assign,
    block_text,
    card,
    client_root,
    mails_to,
    ok,
    open_critical,
    replies,
    ticket,
)

CLIENT_ADDRESSES = ("erin@acme.example", "carl@acme.example")


def _reply(stack: Stack, tid: int, text: str, user: str = CAST.tech1) -> str:
    ts, answer = stack.emu.post_message(
        user, CAST.tech_channel, text, thread_ts=card(stack, tid).ts
    )
    assert answer.status == 200
    stack.wait_delivered()
    return ts


def _edit(stack: Stack, ts: str, text: str, user: str = CAST.tech1) -> Any:
    edited = ok(stack.emu.edit_message(user, CAST.tech_channel, ts, text))
    stack.wait_delivered()
    return edited


def _mirrors(stack: Stack, tid: int, needle: str) -> list[Any]:
    """Bot messages in the client's thread saying `needle`, deleted ones included."""
    thread = stack.emu.replies(
        CAST.client_channel, client_root(stack, tid).ts, include_deleted=True
    )
    return [m for m in thread if m.bot_id and needle in m.text]


def _mails(stack: Stack, address: str, needle: str) -> int:
    bodies = [m.get_body(("plain",)).get_content() for m in mails_to(stack, address)]
    return sum(needle in b for b in bodies)


def _kinds(stack: Stack, ts: str) -> list[str]:
    """The timeline kinds recorded for the reply posted as `ts` in the technician channel."""
    with stack.rt.sessions() as s:
        return list(
            s.scalars(
                select(TicketEvent.kind)
                .where(TicketEvent.source_channel == CAST.tech_channel, TicketEvent.source_ts == ts)
                .order_by(TicketEvent.id)
            )
        )


def _status(stack: Stack, user: str, channel: str, tid: int) -> str:
    return block_text(ok(stack.emu.slash_command(user, channel, f"status {tid}")).json)


def test_update_edited_into_an_internal_note_leaves_the_client_thread(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "ETA 20 minutes, bringing a spare router")
    assert [m.deleted for m in _mirrors(stack, tid, "spare router")] == [False]
    _edit(stack, ts, "internal: ETA 20 minutes, spare router is from the Jones job")
    assert [m.deleted for m in _mirrors(stack, tid, "spare router")] == [True]
    assert _kinds(stack, ts) == ["update", "made_internal"]
    # the email already sent stays sent; nothing more goes out
    for address in CLIENT_ADDRESSES:
        assert _mails(stack, address, "spare router") == 1
    staff = _status(stack, CAST.tech1, CAST.tech_channel, tid)
    assert "made internal: mirror removed from the client" in staff
    assert "Jones job" in staff
    client = _status(stack, CAST.employee, CAST.client_channel, tid)
    assert "spare router" not in client and "made internal" not in client


def test_internal_note_edited_into_an_update_is_mirrored_once(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "internal: router looks dead, checking the ISP")
    assert _mirrors(stack, tid, "router") == []
    assert ticket(stack, tid).state == "assigned"
    edited = _edit(stack, ts, "The router is dead; a new one arrives at 14:00")
    ok(stack.emu.redeliver(edited))
    stack.wait_delivered()
    mirrors = _mirrors(stack, tid, "new one arrives")
    assert len(mirrors) == 1 and not mirrors[0].deleted and "Tom Tech" in mirrors[0].text
    for address in CLIENT_ADDRESSES:
        assert _mails(stack, address, "new one arrives") == 1, address
        assert _mails(stack, address, "checking the ISP") == 0, address
    # as a fresh update: the assignee's first public word starts work
    assert ticket(stack, tid).state == "in_progress"
    assert _kinds(stack, ts) == ["internal_note", "made_public"]
    staff = _status(stack, CAST.tech1, CAST.tech_channel, tid)
    assert "made public: mirrored to the client" in staff
    client = _status(stack, CAST.employee, CAST.client_channel, tid)
    assert "new one arrives" in client and "checking the ISP" not in client


def test_public_internal_public_internal_follows_each_edit(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "ETA 20 minutes")
    _edit(stack, ts, "internal: ETA unknown, van broke down")
    assert [m.deleted for m in _mirrors(stack, tid, "ETA")] == [True]
    _edit(stack, ts, "ETA 40 minutes")
    assert [m.deleted for m in _mirrors(stack, tid, "ETA")] == [True, False]
    _edit(stack, ts, "ETA 45 minutes")  # public to public: the same mirror, updated
    mirrors = _mirrors(stack, tid, "ETA")
    assert [m.deleted for m in mirrors] == [True, False] and "45 minutes" in mirrors[1].text
    _edit(stack, ts, "🔒 ETA unknown again")
    assert [m.deleted for m in _mirrors(stack, tid, "ETA")] == [True, True]
    assert _kinds(stack, ts) == [
        "update",
        "made_internal",
        "made_public",
        "edited",
        "made_internal",
    ]
    for address in CLIENT_ADDRESSES:
        assert (_mails(stack, address, "ETA 20"), _mails(stack, address, "ETA 40")) == (1, 1)
        assert _mails(stack, address, "unknown") == 0
    # deleting it now has no mirror left to delete, and is recorded
    ok(stack.emu.delete_message(CAST.tech1, CAST.tech_channel, ts))
    stack.wait_delivered()
    assert _kinds(stack, ts)[-1] == "deleted"
    assert stack.outbox_counts().get("parked", 0) == 0


def test_deleting_an_update_made_public_deletes_its_mirror(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "internal: swapping the switch")
    _edit(stack, ts, "Swapping the switch now")
    assert [m.deleted for m in _mirrors(stack, tid, "switch")] == [False]
    ok(stack.emu.delete_message(CAST.tech1, CAST.tech_channel, ts))
    stack.wait_delivered()
    assert [m.deleted for m in _mirrors(stack, tid, "switch")] == [True]
    assert _kinds(stack, ts) == ["internal_note", "made_public", "deleted"]


def test_non_technicians_internal_note_edited_to_public_stays_internal(
    guest_stack: Stack,
) -> None:
    stack = guest_stack
    tid = open_critical(stack)
    assign(stack, tid)
    before = len(stack.mail.messages)
    ts = _reply(stack, tid, "internal: I think it is our core switch", user=GUEST)
    _edit(stack, ts, "I think it is our core switch", user=GUEST)
    assert _mirrors(stack, tid, "core switch") == []
    sent = [m.message.get_body(("plain",)).get_content() for m in stack.mail.messages[before:]]
    assert not any("core switch" in body for body in sent)
    # The reply was an internal comment from the start, and its author was told so then.
    assert _kinds(stack, ts) == ["internal_comment", "internal_edit"]
    assert "Only technicians and managers" in stack.emu.ephemerals(GUEST)[-1].text
    client = _status(stack, CAST.employee, CAST.client_channel, tid)
    assert "core switch" not in client


def test_internal_note_edited_to_public_on_a_closed_ticket_stays_internal(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "internal: it was the DHCP lease time")
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": "tested every floor"}))
    stack.wait_delivered()
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    confirm = [m for m in thread if ids.CONFIRM in actions_in(m.blocks)][-1]
    ok(stack.emu.click(CAST.employee, CAST.client_channel, confirm.ts, ids.CONFIRM))
    stack.wait_delivered()
    assert ticket(stack, tid).state == "closed"
    _edit(stack, ts, "It was the DHCP lease time")
    assert _mirrors(stack, tid, "DHCP") == []
    assert _kinds(stack, ts) == ["internal_note", "internal_edit"]
    told = stack.emu.ephemerals(CAST.tech1)[-1].text
    assert "is closed" in told and "stays internal" in told


def test_deleting_an_update_deletes_its_mirror(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts = _reply(stack, tid, "Rebooting the core switch")
    assert [m.deleted for m in _mirrors(stack, tid, "core switch")] == [False]
    ok(stack.emu.delete_message(CAST.tech1, CAST.tech_channel, ts))
    stack.wait_delivered()
    assert [m.deleted for m in _mirrors(stack, tid, "core switch")] == [True]
    assert _kinds(stack, ts) == ["update", "deleted"]
