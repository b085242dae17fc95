"""The Teams technician channel: who counts as a technician follows its team; a critical card
mentions the channel; the Bot Connector's throttling and refusals; Teams beside Socket Mode."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.messages import ids
from bot.outbox.admin import list_rows
from bot.sandbox.stack import Stack
from bot.sandbox.teams.records import TeamsUser
from bot.teams.route import PACE
from storage.models import OutboxRow
from tests.acceptance.helpers import ticket
from tests.acceptance.teams_helpers import cast, chat, post, say, shown, teams_card, verbs


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with Stack(database_url=database_url, slack=False, teams=True, teams_technicians=True) as s:
        yield s


def _refresh(stack: Stack) -> None:
    """The periodic read of the technician channel's roster, now."""
    assert stack.rt.teams is not None
    stack.rt.teams.membership.refresh()


def _is_technician(stack: Stack, user: TeamsUser) -> bool:
    return stack.rt.directory.is_technician(f"teams:{user.aad_object_id}")


def test_technicians_follow_the_team_of_the_teams_technician_channel(stack: Stack) -> None:
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    assert _is_technician(stack, tc.tech1) and _is_technician(stack, tc.tech2)
    assert not _is_technician(stack, tc.employee)
    newcomer = teams.add_user("Nina New", "nina@msp.example")
    where = teams.activities.channel(tc.tech_channel, teams.next_activity_id())
    staff = [tc.manager, tc.tech1, tc.tech2]
    teams.set_team_members(tc.tech_channel, [*staff, newcomer])
    post(stack, teams.activities.members_added([newcomer], where, by=tc.manager))
    assert _is_technician(stack, newcomer)

    teams.set_team_members(tc.tech_channel, [tc.manager, tc.tech1, newcomer])
    post(stack, teams.activities.members_removed([tc.tech2], where, by=tc.manager))
    assert not _is_technician(stack, tc.tech2)

    # Without events, the periodic refresh reads the roster: Tara is back, Nina is gone.
    teams.set_team_members(tc.tech_channel, staff)
    _refresh(stack)
    assert _is_technician(stack, tc.tech2) and not _is_technician(stack, newcomer)


def test_a_critical_ticket_mentions_the_channel_and_dms_the_manager(stack: Stack) -> None:
    tc = cast(stack)
    say(stack, tc.employee, "ticket Payroll server down")
    stack.wait_delivered()
    first = teams_card(stack, 1)
    assert '"mention"' not in shown(first)
    assert stack.teams is not None
    acts = stack.teams.activities
    where = acts.channel(tc.tech_channel, first.id)
    post(
        stack,
        acts.card_action(
            tc.tech2, where, ids.SET_PRIORITY, {"ticket": 1, "value": "critical"}, first.id
        ),
    )
    stack.wait_delivered()
    assert ticket(stack, 1).priority == "critical"
    assert ids.MAKE_CRITICAL not in verbs(teams_card(stack, 1))
    ping = [p for p in stack.teams.thread(first.id) if p.activity.get("entities")]
    assert ping and ping[0].activity["entities"][0]["mentioned"]["type"] == "channel"
    assert "critical" in shown(chat(stack, tc.manager)).lower()


def test_throttled_posts_wait_and_refused_ones_are_parked_in_view(stack: Stack) -> None:
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    teams.fail_next(2, status=429, retry_after=1, path="/activities")
    say(stack, tc.employee, "ticket Printer offline")
    stack.wait_delivered(timeout=30)
    assert teams_card(stack, 1)  # delivered after the throttling
    assert [c.status for c in teams.calls if c.status == 429] == [429, 429]
    with stack.rt.sessions() as s:
        retried = s.scalars(select(OutboxRow).where(OutboxRow.attempts > 1)).all()
    assert retried and all(r.status == "done" for r in retried)

    # Teams refuses a 1:1 chat with someone who has not installed the app: parked, in view.
    nina = teams.add_user("Nina New", "nina@msp.example")
    teams.not_installed.add(nina.id)
    teams.set_team_members(tc.tech_channel, [tc.manager, tc.tech1, tc.tech2, nina])
    _refresh(stack)
    where = teams.activities.channel(tc.tech_channel, teams_card(stack, 1).id)
    form = {"verb": ids.VIEW_ASSIGN, "ticket": 1, "assignee": f"teams:{nina.aad_object_id}"}
    post(stack, teams.activities.task_submit(tc.manager, where, form))
    stack.wait_delivered(timeout=30)
    assert ticket(stack, 1).assignee.name == "Nina New"
    with stack.rt.sessions() as s:
        parked = list_rows(s)
    assert len(parked) == 1 and parked[0].channel == "teams"
    assert "not installed" in (parked[0].last_error or "")
    assert parked[0].target == f"teams:{nina.aad_object_id}"


