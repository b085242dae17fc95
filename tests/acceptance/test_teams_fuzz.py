"""Fuzz: arbitrary activity bodies through POST /api/messages of the real bot, each signed with a
valid token, as Teams would deliver them.

Every activity type our listeners handle (messages, card clicks, dialogs, roster changes), with
any of its fields replaced by arbitrary JSON: the answer is 2xx or 4xx, never 5xx, and a 2xx
invoke answer has the shape Teams expects. Arbitrary text in `ticket <text>` never reaches a
posted activity as a mention. One all-Teams stack serves every example of the module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.messages import ids
from bot.outbox.pacing import PaceRule
from bot.outbox.policy import DispatchPolicy
from bot.sandbox.stack import Stack
from bot.sandbox.teams.records import PostedActivity
from storage.models import Ticket
from tests.acceptance.helpers import ticket
from tests.acceptance.teams_helpers import cast, say, teams_card

ACTIVITY_EXAMPLES = 400
TITLE_EXAMPLES = 120
KINDS = (
    "personal_message",
    "channel_message",
    "thread_reply",
    "card_action",
    "task_fetch",
    "task_submit",
    "members_added",
    "members_removed",
)
VERBS = (
    ids.START,
    ids.MAKE_CRITICAL,
    ids.SET_PRIORITY,
    ids.REQUEST_HELP,
    ids.OFFER_HELP,
    ids.CONFIRM,
    ids.ASSIGN,
    ids.DISPATCH,
    ids.RESOLVE,
    ids.STILL_BROKEN,
    ids.VIEW_CREATE,
    ids.VIEW_ASSIGN,
    ids.VIEW_DISPATCH,
    ids.VIEW_RESOLVE,
    ids.VIEW_STILL_BROKEN,
    "ticket.create",
)
CARD_ANSWERS = {
    "application/vnd.microsoft.activity.message": str,
    "application/vnd.microsoft.card.adaptive": dict,
    "application/vnd.microsoft.error": dict,
}
AT_TAG = re.compile(r"<\s*/?\s*at\b", re.IGNORECASE)
# Teams' pace per conversation (bot/teams/route.py) is not what these properties are about, and
# would hold each example half a second for its posts: lifted, an example costs its round trips.
UNPACED = DispatchPolicy(poll_interval=0.2, paces={"teams": PaceRule(1000.0, 1000)})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An MSP on Teams only, with three tickets of Erin's whose cards the clicks aim at. No email:
    the stdlib draws MIME boundaries from the global `random`, which Hypothesis forbids."""
    url = f"sqlite:///{tmp_path_factory.mktemp('teams-fuzz') / 'ticketbot.db'}"
    with Stack(
        database_url=url,
        slack=False,
        teams=True,
        teams_technicians=True,
        email=False,
        policy=UNPACED,
    ) as s:
        for title in ("Printer jammed", "VPN down", "Scanner offline"):
            say(s, cast(s).employee, f"ticket {title}")
        s.wait_delivered()
        yield s


def _ticket_ids(stack: Stack) -> list[int]:
    with stack.rt.sessions() as s:
        return [int(i) for i in s.scalars(select(Ticket.id).order_by(Ticket.id).limit(3))]


# ---- strategies ----------------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "1", "-1", "0", "2147483648", "1e9", "<at>General</at>", "ticket"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_REMOVE = object()  # as a mutation's value: the field is removed
# Paths into an activity whose value is replaced.
PATHS: tuple[tuple[str, ...], ...] = (
    ("text",),
    ("textFormat",),
    ("value",),
    ("value", "action"),
    ("value", "action", "verb"),
    ("value", "action", "data"),
    ("value", "action", "data", "ticket"),
    ("value", "action", "data", "priority"),
    ("value", "data"),
    ("value", "data", "verb"),
    ("value", "data", "ticket"),
    ("value", "data", "title"),
    ("value", "data", "assignee"),
    ("value", "data", "priority"),
    ("value", "data", "affected"),
    ("value", "data", "verification"),
    ("value", "data", "reason"),
    ("id",),
    ("replyToId",),
    ("conversation",),
    ("conversation", "id"),
    ("conversation", "conversationType"),
    ("conversation", "tenantId"),
    ("from",),
    ("from", "id"),
    ("from", "aadObjectId"),
    ("from", "name"),
    ("from", "role"),
    ("recipient",),
    ("recipient", "id"),
    ("entities",),
    ("channelData",),
    ("channelData", "tenant"),
    ("channelData", "team"),
    ("channelData", "channel"),
    ("channelData", "eventType"),
    ("membersAdded",),
    ("membersRemoved",),
    ("locale",),
    ("timestamp",),
)
mutations = st.lists(
    st.tuples(st.sampled_from(PATHS), st.one_of(st.just(_REMOVE), json_values)),
    min_size=1,
    max_size=4,
)


