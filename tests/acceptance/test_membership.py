"""Who is a technician follows the technician channel without a restart: joins and leaves count
at once, deactivated accounts lose every role, and a periodic refresh catches what was missed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.messages import ids
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, Stack, wait_until
from tests.acceptance.helpers import (
    assign,
    card,
    client_root,
    ok,
    open_critical,
    replies,
)

NEWCOMER = "UNINA"
OTHER_APP_USER = "UAPPBOT"
GUEST = "UGWEN"
REFRESH_SECONDS = 1


def _workspace(emu: SlackEmulator) -> None:
    emu.add_user(NEWCOMER, "Nina Newcomer", email="nina@msp.example")
    emu.add_user(OTHER_APP_USER, "Other app", is_bot=True)
    emu.add_user(GUEST, "Gwen Guest", email="gwen@contractor.example", guest="single")


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url, setup=_workspace) as s:
        yield s


def _technicians(stack: Stack) -> frozenset[str]:
    return stack.rt.directory.technicians


def _reply_reaches_client(stack: Stack, author: str, text: str) -> bool:
    tid = open_critical(stack)
    assign(stack, tid)
    ok(stack.emu.post_message(author, CAST.tech_channel, text, thread_ts=card(stack, tid).ts)[1])
    stack.wait_delivered()
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    return any(text in m.text for m in thread)


def test_someone_who_joins_the_channel_counts_at_once(stack: Stack) -> None:
    assert NEWCOMER not in _technicians(stack)
    ok(stack.emu.join_channel(NEWCOMER, CAST.tech_channel))
    assert NEWCOMER in _technicians(stack)
    assert _reply_reaches_client(stack, NEWCOMER, "Nina here: the new switch is in")


def test_bots_and_guests_who_join_never_count(stack: Stack) -> None:
    ok(stack.emu.join_channel(OTHER_APP_USER, CAST.tech_channel))
    ok(stack.emu.join_channel(GUEST, CAST.tech_channel))
    assert {OTHER_APP_USER, GUEST}.isdisjoint(_technicians(stack))
    assert not _reply_reaches_client(stack, GUEST, "Gwen: try turning it off and on")


def test_someone_who_leaves_the_channel_stops_counting_at_once(stack: Stack) -> None:
    assert CAST.tech2 in _technicians(stack)
    ok(stack.emu.leave_channel(CAST.tech2, CAST.tech_channel))
    assert CAST.tech2 not in _technicians(stack)
    tid = open_critical(stack)
    ok(stack.emu.click(CAST.manager, CAST.tech_channel, card(stack, tid).ts, ids.ASSIGN))
    modal = stack.emu.views(CAST.manager)[-1]
    assert "Tom Tech" in str(modal.blocks) and "Tara Tech" not in str(modal.blocks)


def test_leaving_another_channel_changes_nothing(stack: Stack) -> None:
    ok(stack.emu.leave_channel(CAST.employee, CAST.client_channel))
    ok(stack.emu.join_channel(NEWCOMER, CAST.client_channel))
    assert NEWCOMER not in _technicians(stack)
    assert {CAST.tech1, CAST.tech2} <= _technicians(stack)


def test_deactivated_accounts_lose_every_role(stack: Stack) -> None:
    tid = open_critical(stack)
    ok(stack.emu.deactivate_user(CAST.manager))
    ok(stack.emu.deactivate_user(CAST.tech2))
    directory = stack.rt.directory
    assert not directory.is_manager(CAST.manager)
    assert {CAST.manager, CAST.tech2}.isdisjoint(_technicians(stack))
    assert directory.managers == frozenset()

    ok(stack.emu.click(CAST.manager, CAST.tech_channel, card(stack, tid).ts, ids.ASSIGN))
    stack.wait_delivered()
    refusals = [e.text for e in stack.emu.ephemerals(CAST.manager, CAST.tech_channel)]
    assert any("manager" in r for r in refusals), refusals


@pytest.fixture
def refreshing_stack(database_url: str) -> Iterator[Stack]:
    env = {"TICKETBOT_MEMBERS_REFRESH": f"{REFRESH_SECONDS}s"}
    with Stack(database_url=database_url, setup=_workspace, extra_env=env) as s:
        yield s


def test_periodic_refresh_picks_up_changes_made_without_events(refreshing_stack: Stack) -> None:
    stack = refreshing_stack
    stack.emu.set_members(
        CAST.tech_channel,
        [CAST.manager, CAST.tech1, NEWCOMER, GUEST, OTHER_APP_USER, stack.emu.bot_user_id],
    )
    wait_until(
        lambda: NEWCOMER in _technicians(stack) and CAST.tech2 not in _technicians(stack),
        timeout=REFRESH_SECONDS * 3 + 5,
        describe=lambda: f"technicians are still {sorted(_technicians(stack))}",
    )
    assert _technicians(stack) == {CAST.manager, CAST.tech1, NEWCOMER}


def _slack_down_for_members(emu: SlackEmulator) -> None:
    _workspace(emu)
    emu.faults.add("conversations.members", "server_error", times=1_000_000)


def test_slack_down_at_start_then_up_technicians_known_within_one_refresh(
    database_url: str,
) -> None:
    env = {"TICKETBOT_MEMBERS_REFRESH": f"{REFRESH_SECONDS}s"}
    with Stack(database_url=database_url, setup=_slack_down_for_members, extra_env=env) as stack:
        assert _technicians(stack) == {CAST.manager}  # managers count without Slack
        assert stack.emu.calls_to("conversations.members")
        stack.emu.faults.clear()
        wait_until(
            lambda: {CAST.tech1, CAST.tech2} <= _technicians(stack),
            timeout=REFRESH_SECONDS * 2 + 5,
            describe=lambda: f"technicians are still {sorted(_technicians(stack))}",
        )
