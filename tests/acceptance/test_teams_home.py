"""The App Home in Teams: `home` (or `dashboard`) in the 1:1 chat answers with the person's Home
as an Adaptive Card, valid against the card schema; never in a channel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.messages import ids
from bot.sandbox.stack import Stack
from bot.teams.home_card import PAGE_ROWS
from storage.models import tickets_table
from tests.acceptance.teams_helpers import (
    assert_every_card_valid,
    cast,
    chat,
    post,
    say,
    shown,
    verbs,
)


@pytest.fixture
def all_teams_stack(database_url: str) -> Iterator[Stack]:
    """An MSP on Teams only, its clients' people in Teams too."""
    with Stack(database_url=database_url, slack=False, teams=True, teams_technicians=True) as s:
        yield s


def test_each_role_gets_its_home_in_the_personal_chat(all_teams_stack: Stack) -> None:
    stack = all_teams_stack
    tc = cast(stack)
    say(stack, tc.employee, "ticket printer <at>on</at> floor 3 jammed")
    stack.wait_delivered()
    now = stack.clock.now()
    with stack.rt.sessions.begin() as s:
        s.execute(
            insert(tickets_table),
            [
                {
                    "title": f"Disk {i} full",
                    "description": "",
                    "priority": "high",
                    "state": "new",
                    "source": "monitoring",
                    "client_unknown": True,
                    "created_at": now - timedelta(minutes=i),
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(2 * PAGE_ROWS)
            ],
        )

    say(stack, tc.employee, "home")
    say(stack, tc.tech1, "dashboard")
    say(stack, tc.manager, "home")
    say(stack, tc.manager, "home 3")
    stack.wait_delivered()

    employee = chat(stack, tc.employee)[-1]
    assert "Your IT tickets" in shown(employee) and "#1" in shown(employee)
    assert "<at>" not in shown(employee)
    tech = chat(stack, tc.tech1)[-1]
    assert "Your technician desk" in shown(tech) and "Assigned to me" in shown(tech)
    first, third = chat(stack, tc.manager)[-2:]
    assert "Helpdesk overview" in shown(first) and "Mean time to assign" in shown(first)
    assert f"Page 1 of 3 · tickets 1–{PAGE_ROWS} of {2 * PAGE_ROWS + 1}" in shown(first)
    assert ids.ASSIGN in verbs(first)
    assert "Page 3 of 3" in shown(third) and "Technicians' load" not in shown(third)
    assert assert_every_card_valid(stack) >= 4


def test_a_home_is_not_shown_in_a_channel(all_teams_stack: Stack) -> None:
    stack = all_teams_stack
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    asked = teams.activities.channel_message(tc.manager, tc.tech_channel, "home")
    post(stack, asked)
    stack.wait_delivered()
    answer = shown(teams.thread(asked["id"]))
    assert "1:1 chat" in answer and "Helpdesk overview" not in answer
