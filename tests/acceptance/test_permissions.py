"""Every button clicked by the wrong person: a polite ephemeral refusal and no change at all."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import OutboxRow, TicketEvent
from tests.acceptance.helpers import (
    GUEST,
    actions_in,
    assign,
    bot_messages,
    card,
    client_root,
    ok,
    open_critical,
    replies,
    ticket,
)


@pytest.fixture
def stack(guest_stack: Stack) -> Stack:
    return guest_stack


@dataclass(frozen=True)
class Case:
    action: str
    who: str
    state: str  # the ticket's state when clicked: new | assigned | awaiting_confirmation
    words: str  # the refusal must say this (who may do it, or why not)
    priority: str = "critical"


CASES = [
    Case(ids.ASSIGN, CAST.tech1, "new", "manager"),
    Case(ids.ASSIGN, GUEST, "new", "manager"),
    Case(ids.START, CAST.tech2, "assigned", "assignee"),
    Case(ids.START, GUEST, "assigned", "assignee"),
    Case(ids.START, CAST.tech1, "new", "assign"),
    Case(ids.MAKE_CRITICAL, GUEST, "assigned", "technician", priority="high"),
    Case(ids.SET_PRIORITY, GUEST, "assigned", "technician"),
    Case(ids.REQUEST_HELP, GUEST, "assigned", "technician"),
    Case(ids.DISPATCH, GUEST, "assigned", "technician"),
    Case(ids.RESOLVE, CAST.tech2, "assigned", "assignee"),
    Case(ids.RESOLVE, GUEST, "assigned", "assignee"),
    Case(ids.OFFER_HELP, GUEST, "assigned", "technician"),
    Case(ids.CONFIRM, CAST.tech1, "awaiting_confirmation", "submitter"),
    Case(ids.CONFIRM, CAST.outsider, "awaiting_confirmation", "submitter"),
    Case(ids.STILL_BROKEN, CAST.tech2, "awaiting_confirmation", "submitter"),
    Case(ids.RESOLVE, CAST.tech1, "awaiting_confirmation", "awaiting confirmation"),
]


def _prepare(stack: Stack, state: str, priority: str) -> int:
    tid = open_critical(stack, priority=priority)
    if state in ("assigned", "awaiting_confirmation"):
        assign(stack, tid)
    if state == "awaiting_confirmation":
        ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
        ok(stack.emu.submit_view(CAST.tech1, values={"verification": "tested"}))
        stack.wait_delivered()
    if state == "assigned":
        ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.REQUEST_HELP))
        stack.wait_delivered()
    assert ticket(stack, tid).state == state
    return tid


def _where(stack: Stack, tid: int, action: str) -> tuple[str, str]:
    """The channel and message carrying this button."""
    if action in (ids.CONFIRM, ids.STILL_BROKEN):
        thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
        return CAST.client_channel, [m for m in thread if action in actions_in(m.blocks)][-1].ts
    if action == ids.OFFER_HELP:
        posts = [
            m for m in bot_messages(stack, CAST.tech_channel) if action in actions_in(m.blocks)
        ]
        return CAST.tech_channel, posts[-1].ts
    return CAST.tech_channel, card(stack, tid).ts


def _told(stack: Stack, user: str, channel: str) -> tuple[list[str], list[str]]:
    """What the user was told privately: ephemerals there, or DMs when they aren't a member."""
    ephemerals = [e.text for e in stack.emu.ephemerals(user) if e.channel == channel]
    return ephemerals, [m.text for m in stack.emu.dms(user)]


def _snapshot(stack: Stack, tid: int) -> tuple[object, ...]:
    t = ticket(stack, tid)
    with stack.rt.sessions() as s:
        events = s.scalar(select(func.count()).select_from(TicketEvent))
        notices = s.scalar(select(func.count()).where(OutboxRow.kind != "ephemeral"))
    helpers = tuple(h.person_id for h in t.helpers)
    return (t.state, t.priority, t.assignee_id, helpers, t.version, events, notices)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.action}-by-{c.who}-when-{c.state}")
def test_button_refused_for_wrong_role_changes_nothing(stack: Stack, case: Case) -> None:
    tid = _prepare(stack, case.state, case.priority)
    channel, ts = _where(stack, tid, case.action)
    before = _snapshot(stack, tid)
    views_before = len(stack.emu.views(case.who))
    seen = _told(stack, case.who, channel)
    if case.action == ids.SET_PRIORITY:
        answer = stack.emu.select(case.who, channel, ts, case.action, "low")
    else:
        answer = stack.emu.click(case.who, channel, ts, case.action)
    assert answer.status == 200
    stack.wait_delivered()
    assert _snapshot(stack, tid) == before
    assert len(stack.emu.views(case.who)) == views_before, "no modal may open"
    ephemerals, dms = _told(stack, case.who, channel)
    new = ephemerals[len(seen[0]) :] + dms[len(seen[1]) :]
    assert len(new) == 1, new
    refusal = new[0]
    assert case.words in refusal.lower(), refusal
    assert f"#{tid}" in refusal and "Traceback" not in refusal
