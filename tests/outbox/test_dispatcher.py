"""Streams and what crosses them: a row needing a message that another stream's row posts waits
for it (or is parked with it), rows queued under the old one-stream-per-ticket still go in order,
and a client thread that had to move into the submitter's DM keeps its later posts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.clock import ManualClock
from bot.messages import ids
from bot.outbox.admin import retry
from bot.outbox.writer import OutboxWriter
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, Stack, wait_until
from bot.service.notify.streams import stream
from storage.models import OutboxRow
from tests.acceptance.helpers import bot_messages, card, client_root, ok, replies

DOWN = timedelta(seconds=60)
SOURCE = ["CSOMEWHERE", "1700000000.000100"]  # the message a mirror stands for


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stack(database_url: str, clock: ManualClock) -> Iterator[Stack]:
    """A stack on a standing clock, with ticket #1 (card and client thread) delivered."""
    with Stack(database_url=database_url, clock=clock) as s:
        ok(s.emu.slash_command(CAST.employee, CAST.client_channel, "printer on floor 3 jammed"))
        s.wait_delivered()
        yield s


def _queue(stack: Stack, stream: str, kind: str, **payload: Any) -> int:
    """An outbox row of ticket #1, as the notifier (or an older version of it) writes one."""
    target = CAST.client_channel if payload.get("anchor") == "client_root" else None
    if payload.get("anchor") == "card":
        target = CAST.tech_channel
    with stack.rt.sessions.begin() as s:
        OutboxWriter(stack.clock).add(
            s,
            channel="slack",
            kind=kind,
            stream=stream,
            payload={"blocks": [], **payload},
            ticket_id=1,
            target=target,
        )
    with stack.rt.sessions() as s:
        return int(s.scalar(select(OutboxRow.id).order_by(OutboxRow.id.desc()).limit(1)) or 0)


def _row(stack: Stack, row_id: int) -> OutboxRow:
    with stack.rt.sessions() as s:
        row = s.get(OutboxRow, row_id)
        assert row is not None
        return row


def test_an_edit_waits_for_its_mirror_from_another_stream_without_counting_attempts(
    stack: Stack, clock: ManualClock
) -> None:
    stack.emu.faults.fail_channel(CAST.client_channel, DOWN, clock=clock)
    mirror = _queue(
        stack,
        stream("slack", "client", 1),
        "post",
        anchor="client_root",
        record_role="mirror",
        source=SOURCE,
        text="the mirror",
    )
    edit = _queue(
        stack, stream("slack", "card", 1), "update_mirror", source=SOURCE, text="the mirror, edited"
    )
    queued_at = clock.now()
    wait_until(
        lambda: _row(stack, mirror).attempts >= 1 and _row(stack, edit).next_attempt_at > queued_at,
        15,
        lambda: "the edit was never looked at",
    )
    waiting = _row(stack, edit)
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("pending", 0, None)

    clock.advance(DOWN)
    stack.wait_delivered()
    done = _row(stack, edit)
    assert (done.status, done.attempts) == ("done", 1)
    (posted,) = replies(stack, CAST.client_channel, client_root(stack, 1).ts)
    assert posted.text == "the mirror, edited"
    assert [m.text for m in posted.updates] == ["the mirror"]


def test_a_row_whose_message_is_parked_is_parked_too_and_both_go_when_retried(
    stack: Stack, clock: ManualClock
) -> None:
    stack.emu.faults.add("chat.postMessage", "is_archived", channel=CAST.client_channel)
    mirror = _queue(
        stack,
        stream("slack", "client", 1),
        "post",
        anchor="client_root",
        record_role="mirror",
        source=SOURCE,
        text="the mirror",
    )
    edit = _queue(stack, stream("slack", "card", 1), "delete_mirror", source=SOURCE)
    wait_until(
        lambda: _row(stack, edit).status == "parked",
        15,
        lambda: f"not parked: {stack.outbox_counts()}",
    )
    assert _row(stack, mirror).status == "parked"
    orphan = _row(stack, edit)
    assert orphan.attempts == 0
    assert orphan.last_error is not None and f"parked outbox row(s) {mirror}" in orphan.last_error

    with stack.rt.sessions.begin() as s:
        assert retry(s, [], clock.now(), all_parked=True) == 2
    stack.wait_delivered()
    assert _row(stack, mirror).status == _row(stack, edit).status == "done"
    assert replies(stack, CAST.client_channel, client_root(stack, 1).ts) == []  # posted, deleted


def test_rows_queued_under_the_old_ticket_stream_still_go_in_their_order(
    stack: Stack, clock: ManualClock
) -> None:
    stack.emu.faults.fail_channel(CAST.tech_channel, DOWN, clock=clock)
    old = f"slack:{1}"
    first = _queue(stack, old, "post", anchor="card", text="old one, card thread")
    _queue(stack, old, "post", anchor="client_root", text="old two, client thread")
    _queue(stack, old, "post", anchor="card", text="old three, card thread")
    wait_until(lambda: _row(stack, first).attempts >= 1, 15, lambda: "never tried")
    assert replies(stack, CAST.client_channel, client_root(stack, 1).ts) == []

    clock.advance(DOWN)
    stack.wait_delivered()
    posts = [
        c.params.get("text")
        for c in stack.emu.calls_to("chat.postMessage")
        if c.ok and str(c.params.get("text", "")).startswith("old")
    ]
    assert posts == ["old one, card thread", "old two, client thread", "old three, card thread"]
    thread = [m.text for m in replies(stack, CAST.tech_channel, card(stack, 1).ts)]
    assert thread == ["old one, card thread", "old three, card thread"]


def test_a_client_thread_moved_to_the_submitters_dm_keeps_its_later_posts(
    database_url: str,
) -> None:
    lobby = "CLOBBY"

    def lobby_without_the_bot(emu: SlackEmulator) -> None:
        emu.add_channel(
            lobby, "acme-lobby", members=[CAST.employee], is_private=True, bot_member=False
        )

    with Stack(database_url=database_url, setup=lobby_without_the_bot) as stack:
        emu = stack.emu
        ok(emu.slash_command(CAST.employee, lobby, "printer on floor 3 jammed"))
        stack.wait_delivered()
        assert bot_messages(stack, lobby) == []
        dm = emu.dm_channel(CAST.employee)
        root = client_root(stack, 1, channel=dm)
        ok(emu.click(CAST.manager, CAST.tech_channel, card(stack, 1).ts, ids.ASSIGN))
        ok(emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}))
        emu.post_message(CAST.tech1, CAST.tech_channel, "new toner", thread_ts=card(stack, 1).ts)
        stack.wait_delivered()
        thread = [m.text for m in replies(stack, dm, root.ts)]
        assert len(thread) == 2 and "Assigned" in thread[0] and "new toner" in thread[1], thread
        assert stack.outbox_counts().get("parked", 0) == 0
