"""The critical-ticket lifecycle with Teams in it, through `POST /api/messages` (real SDK, real
JWTs from the Bot Connector stand-in): (a) a Teams employee with Slack technicians, (b) an MSP on
Teams only, (c) a notify-only client on a Workflows webhook with a Slack employee."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import (
    assign,
    block_text,
    card,
    mails_to,
    ok,
    open_critical,
    replies,
    ticket,
)
from tests.acceptance.teams_helpers import (
    actions,
    assert_every_card_valid,
    cast,
    chat,
    post,
    recorded,
    say,
    shown,
    teams_card,
    verbs,
)

TECH_EMAILS = {"maya@msp.example", "tom@msp.example", "tara@msp.example"}


@pytest.fixture
def teams_client_stack(database_url: str) -> Iterator[Stack]:
    """(a) The client's people in Teams; the MSP in Slack."""
    with Stack(database_url=database_url, teams=True) as s:
        yield s


@pytest.fixture
def all_teams_stack(database_url: str) -> Iterator[Stack]:
    """(b) An MSP on Teams only: no Slack settings at all."""
    with Stack(database_url=database_url, slack=False, teams=True, teams_technicians=True) as s:
        yield s


@pytest.fixture
def workflows_stack(database_url: str) -> Iterator[Stack]:
    """(c) Slack for everyone, plus the client's Teams channel notified by a Workflows webhook."""
    with Stack(database_url=database_url, workflows=True) as s:
        yield s


def _open_critical_in_teams(stack: Stack) -> int:
    """Erin types `ticket`, opens the form from the answer, and submits a critical ticket."""
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    say(stack, tc.employee, "ticket")
    prompt = teams.wait_for(lambda: chat(stack, tc.employee))[-1]
    assert ids.VIEW_CREATE in verbs(prompt)
    where = teams.activities.personal(tc.employee)
    opened = post(
        stack,
        teams.activities.task_fetch(
            tc.employee, where, {"msteams": {"type": "task/fetch"}, "verb": ids.VIEW_CREATE}
        ),
    )
    assert opened["task"]["type"] == "continue"
    form = opened["task"]["value"]["card"]["content"]
    assert {"title", "description", "priority", "affected"} <= set(_input_ids(form))
    done = post(
        stack,
        teams.activities.task_submit(
            tc.employee,
            where,
            {
                "verb": ids.VIEW_CREATE,
                "title": "Internet down at HQ",
                "description": "No internet on any floor since 9:10.",
                "priority": "critical",
                "affected": "all",
            },
        ),
    )
    assert "#1" in done["task"]["value"]
    stack.wait_delivered()
    return 1


