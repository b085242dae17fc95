"""A send that a crash interrupted is not blindly repeated: a Slack post found in its
conversation by the outbox id in its metadata is recorded, not posted again; a mail is sent again
under the same Message-ID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.domain.clock import ManualClock
from bot.email.sender import EmailSender
from bot.sandbox.stack import CAST, Stack
from bot.service.notify.streams import stream
from bot.slack.gateway import SlackGateway
from storage.models import ChatMessage, OutboxRow
from tests.acceptance.helpers import client_root, mails_to, ok, replies
from tests.outbox.rows import add_row, outbox_row

LEASE = timedelta(seconds=30)
SOURCE = ["CSOMEWHERE", "1700000000.000100"]


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


def _gateway(stack: Stack) -> SlackGateway:
    """What the killed process posted with."""
    return SlackGateway(WebClient(token=stack.emu.bot_token, base_url=stack.emu.api_url))


def _posts(stack: Stack, text: str) -> int:
    return sum(
        1 for c in stack.emu.calls_to("chat.postMessage") if c.ok and c.params.get("text") == text
    )


def _held_mirror(stack: Stack, clock: ManualClock, text: str) -> int:
    """A mirror into ticket #1's client thread, claimed by a process that is gone."""
    return add_row(
        stack.rt.sessions,
        clock.now(),
        channel="slack",
        kind="post",
        stream=stream("slack", "client", 1),
        payload={
            "anchor": "client_root",
            "record_role": "mirror",
            "source": SOURCE,
            "text": text,
            "blocks": [],
        },
        ticket_id=1,
        target=CAST.client_channel,
        held_until=clock.now() + LEASE,
    )


def test_a_post_that_reached_slack_before_a_crash_is_recorded_not_posted_again(
    stack: Stack, clock: ManualClock
) -> None:
    root = client_root(stack, 1)
    row_id = _held_mirror(stack, clock, "posted, then the process died")
    channel, ts = _gateway(stack).post(
        CAST.client_channel,
        text="posted, then the process died",
        thread_ts=root.ts,
        outbox_id=row_id,
    )

    clock.advance(LEASE + timedelta(seconds=1))
    stack.wait_delivered()

    assert _posts(stack, "posted, then the process died") == 1
    assert [m.text for m in replies(stack, CAST.client_channel, root.ts)] == [
        "posted, then the process died"
    ]
    row = outbox_row(stack.rt.sessions, row_id)
    assert (row.status, row.result) == ("done", {"channel": channel, "ts": ts})
    with stack.rt.sessions() as s:
        mirror = s.scalar(select(ChatMessage).where(ChatMessage.role == "mirror"))
    assert mirror is not None
    assert (mirror.channel, mirror.ts, mirror.thread_ts) == (channel, ts, root.ts)
    assert (mirror.source_channel, mirror.source_ts) == tuple(SOURCE)
    looked = stack.emu.calls_to("conversations.replies")
    assert looked and looked[-1].params.get("include_all_metadata") in (True, "true", "1")


def test_an_interrupted_post_that_never_reached_slack_is_posted_once(
    stack: Stack, clock: ManualClock
) -> None:
    root = client_root(stack, 1)
    row_id = _held_mirror(stack, clock, "the process died before posting")

    clock.advance(LEASE + timedelta(seconds=1))
    stack.wait_delivered()

    assert _posts(stack, "the process died before posting") == 1
    (posted,) = replies(stack, CAST.client_channel, root.ts)
    assert posted.metadata == {
        "event_type": "ticketbot_outbox",
        "event_payload": {"outbox_id": row_id},
    }
    assert outbox_row(stack.rt.sessions, row_id).status == "done"


def test_every_post_names_its_outbox_row_in_its_metadata(stack: Stack) -> None:
    posts = [c for c in stack.emu.calls_to("chat.postMessage") if c.ok]
    assert posts
    for call in posts:
        meta = call.params["metadata"]
        assert meta["event_type"] == "ticketbot_outbox"
        assert isinstance(meta["event_payload"]["outbox_id"], int)