def _base(stack: Stack, kind: str, ticket_id: int, verb: str) -> dict[str, Any]:
    """A well-formed activity of `kind` (a click aims at ticket `ticket_id`'s card)."""
    assert stack.teams is not None
    acts, tc = stack.teams.activities, cast(stack)
    card = teams_card(stack, ticket_id)
    where = acts.channel(tc.tech_channel, card.id)
    data = {"verb": verb, "ticket": ticket_id}
    if kind == "personal_message":
        return acts.personal_message(tc.employee, "ticket Mouse broken")
    if kind == "channel_message":
        return acts.channel_message(tc.employee, tc.client_channel, "ticket Keyboard broken")
    if kind == "thread_reply":
        return acts.thread_reply(tc.tech1, tc.tech_channel, card.id, "Looking at it")
    if kind == "card_action":
        return acts.card_action(tc.tech1, where, verb, data, card.id)
    if kind == "task_fetch":
        return acts.task_fetch(tc.manager, where, data)
    if kind == "task_submit":
        return acts.task_submit(tc.manager, where, data | {"title": "Fuzzed", "reason": "still"})
    users = [tc.tech2, tc.outsider]
    if kind == "members_added":
        return acts.members_added(users, where, by=tc.manager)
    return acts.members_removed(users, where, by=tc.manager)