def _input_ids(card: object) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and node.get("id"):
                found.append(str(node["id"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


# ---- (a) Teams employee, Slack technicians -----------------------------------------------
def test_a_teams_employee_follows_a_critical_ticket_worked_in_slack(
    teams_client_stack: Stack,
) -> None:
    stack = teams_client_stack
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    tid = _open_critical_in_teams(stack)

    t = ticket(stack, tid)
    assert (t.priority, t.source, t.client.name) == ("critical", "teams", "Acme Corp")
    assert "received" in shown(chat(stack, tc.employee)).lower()
    # The technicians (in Slack) get the critical workflow: ping, email, managers' DMs.
    assert card(stack, tid).text.startswith("<!here>")
    assert all(mails_to(stack, address) for address in TECH_EMAILS)
    assert any("#1" in m.text for m in stack.emu.dms(CAST.manager))

    assign(stack, tid)
    assert "Tom Tech" in shown(chat(stack, tc.employee)[-1])

    card_ts = card(stack, tid).ts
    stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "Router rebooted, <!channel> checking now", thread_ts=card_ts
    )
    stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "internal: ISP ticket 4711", thread_ts=card_ts
    )
    stack.wait_delivered()
    seen = shown(chat(stack, tc.employee))
    assert "Router rebooted" in seen and "4711" not in seen
    assert "<!channel>" not in seen and '"mention"' not in seen
    assert any(
        "Router rebooted" in m.get_body(("plain",)).get_content()
        for m in mails_to(stack, "erin@acme.example")
    )

    # Erin answers by quoting the bot's message in her chat: it reaches the card's thread.
    root = recorded(stack, tid, "client_root")
    post(
        stack,
        teams.activities.personal_message(tc.employee, "Phones are down too", replyToId=root.ts),
    )
    stack.wait_delivered()
    assert any(
        "Phones are down too" in m.text and "Erin" in m.text
        for m in replies(stack, CAST.tech_channel, card_ts)
    )

    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card_ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": "ISP confirmed service restored"}))
    stack.wait_delivered()
    confirm = chat(stack, tc.employee)[-1]
    assert {ids.CONFIRM, ids.STILL_BROKEN} <= verbs(confirm)
    assert "ISP confirmed" in shown(confirm)

    before = len(stack.mail.messages)
    answer = post(
        stack,
        teams.activities.card_action(
            tc.employee,
            teams.activities.personal(tc.employee),
            ids.CONFIRM,
            {"ticket": tid, "value": str(tid)},
            confirm.id,
        ),
    )
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    stack.wait_delivered()
    assert ticket(stack, tid).state == "closed"
    told = {r.lower() for m in stack.mail.messages[before:] for r in m.rcpt_tos}
    assert {"tom@msp.example", "erin@acme.example", "carl@acme.example"} <= told
    assert "closed" in shown(chat(stack, tc.employee)[-1]).lower()
    # The buttons Erin clicked are replaced by the outcome.
    assert ids.CONFIRM not in verbs(teams.activity(confirm.id))
    assert assert_every_card_valid(stack) >= 6


def test_a_teams_quick_ticket_list_status_and_help(teams_client_stack: Stack) -> None:
    stack = teams_client_stack
    tc = cast(stack)
    say(stack, tc.employee, "ticket printer on floor 3 jammed")
    say(stack, tc.employee, "list")
    say(stack, tc.employee, "status 1")
    say(stack, tc.employee, "status 99")
    say(stack, tc.employee, "help")
    stack.wait_delivered()
    messages = chat(stack, tc.employee)
    text = shown(messages)
    assert "printer on floor 3 jammed" in text
    assert ticket(stack, 1).priority == "medium"
    assert "#99" in text
    assert "ticket list" in shown(messages[-1])


def test_a_channel_mention_opens_a_ticket_answered_in_its_thread(teams_client_stack: Stack) -> None:
    stack = teams_client_stack
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    asked = teams.activities.channel_message(tc.employee, tc.client_channel, "ticket Wi-Fi is down")
    post(stack, asked)
    stack.wait_delivered()
    t = ticket(stack, 1)
    assert t.title == "Wi-Fi is down" and t.client.name == "Acme Corp"
    thread = teams.thread(asked["id"])
    assert thread and "received" in shown(thread).lower()
    # A reply in that thread, without @mentioning the bot, is the client's reply.
    post(
        stack,
        teams.activities.thread_reply(tc.contact, tc.client_channel, asked["id"], "Since 8:00"),
    )
    stack.wait_delivered()
    assert any("Since 8:00" in m.text for m in replies(stack, CAST.tech_channel, card(stack, 1).ts))


# ---- (b) an MSP on Teams only -------------------------------------------------------------
def test_b_all_teams_msp_runs_the_whole_critical_lifecycle(all_teams_stack: Stack) -> None:
    stack = all_teams_stack
    tc, teams = cast(stack), stack.teams
    assert teams is not None
    acts = teams.activities
    say(stack, tc.employee, "ticket Server down in the warehouse")
    stack.wait_delivered()
    first = teams_card(stack, 1)
    assert first.conversation_id == tc.tech_channel.id
    assert {ids.ASSIGN, ids.START, ids.MAKE_CRITICAL, ids.RESOLVE} <= verbs(first)

    where = acts.channel(tc.tech_channel, first.id)
    refreshed = post(
        stack, acts.card_action(tc.tech1, where, ids.MAKE_CRITICAL, {"ticket": 1}, first.id)
    )
    assert refreshed["type"] == "application/vnd.microsoft.card.adaptive"
    stack.wait_delivered()
    assert ticket(stack, 1).priority == "critical"
    ping = [p for p in teams.thread(first.id) if '"mention"' in shown(p)]
    assert ping, "the raise to critical mentions the channel in the card's thread"
    assert all(mails_to(stack, address) for address in TECH_EMAILS)
    assert "critical" in shown(chat(stack, tc.manager)).lower()  # the manager's 1:1 chat

    # Assign: only the manager may; the dialog lists the technicians with their load.
    refused = post(stack, acts.task_fetch(tc.tech1, where, {"verb": ids.ASSIGN, "ticket": 1}))
    assert refused["task"]["type"] == "message"
    dialog = post(stack, acts.task_fetch(tc.manager, where, {"verb": ids.ASSIGN, "ticket": 1}))
    choices = json_choices(dialog)
    tom_key = f"teams:{tc.tech1.aad_object_id}"
    assert tom_key in choices and "open" in choices[tom_key]
    closed = post(
        stack,
        acts.task_submit(
            tc.manager, where, {"verb": ids.VIEW_ASSIGN, "ticket": 1, "assignee": tom_key}
        ),
    )
    assert closed is None or "task" not in closed or closed["task"]["type"] != "continue"
    stack.wait_delivered()
    assert ticket(stack, 1).assignee.email == "tom@msp.example"
    assert "Tom Tech" in shown(teams_card(stack, 1))  # updated in place
    assert len(teams.activity(first.id).versions) >= 2
    assert "#1" in shown(chat(stack, tc.tech1))  # the assignee's DM
    assert "Tom Tech" in shown(chat(stack, tc.employee)[-1])

    post(stack, acts.thread_reply(tc.tech1, tc.tech_channel, first.id, "Replacing the PSU"))
    post(stack, acts.thread_reply(tc.tech1, tc.tech_channel, first.id, "internal: PSU from stock"))
    stack.wait_delivered()
    seen = shown(chat(stack, tc.employee))
    assert "Replacing the PSU" in seen and "from stock" not in seen
    assert ticket(stack, 1).state == "in_progress"

    post(stack, acts.task_fetch(tc.tech1, where, {"verb": ids.RESOLVE, "ticket": 1}))
    post(
        stack,
        acts.task_submit(
            tc.tech1,
            where,
            {"verb": ids.VIEW_RESOLVE, "ticket": 1, "verification": "Server boots, tested"},
        ),
    )
    stack.wait_delivered()
    confirm = chat(stack, tc.employee)[-1]
    assert {ids.CONFIRM, ids.STILL_BROKEN} <= verbs(confirm)
    post(
        stack,
        acts.card_action(
            tc.employee, acts.personal(tc.employee), ids.CONFIRM, {"ticket": 1}, confirm.id
        ),
    )
    stack.wait_delivered()
    assert ticket(stack, 1).state == "closed"
    final = teams_card(stack, 1)
    assert not [a for a in actions(final) if a.get("type") == "Action.Execute"]
    assert "closed" in shown(teams.thread(first.id)).lower()
    assert assert_every_card_valid(stack, dialog, refreshed) >= 15


def json_choices(dialog: object) -> dict[str, str]:
    """value → title of every Input.ChoiceSet choice in a dialog response."""
    found: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Input.ChoiceSet":
                for choice in node.get("choices") or []:
                    found[str(choice.get("value"))] = str(choice.get("title"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(dialog)
    return found


# ---- (c) a notify-only client on a Workflows webhook --------------------------------------
def test_c_workflows_client_hears_every_client_thread_message(workflows_stack: Stack) -> None:
    stack = workflows_stack
    flows = stack.workflows
    assert flows is not None
    flows.fail_next(1, status=429, retry_after=1)  # Power Automate throttles now and then
    tid = open_critical(stack)
    assign(stack, tid)
    stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "On it, <!channel>", thread_ts=card(stack, tid).ts
    )
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": "Tested from two PCs"}))
    stack.wait_delivered(timeout=30)
    posts = flows.posts_to("acme")
    texts = [block_text(p.cards) for p in posts]
    assert "received" in texts[0].lower()
    assert any("Tom Tech" in t for t in texts)
    assert any("On it" in t for t in texts) and not any("<!channel>" in t for t in texts)
    resolved = texts[-1]
    assert "Tested from two PCs" in resolved
    assert "Action." not in resolved  # nobody can click in a webhook's card: email instead
    assert any(a.status == 429 for a in flows.attempts)
