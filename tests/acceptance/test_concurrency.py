"""Races on the real database: two managers assigning at once; one Slack event delivered 3 times."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import ChatMessage, TicketEvent
from tests.acceptance.helpers import card, client_root, ok, open_critical, replies, ticket

SECOND_MANAGER = "UMARK"


@pytest.fixture
def two_manager_stack(database_url: str) -> Iterator[Stack]:
    stack = Stack(
        database_url=database_url,
        extra_env={"TICKETBOT_MANAGERS": f"{CAST.manager},{SECOND_MANAGER}"},
        setup=lambda emu: emu.add_user(SECOND_MANAGER, "Mark Manager", email="mark@msp.example"),
    )
    stack.extra_tech_channel_members.append(SECOND_MANAGER)
    with stack:
        yield stack


def _together(*calls: Any) -> list[Any]:
    """Run the calls on threads released at the same instant; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_managers_assigning_at_once_one_wins_other_is_told(two_manager_stack: Stack) -> None:
    stack = two_manager_stack
    tid = open_critical(stack)
    card_ts = card(stack, tid).ts
    ok(stack.emu.click(CAST.manager, CAST.tech_channel, card_ts, ids.ASSIGN))
    ok(stack.emu.click(SECOND_MANAGER, CAST.tech_channel, card_ts, ids.ASSIGN))
    answers = _together(
        lambda: stack.emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}),
        lambda: stack.emu.submit_view(SECOND_MANAGER, values={"assignee": CAST.tech2}),
    )
    stack.wait_delivered()
    refused = [a for a in answers if (a.json or {}).get("response_action") == "errors"]
    accepted = [a for a in answers if a.status == 200 and not (a.json or {}).get("response_action")]
    assert len(refused) == 1 and len(accepted) == 1, [a.body for a in answers]
    with stack.rt.sessions() as s:
        assigned = s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.kind == "assigned")
        ).all()
    assert len(assigned) == 1
    winner = ticket(stack, tid).assignee
    message = next(iter(refused[0].json["errors"].values()))
    assert winner.name in message and assigned[0].actor_label in message
    assert ticket(stack, tid).version >= 2


def test_same_event_three_times_makes_one_update(stack: Stack) -> None:
    tid = open_critical(stack)
    card_ts = card(stack, tid).ts
    ts, first = stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "rebooting", thread_ts=card_ts
    )
    assert first.status == 200
    again = _together(
        lambda: stack.emu.redeliver(first, retry_num=1, reason="http_timeout"),
        lambda: stack.emu.redeliver(first, retry_num=2, reason="http_timeout"),
    )
    assert all(a.status == 200 for a in again)
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        updates = s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.kind == "update")
        ).all()
        mirrors = s.scalars(select(ChatMessage).where(ChatMessage.role == "mirror")).all()
    assert len(updates) == 1 and len(mirrors) == 1
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    assert len([m for m in thread if "rebooting" in m.text]) == 1


def test_a_new_users_first_requests_at_once_all_make_tickets(stack: Stack) -> None:
    answers = _together(
        *[
            (lambda n=n: stack.emu.slash_command(CAST.contact, CAST.client_channel, f"issue {n}"))
            for n in range(6)
        ]
    )
    assert all(a.status == 200 and "created" in a.json["text"] for a in answers), answers
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        from storage.models import Person, Ticket

        assert len(s.scalars(select(Ticket)).all()) == 6
        assert len(s.scalars(select(Person).where(Person.slack_user_id == CAST.contact)).all()) == 1
