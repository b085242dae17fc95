"""Fuzz: arbitrary bodies and headers on /slack/events and the alert webhooks, over real HTTP.

Never a 5xx; every 4xx is JSON with an `error` in plain words; nothing unsigned, unauthenticated
or malformed is stored; afterwards the bot still answers a signed /ticket. One stack serves all
examples of a test: 2,000 examples on SQLite, 500 on PostgreSQL.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.messages import ids
from bot.sandbox.slack.wire import sign
from bot.sandbox.stack import CAST, Stack
from storage.models import AlertGroup, AlertInstance, OutboxRow, ProcessedEvent, Ticket
from tests.acceptance.alert_helpers import (
    ALERTS_CHANNEL,
    TOKEN,
    add_alerts_channel,
    label_acme,
    post,
    tickets,
)
from tests.acceptance.helpers import ok
from tests.acceptance.test_alert_properties import VALID, json_values, mutated

FORM = "application/x-www-form-urlencoded"
SLACK_EXAMPLES = {"sqlite": 800, "postgresql": 200}
ALERT_EXAMPLES = {"sqlite": 400, "postgresql": 100}
TABLES = (Ticket, OutboxRow, ProcessedEvent, AlertGroup, AlertInstance)


def _examples(database_url: str, counts: dict[str, int]) -> int:
    return counts["sqlite" if database_url.startswith("sqlite") else "postgresql"]


@pytest.fixture
def fuzz_stack(database_url: str) -> Iterator[Stack]:
    """The alert stack without email: the stdlib draws MIME boundaries from the global `random`,
    and Hypothesis would take the server doing so for a strategy using it."""
    extra = {"ALERT_WEBHOOK_TOKEN": TOKEN, "TICKETBOT_ALERTS_CHANNEL": ALERTS_CHANNEL}
    with Stack(
        database_url=database_url, extra_env=extra, setup=add_alerts_channel, email=False
    ) as stack:
        label_acme(stack)
        yield stack


def _stored(stack: Stack) -> tuple[int, ...]:
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in TABLES]
    with stack.rt.sessions() as s:
        return tuple(s.execute(select(*counts)).one())


def _assert_clean_answer(status: int, text: str) -> None:
    assert 200 <= status < 500, f"{status}: {text[:300]}"
    if status >= 400:
        data = json.loads(text)
        error = data["error"]
        assert isinstance(error, str) and error.strip(), text
        assert "\n" not in error and "Traceback" not in error and len(error) < 400, error


def _still_answers(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "still here after the fuzz"))
    assert any(t.title == "still here after the fuzz" for t in tickets(stack))


# ---- strategies ----------------------------------------------------------------------------
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
content_types = (
    st.sampled_from(
        [
            FORM,
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "",
            "multipart/form-data; boundary=x",
            "APPLICATION/JSON",
        ]
    )
    | header_text
)
extra_headers = st.dictionaries(
    st.sampled_from(
        [
            "X-Slack-Retry-Num",
            "X-Slack-Retry-Reason",
            "X-Slack-Bolt-Lazy-Only",
            "X-Slack-Bolt-Lazy-Function-Name",
            "Content-Encoding",
            "Accept",
            "X-Forwarded-For",
        ]
    )
    | st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True),
    header_text,
    max_size=3,
)
slack_ids = st.sampled_from(
    [CAST.employee, CAST.tech1, CAST.manager, CAST.client_channel, CAST.tech_channel, "T0EMU", "1"]
) | st.text(max_size=12)
somethings = slack_ids | json_values


def _almost(document: str) -> st.SearchStrategy[str]:
    """`document` with one character dropped, one inserted, or the end cut off."""
    at = st.integers(0, max(len(document) - 1, 0))
    return st.one_of(
        at.map(lambda i: document[:i] + document[i + 1 :]),
        st.tuples(at, st.sampled_from('{}[]",:\\')).map(
            lambda p: document[: p[0]] + p[1] + document[p[0] :]
        ),
        at.map(lambda i: document[:i]),
    )


def _json_text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return values.map(json.dumps).flatmap(lambda text: st.just(text) | _almost(text))


full_commands = st.fixed_dictionaries(
    {
        "command": st.just(ids.COMMAND),
        "text": st.sampled_from(["", "help", "list", "status 1", "status x", "the payload"])
        | st.text(max_size=30),
        "user_id": slack_ids,
        "channel_id": slack_ids,
        "team_id": st.just("T0EMU"),
        "trigger_id": st.text(max_size=10),
        "response_url": st.just("http://127.0.0.1:9/none"),
    }
)
command_forms = (
    full_commands
    | st.fixed_dictionaries(
        {},
        optional={
            "command": st.sampled_from([ids.COMMAND, "/other"]) | st.text(max_size=8),
            "text": st.sampled_from(["", "help", "list", "status 1", "status x", "the payload"])
            | st.text(max_size=30),
            "user_id": slack_ids,
            "channel_id": slack_ids,
            "team_id": slack_ids,
            "trigger_id": st.text(max_size=10),
            "response_url": st.just("http://127.0.0.1:9/none") | st.text(max_size=10),
            "ssl_check": st.just("1"),
            "payload": st.text(max_size=20),
        },
    )
    | st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4)
)

actions = st.fixed_dictionaries(
    {"action_id": st.sampled_from(ids.ALL_ACTIONS) | st.text(max_size=10)},
    optional={
        "value": st.sampled_from(["1", "2", "999"]) | somethings,
        "block_id": somethings,
        "selected_option": st.fixed_dictionaries({"value": somethings}) | json_values,
        "type": st.sampled_from(["button", "static_select"]) | json_values,
    },
)
views = st.fixed_dictionaries(
    {"callback_id": st.sampled_from(ids.ALL_VIEWS) | somethings},
    optional={
        "type": st.just("modal") | json_values,
        "private_metadata": _json_text(
            st.fixed_dictionaries({}, optional={"ticket": somethings, "channel": somethings})
        )
        | json_values,
        "state": st.fixed_dictionaries({"values": json_values}) | json_values,
        "id": somethings,
    },
)
interactions = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["block_actions", "view_submission", "view_closed", "shortcut", "block_suggestion"]
        )
        | somethings
    },
    optional={
        "user": st.fixed_dictionaries({"id": slack_ids}) | somethings,
        "team": st.fixed_dictionaries({"id": slack_ids}) | somethings,
        "channel": st.fixed_dictionaries({"id": slack_ids}) | somethings,
        "container": st.fixed_dictionaries({"channel_id": slack_ids, "message_ts": somethings})
        | somethings,
        "actions": st.lists(actions, max_size=2) | json_values,
        "view": views | json_values,
        "trigger_id": somethings,
        "callback_id": somethings,
        "message": json_values,
    },
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "app_home_opened", "app_mention"]) | somethings},
    optional={
        "subtype": st.sampled_from(["message_changed", "message_deleted", "bot_message"])
        | somethings,
        "user": slack_ids | somethings,
        "channel": slack_ids | somethings,
        "text": somethings,
        "ts": st.just("1.000100") | somethings,
        "thread_ts": st.just("1.000100") | somethings,
        "bot_id": somethings,
        "message": json_values,
        "previous_message": json_values,
        "attachments": json_values,
        "tab": st.just("home") | somethings,
    },
)
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"])},
    optional={
        "event": events | json_values,
        "event_id": st.text(max_size=12) | json_values,
        "team_id": slack_ids,
        "api_app_id": somethings,
        "challenge": somethings,
        "authorizations": json_values,
        "team": somethings,
        "enterprise": somethings,
    },
)
slack_bodies = st.one_of(
    st.tuples(st.binary(max_size=300), content_types),
    st.tuples(command_forms.map(lambda f: urllib.parse.urlencode(f).encode()), content_types),
    st.tuples(
        _json_text(interactions | json_values).map(
            lambda doc: ("payload=" + urllib.parse.quote(doc)).encode()
        ),
        st.just(FORM) | content_types,
    ),
    st.tuples(
        _json_text(envelopes | json_values).map(str.encode),
        st.just("application/json") | content_types,
    ),
)
# Mostly signed, so that most examples get past the signature check.
signings = st.sampled_from(["signed"] * 6 + ["unsigned", "forged", "stale", "odd timestamp"])


def _slack_headers(stack: Stack, signing: str, odd: str, body: bytes) -> dict[str, str]:
    """The signature headers `signing` asks for; `odd` is the timestamp of an "odd timestamp"."""
    now = str(int(time.time()))
    if signing == "unsigned":
        return {}
    if signing == "forged":
        return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign("forged", now, body)}
    timestamp = {"stale": str(int(now) - 301), "odd timestamp": odd}.get(signing, now)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(stack.signing_secret, timestamp, body),
    }


# ---- /slack/events ---------------------------------------------------------------------------
def test_slack_events_never_fail_on_any_request(fuzz_stack: Stack, database_url: str) -> None:
    stack = fuzz_stack

    @settings(max_examples=_examples(database_url, SLACK_EXAMPLES), deadline=None, database=None)
    @given(case=slack_bodies, signing=signings, odd=header_text, headers=extra_headers)
    def run(case: tuple[bytes, str], signing: str, odd: str, headers: dict[str, str]) -> None:
        body, content_type = case
        before = _stored(stack)
        sent = {**headers, **_slack_headers(stack, signing, odd, body)}
        answer = stack.emu.send_raw(body, content_type, signature="", timestamp="", headers=sent)
        _assert_clean_answer(answer.status, answer.body)
        event(f"{signing} -> {answer.status}")
        if signing != "signed":
            assert answer.status == 401, answer.body
        if answer.status >= 400:
            assert _stored(stack) == before, (answer.status, answer.body)

    run()
    _still_answers(stack)


# ---- alert webhooks --------------------------------------------------------------------------
right_tokens = st.sampled_from([f"Bearer {TOKEN}", f"bearer {TOKEN} ", f"BEARER   {TOKEN}"])
wrong_tokens = st.one_of(
    st.none(),
    st.sampled_from([f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", f"Bearer{TOKEN}", "Bearer"]),
    header_text.map(lambda text: f"Bearer {text}"),
    header_text,
)
# Mostly the right token, so that most examples get past it.
authorizations = st.sampled_from([right_tokens] * 3 + [wrong_tokens]).flatmap(lambda s: s)


def _alert_bodies(kind: str) -> st.SearchStrategy[bytes]:
    valid = json.dumps(VALID[kind])
    return st.one_of(
        st.binary(max_size=300),
        _json_text(json_values).map(str.encode),
        mutated()
        .filter(lambda case: case[0] == kind)
        .map(lambda case: json.dumps(case[1]).encode()),
        _almost(valid).map(str.encode),
        st.just(valid.encode()),
    )


@pytest.mark.parametrize("kind", ["alertmanager", "grafana", "generic"])
def test_alert_webhooks_never_fail_on_any_request(
    fuzz_stack: Stack, database_url: str, kind: str
) -> None:
    stack = fuzz_stack

    @settings(max_examples=_examples(database_url, ALERT_EXAMPLES), deadline=None, database=None)
    @given(
        body=_alert_bodies(kind),
        authorization=authorizations,
        content_type=content_types,
        headers=extra_headers,
        method=st.sampled_from(["POST", "PUT"]),
    )
    def run(
        body: bytes,
        authorization: str | None,
        content_type: str,
        headers: dict[str, str],
        method: str,
    ) -> None:
        before = _stored(stack)
        sent = {**headers, "Content-Type": content_type}
        if authorization is not None:
            sent["Authorization"] = authorization
        answer = post(stack, f"/alerts/{kind}", body, token=None, headers=sent, method=method)
        _assert_clean_answer(answer.status, answer.text)
        event(f"{answer.status}")
        scheme, _, token = (authorization or "").strip().partition(" ")
        if (scheme.lower(), token.strip()) != ("bearer", TOKEN):
            assert answer.status == 401, answer.text
        if answer.status >= 400:
            assert _stored(stack) == before, (answer.status, answer.text)

    run()
    _still_answers(stack)