def test_teams_is_served_beside_slack_socket_mode(database_url: str) -> None:
    with Stack(database_url=database_url, socket_mode=True, teams=True) as s:
        say(s, cast(s).employee, "ticket Laptop will not boot")
        s.wait_delivered()
        assert ticket(s, 1).source == "teams"
        assert "received" in shown(chat(s, cast(s).employee)).lower()


def test_posts_to_one_conversation_keep_teams_pace(stack: Stack) -> None:
    """A burst of updates reaches the client's chat at most `PACE.rate` a second after the
    first `PACE.burst` (Teams throttles a bot per conversation)."""
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    say(stack, tc.employee, "ticket Slow VPN")
    stack.wait_delivered()
    root = teams_card(stack, 1).id
    for n in range(8):
        post(stack, teams.activities.thread_reply(tc.tech1, tc.tech_channel, root, f"step {n}"))
    stack.wait_delivered(timeout=30)
    chat_id = teams.personal_conversation(tc.employee)
    times = [
        c.at
        for c in teams.calls
        if c.method == "POST" and c.conversation_id == chat_id and "step" in json.dumps(c.body)
    ]
    assert len(times) == 8
    # A token bucket lets at most `burst + rate × t` posts through in any t seconds.
    assert times[-1] - times[0] >= (8 - PACE.burst) / PACE.rate * 0.95


def test_a_ticket_opened_critical_posts_its_card_with_the_mention(stack: Stack) -> None:
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    where = teams.activities.personal(tc.employee)
    form = {
        "verb": ids.VIEW_CREATE,
        "title": "Payroll run blocked",
        "priority": "critical",
        "affected": "team",
    }
    post(stack, teams.activities.task_submit(tc.employee, where, form))
    stack.wait_delivered()
    first = teams_card(stack, 1)
    entities = first.activity.get("entities") or []
    assert [e["mentioned"]["id"] for e in entities] == [tc.tech_channel.id]
    assert "<at>" in first.text
    assert "critical" in shown(chat(stack, tc.manager)).lower()


def test_channel_chatter_without_a_mention_gets_no_answer(stack: Stack) -> None:
    """With the channel-messages permission the bot reads every post: it answers only those that
    @mention it."""
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    chatter = teams.activities.channel_message(
        tc.tech1, tc.tech_channel, "coffee anyone?", mention_bot=False
    )
    post(stack, chatter)
    asked = teams.activities.channel_message(tc.tech1, tc.tech_channel, "help")
    post(stack, asked)
    stack.wait_delivered()
    assert not teams.thread(chatter["id"])
    assert "ticket list" in shown(teams.thread(asked["id"]))


def test_an_update_on_a_closed_ticket_is_refused_in_its_thread(stack: Stack) -> None:
    """Not a 5xx (Teams would send it again and again): the technician is told why."""
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    acts = teams.activities
    say(stack, tc.employee, "ticket Toner empty")
    stack.wait_delivered()
    root = teams_card(stack, 1).id
    where = acts.channel(tc.tech_channel, root)
    tom = f"teams:{tc.tech1.aad_object_id}"
    post(
        stack,
        acts.task_submit(
            tc.manager, where, {"verb": ids.VIEW_ASSIGN, "ticket": 1, "assignee": tom}
        ),
    )
    post(
        stack,
        acts.task_submit(
            tc.tech1,
            where,
            {"verb": ids.VIEW_RESOLVE, "ticket": 1, "verification": "printed a page"},
        ),
    )
    stack.wait_delivered()
    confirm = chat(stack, tc.employee)[-1]
    post(
        stack,
        acts.card_action(
            tc.employee, acts.personal(tc.employee), ids.CONFIRM, {"ticket": 1}, confirm.id
        ),
    )
    stack.wait_delivered()
    assert ticket(stack, 1).state == "closed"
    post(stack, acts.thread_reply(tc.tech1, tc.tech_channel, root, "one more thing"))
    stack.wait_delivered()
    assert "#1" in shown(teams.thread(root)[-1]) and "one more thing" not in shown(
        chat(stack, tc.employee)
    )