def _apply(activity: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    """Set `path` to `value` (removing it for the sentinel), creating objects on the way and
    replacing whatever non-object stood there."""
    node = activity
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    if value is _REMOVE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def _assert_invoke_shape(name: str, body: Any) -> None:
    """A 2xx invoke answer as Teams reads it."""
    if name == "adaptiveCard/action":
        assert isinstance(body, dict), body
        assert isinstance(body.get("statusCode"), int), body
        kind = body.get("type")
        assert kind in CARD_ANSWERS, body
        assert isinstance(body.get("value"), CARD_ANSWERS[kind]), body
        if kind == "application/vnd.microsoft.card.adaptive":
            assert body["value"].get("type") == "AdaptiveCard", body
        if kind == "application/vnd.microsoft.error":
            assert 400 <= body["statusCode"] < 500, body
            assert isinstance(body["value"].get("message"), str), body
        else:
            assert body["statusCode"] == 200, body
        return
    if body is None:  # task/submit: the dialog closes
        assert name == "task/submit"
        return
    assert isinstance(body, dict) and isinstance(body.get("task"), dict), body
    task = body["task"]
    if task.get("type") == "message":
        assert isinstance(task.get("value"), str) and task["value"], body
        return
    assert task.get("type") == "continue", body
    value = task.get("value")
    assert isinstance(value, dict) and isinstance(value.get("title"), str), body
    card = value.get("card")
    assert isinstance(card, dict), body
    assert card.get("contentType") == "application/vnd.microsoft.card.adaptive", body
    assert card["content"].get("type") == "AdaptiveCard", body


@settings(
    max_examples=ACTIVITY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    kind=st.sampled_from(KINDS),
    which=st.integers(min_value=0, max_value=2),
    verb=st.sampled_from(VERBS) | st.text(max_size=20),
    changes=mutations,
)
def test_fuzzed_activities_are_answered_2xx_or_4xx(
    stack: Stack, kind: str, which: int, verb: str, changes: list[tuple[tuple[str, ...], object]]
) -> None:
    activity = _base(stack, kind, _ticket_ids(stack)[which], verb)
    for path, value in changes:
        _apply(activity, path, value)
    status, body = stack.teams_post(activity)
    event(f"{kind} → {status}")
    assert status < 500, f"{status} for {json.dumps(activity)[:2000]}: {body}"
    assert status < 300 or status >= 400, f"{status}: {body}"
    if 200 <= status < 300 and activity.get("type") == "invoke":
        _assert_invoke_shape(str(activity["name"]), body)


def _mentions(posted: PostedActivity) -> list[str]:
    """Every mention a posted activity carries (activity entities and card entities), and every
    `<at>` tag in its text or cards."""
    found: list[str] = []
    entities = posted.activity.get("entities") or []
    found += [json.dumps(e) for e in entities if isinstance(e, dict) and e.get("type") == "mention"]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mention":
                found.append(json.dumps(node))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and AT_TAG.search(node):
            found.append(node)

    walk(posted.cards)
    text = posted.text or ""
    if AT_TAG.search(text):
        found.append(text)
    return found


markup = st.sampled_from(
    [
        "<at>General</at>",
        "<at>Technicians</at>",
        '<at id="0">Technicians</at>',
        "< at >x</ at >",
        "<AT>everyone</AT>",
        "&lt;at&gt;General&lt;/at&gt;",
        "@channel",
        "@here",
        "<!channel>",
        "**bold**",
        "[link](https://evil.example)",
        "<script>",
        "{{$root}}",
        "${title}",
        "\n",
        "\\",
        "\u202e",
    ]
)
titles = st.lists(markup | st.text(min_size=1, max_size=20), min_size=1, max_size=6).map("".join)


@settings(
    max_examples=TITLE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(title=titles, in_channel=st.booleans())
def test_ticket_text_never_becomes_a_mention(stack: Stack, title: str, in_channel: bool) -> None:
    assert stack.teams is not None
    acts, tc = stack.teams.activities, cast(stack)
    # The first example waits out what the activity fuzz queued: cards to one Teams channel go
    # out at Teams' pace, about two a second.
    stack.wait_delivered(timeout=180)
    seen = len(stack.teams.posted())
    with stack.rt.sessions() as s:
        before = int(s.scalar(select(func.count()).select_from(Ticket)) or 0)
    text = f"ticket {title}"
    activity = (
        acts.channel_message(tc.employee, tc.client_channel, text)
        if in_channel
        else acts.personal_message(tc.employee, text)
    )
    status, body = stack.teams_post(activity)
    assert status == 200, body
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        opened = int(s.scalar(select(func.count()).select_from(Ticket)) or 0) - before
    event(f"tickets opened: {opened}")
    new = stack.teams.posted()[seen:]
    assert new, "the bot posted nothing"
    for posted in new:
        assert _mentions(posted) == [], json.dumps(posted.activity)[:3000]


def test_click_by_a_technician_named_by_email_is_answered(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Technicians named by email are known by their Teams identity only after the next roles
    reload: the change goes through, and reading the card back (refused until that reload) must
    not turn into a 500."""
    url = f"sqlite:///{tmp_path_factory.mktemp('teams-email-techs') / 'ticketbot.db'}"
    techs = {"TICKETBOT_TECHNICIANS": "tom@msp.example,tara@msp.example"}
    with Stack(
        database_url=url,
        slack=False,
        teams=True,
        teams_technicians=True,
        email=False,
        extra_env=techs,
    ) as s:
        assert s.teams is not None
        acts, tc = s.teams.activities, cast(s)
        say(s, tc.employee, "ticket Printer jammed")
        s.wait_delivered()
        card = teams_card(s, 1)
        where = acts.channel(tc.tech_channel, card.id)
        click = acts.card_action(tc.tech1, where, ids.MAKE_CRITICAL, {"ticket": 1}, card.id)
        status, body = s.teams_post(click)
        assert status == 200, body
        _assert_invoke_shape("adaptiveCard/action", body)
        assert ticket(s, 1).priority == "critical"
