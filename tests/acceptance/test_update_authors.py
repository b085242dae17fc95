"""Who may post an update to the client: a reply in a card's thread reaches the client's thread
and mailbox only from a technician or a manager at that moment; anyone else's stays internal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, Stack
from storage.models import TicketEvent
from tests.acceptance.helpers import (
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

GUEST = "UGWEN"  # a single-channel guest in the technician channel (a contractor)
DEPARTED = "UDAN"  # a technician whose account gets deactivated
OTHER_APP = "BOTHER"  # another app's bot, posting in the card's thread
CLIENT_ADDRESSES = ("erin@acme.example", "carl@acme.example")


def _workspace(emu: SlackEmulator) -> None:
    """The client's people are guests in the MSP's Slack, and members of the technician channel
    here, so that they can reply in a card's thread; guests are never technicians."""
    emu.add_user(CAST.employee, "Erin Employee", email="erin@acme.example", guest="multi")
    emu.add_user(CAST.contact, "Carl Contact", email="carl@acme.example", guest="multi")
    emu.add_user(GUEST, "Gwen Guest", email="gwen@contractor.example", guest="single")
    emu.add_user(DEPARTED, "Dan Departed", email="dan@msp.example")


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    s = Stack(database_url=database_url, setup=_workspace)
    s.extra_tech_channel_members += [CAST.employee, CAST.contact, GUEST, DEPARTED]
    with s:
        yield s


def _deactivate(stack: Stack) -> None:
    assert stack.rt.directory.is_technician(DEPARTED)
    ok(stack.emu.deactivate_user(DEPARTED))


def _leave(stack: Stack) -> None:
    assert stack.rt.directory.is_technician(CAST.tech2)
    ok(stack.emu.leave_channel(CAST.tech2, CAST.tech_channel))
    # Her reply was written just before she left and arrives after the leave event (Slack does
    # not order events); the emulator lets only members post, so she is listed again, silently.
    stack.emu.set_members(CAST.tech_channel, [*stack.emu.members(CAST.tech_channel), CAST.tech2])


@dataclass(frozen=True)
class Row:
    name: str
    author: str | None  # None: another app's bot
    reaches_client: bool  # mirrored into the client's thread and emailed to submitter + contact
    told: bool  # the author gets the ephemeral note
    recorded: str | None  # the timeline row's kind
    before: Callable[[Stack], None] | None = None


ROWS = [
    Row("submitter", CAST.employee, False, True, "internal_comment"),
    Row("contact", CAST.contact, False, True, "internal_comment"),
    Row("technician", CAST.tech1, True, False, "update"),
    Row("manager", CAST.manager, True, False, "update"),
    Row("guest", GUEST, False, True, "internal_comment"),
    Row("bot", None, False, False, None),
    Row("deactivated", DEPARTED, False, False, "internal_comment", _deactivate),
    Row("technician-who-left", CAST.tech2, False, True, "internal_comment", _leave),
]


def _reply(stack: Stack, row: Row, card_ts: str, text: str) -> str:
    if row.author is None:
        ts, answer = stack.emu.post_bot_message(
            CAST.tech_channel,
            text=text,
            bot_id=OTHER_APP,
            username="Other app",
            subtype=None,
            thread_ts=card_ts,
        )
    else:
        ts, answer = stack.emu.post_message(row.author, CAST.tech_channel, text, thread_ts=card_ts)
    ok(answer)
    stack.wait_delivered()
    return ts


def _client_thread_with(stack: Stack, tid: int, text: str) -> list[str]:
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    return [m.text for m in thread if text in m.text]


def _mails_with(stack: Stack, address: str, text: str) -> int:
    bodies = [m.get_body(("plain",)).get_content() for m in mails_to(stack, address)]
    return sum(text in b for b in bodies)


def _notes(stack: Stack, user: str | None) -> list[str]:
    if user is None:
        return []
    return [e.text for e in stack.emu.ephemerals(user, CAST.tech_channel)]


def _recorded(stack: Stack, tid: int, ts: str) -> list[tuple[str, str]]:
    with stack.rt.sessions() as s:
        rows = s.execute(
            select(TicketEvent.kind, TicketEvent.actor_label).where(
                TicketEvent.ticket_id == tid, TicketEvent.source_ts == ts
            )
        ).all()
    return [(kind, label) for kind, label in rows]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_only_technicians_and_managers_reach_the_client(stack: Stack, row: Row) -> None:
    tid = open_critical(stack)
    assign(stack, tid)  # to Tom
    if row.before is not None:
        row.before(stack)
    text = f"Reply by the {row.name}: the router was replaced"
    mails_before = len(stack.mail.messages) if stack.mail else 0

    ts = _reply(stack, row, card(stack, tid).ts, text)

    mirrored = _client_thread_with(stack, tid, text)
    notes = _notes(stack, row.author)
    if row.reaches_client:
        assert len(mirrored) == 1, mirrored
        assert all(_mails_with(stack, a, text) == 1 for a in CLIENT_ADDRESSES)
    else:
        assert mirrored == []
        assert stack.mail is not None and len(stack.mail.messages) == mails_before
        assert ticket(stack, tid).state == "assigned", "a comment never moves the ticket"
    if row.told:
        assert len(notes) == 1, notes
        assert f"#{tid}" in notes[0] and "internal comment" in notes[0], notes[0]
        assert "did not see it" in notes[0]
    else:
        assert notes == []
    expected = [] if row.recorded is None else [row.recorded]
    assert [kind for kind, _ in _recorded(stack, tid, ts)] == expected


def test_comment_shows_as_internal_in_status(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    _reply(stack, ROWS[4], card(stack, tid).ts, "I think it is the switch")

    staff = block_text(
        ok(stack.emu.slash_command(CAST.tech1, CAST.tech_channel, f"status {tid}")).json
    )
    assert "🔒 internal comment: I think it is the switch" in staff
    assert "Gwen Guest" in staff
    client = block_text(
        ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, f"status {tid}")).json
    )
    assert "switch" not in client