def test_a_mail_sent_again_after_a_crash_keeps_its_message_id(
    stack: Stack, clock: ManualClock
) -> None:
    assert stack.mail is not None and stack.settings.smtp is not None
    payload = {
        "to": "carl@acme.example",
        "subject": "[#1] Update",
        "text": "An update.",
        "html": "<p>An update.</p>",
        "ticket_id": 1,
        "message_id": "<ticket-1.1767603600.0a1b2c@msp.example>",
        "in_reply_to": "<ticket-1.1767603600@msp.example>",
        "references": "<ticket-1.1767603600@msp.example>",
    }
    row_id = add_row(
        stack.rt.sessions,
        clock.now(),
        channel="email",
        kind="email",
        stream="email:1:carl@acme.example",
        payload=payload,
        ticket_id=1,
        held_until=clock.now() + LEASE,
    )
    # The killed process had handed it to the mail server.
    EmailSender(stack.settings.smtp, "helpdesk@msp.example").send(payload)

    clock.advance(LEASE + timedelta(seconds=1))
    stack.wait_delivered()

    sent = [m for m in mails_to(stack, "carl@acme.example") if m["Subject"] == "[#1] Update"]
    assert [m["Message-ID"] for m in sent] == [payload["message_id"]] * 2
    assert outbox_row(stack.rt.sessions, row_id).result == {"message_id": payload["message_id"]}


def test_every_mail_of_a_ticket_carries_the_message_id_its_row_was_written_with(
    stack: Stack,
) -> None:
    """The root mail too: a row sent again (whatever the reason) sends the same message."""
    with stack.rt.sessions() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.channel == "email")))
    assert rows
    assert stack.mail is not None
    sent = {m.message["Message-ID"] for m in stack.mail.messages}
    for row in rows:
        assert row.payload["message_id"]
        assert row.result == {"message_id": row.payload["message_id"]}
        assert row.payload["message_id"] in sent


def test_an_interrupted_post_whose_conversation_cannot_be_read_is_posted_not_parked(
    stack: Stack, clock: ManualClock
) -> None:
    stack.emu.faults.add("conversations.replies", "missing_scope")
    root = client_root(stack, 1)
    row_id = _held_mirror(stack, clock, "history cannot be read")

    clock.advance(LEASE + timedelta(seconds=1))
    stack.wait_delivered()

    assert _posts(stack, "history cannot be read") == 1
    assert [m.text for m in replies(stack, CAST.client_channel, root.ts)] == [
        "history cannot be read"
    ]
    assert outbox_row(stack.rt.sessions, row_id).status == "done"


def test_on_sqlite_a_restart_takes_back_its_interrupted_rows_at_once_and_checks_them(
    sqlite_url: str,
) -> None:
    """One process delivers on SQLite: what it held when it crashed is its own to retry, now,
    and as an interrupted send."""
    clock = ManualClock()
    with Stack(database_url=sqlite_url, clock=clock) as stack:
        ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "printer on floor 3 jammed"))
        stack.wait_delivered()
        root = client_root(stack, 1)
        row_id = add_row(
            stack.rt.sessions,
            clock.now(),
            channel="slack",
            kind="post",
            stream=stream("slack", "client", 1),
            payload={"anchor": "client_root", "text": "posted before the crash", "blocks": []},
            ticket_id=1,
            target=CAST.client_channel,
            held_until=clock.now() + LEASE,
        )
        _gateway(stack).post(
            CAST.client_channel, text="posted before the crash", thread_ts=root.ts, outbox_id=row_id
        )

        assert sum(d.release_orphaned_claims() for d in stack.rt.dispatchers) == 1
        stack.rt.dispatchers[0].wake()
        stack.wait_delivered()

        assert _posts(stack, "posted before the crash") == 1
        assert outbox_row(stack.rt.sessions, row_id).status == "done"
