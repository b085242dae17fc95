"""Forged, stale and malformed requests: 401 or a clean error, nothing stored, no traceback."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest
from sqlalchemy import func, select

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import ProcessedEvent, Ticket
from tests.acceptance.helpers import card, command_body, ok

FORM = "application/x-www-form-urlencoded"


def _tickets(stack: Stack) -> int:
    with stack.rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_bad_signature_is_401_and_stores_nothing(stack: Stack) -> None:
    answer = stack.emu.send_raw(command_body("forged"), FORM, signature="v0=" + "0" * 64)
    assert answer.status == 401
    assert answer.json == {"error": "X-Slack-Signature does not match the request"}
    assert _tickets(stack) == 0


def test_missing_signature_is_401(stack: Stack) -> None:
    answer = stack.emu.send_raw(command_body("unsigned"), FORM, signature="")
    assert answer.status == 401
    assert answer.json == {
        "error": "the request is not signed (X-Slack-Signature and X-Slack-Request-Timestamp)"
    }
    assert stack.emu.send_raw(command_body("no time"), FORM, timestamp="").status == 401
    assert _tickets(stack) == 0


def test_stale_timestamp_is_401_even_when_signed(stack: Stack) -> None:
    stale = str(int(time.time()) - 600)
    answer = stack.emu.send_raw(command_body("replayed"), FORM, timestamp=stale)
    assert answer.status == 401
    assert answer.json == {
        "error": "the request is stale: its timestamp is more than 5 minutes from now"
    }
    future = str(int(time.time()) + 600)
    assert stack.emu.send_raw(command_body("future"), FORM, timestamp=future).status == 401
    assert _tickets(stack) == 0


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "-1", "\u0661\u0662", "9" * 20])
def test_timestamp_that_is_not_unix_seconds_is_401(stack: Stack, timestamp: str) -> None:
    body = command_body("odd clock")
    answer = stack.emu.send_raw(body, FORM, timestamp=timestamp.encode().decode("latin-1"))
    assert answer.status == 401
    assert answer.json == {"error": "X-Slack-Request-Timestamp is not a Unix time in seconds"}
    assert _tickets(stack) == 0


def test_forged_event_is_401_and_not_recorded(stack: Stack) -> None:
    body = json.dumps(
        {"type": "event_callback", "event_id": "EvFORGED", "event": {"type": "message"}}
    ).encode()
    assert stack.emu.send_raw(body, "application/json", signature="v0=bad").status == 401
    with stack.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"payload=%7Bnot-json", FORM, "the form field payload is not valid JSON"),
        (b"payload=%5B1%2C2%5D", FORM, "the form field payload is not a JSON object"),
        (b"{not json", "application/json", "the JSON body is not valid JSON"),
        (b"[1, 2]", "application/json", "the JSON body is not a JSON object"),
        (b"[" * 100_000, "application/json", "the JSON body is not valid JSON"),
        (b"\xff\xfe\x00garbage", FORM, "request body is not UTF-8"),
        (b'{"team": 5}', "application/json", "the payload is not shaped like a Slack request"),
        (
            json.dumps({"type": "event_callback", "event": "x"}).encode(),
            "application/json",
            "the payload is not shaped like a Slack request",
        ),
        (
            json.dumps({"type": "view_submission", "view": 5}).encode(),
            "application/json",
            "the payload is not shaped like a Slack request",
        ),
        (b"command=%2Fticket&text=no+user", FORM, "the payload is not shaped like a Slack request"),
    ],
)
def test_signed_malformed_payload_is_400_json_with_one_log_line(
    stack: Stack, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str, error: str
) -> None:
    caplog.set_level(logging.WARNING)
    answer = stack.emu.send_raw(body, content_type)
    assert answer.status == 400, answer.body
    assert answer.json is not None and answer.json["error"].startswith(error)
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None
    assert caplog.records[0].getMessage().startswith("refused a ")
    assert "\n" not in caplog.records[0].getMessage()
    assert _tickets(stack) == 0
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "still answering"))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", FORM),
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", FORM),
        (json.dumps({"type": "event_callback", "event": "x"}).encode(), "application/json"),
    ],
)
def test_unsigned_malformed_payload_is_401_unparsed(
    stack: Stack, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    answer = stack.emu.send_raw(body, content_type, signature="v0=" + "0" * 64)
    assert answer.status == 401
    assert answer.json == {"error": "X-Slack-Signature does not match the request"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert _tickets(stack) == 0


def test_button_on_a_missing_ticket_tells_the_user(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "keyboard broken"))
    stack.wait_delivered()
    c = card(stack, 1)
    payload = {
        "type": "block_actions",
        "user": {"id": CAST.tech1, "username": "tom", "team_id": "T0EMU"},
        "team": {"id": "T0EMU"},
        "channel": {"id": CAST.tech_channel},
        "container": {"type": "message", "message_ts": c.ts, "channel_id": CAST.tech_channel},
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": ids.START, "block_id": "b", "value": "999"}],
    }
    body = ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()
    assert stack.emu.send_raw(body, FORM).status == 200
    stack.wait_delivered()
    assert "#999" in stack.emu.ephemerals(CAST.tech1)[-1].text


def test_oversized_body_is_413(stack: Stack) -> None:
    answer = stack.emu.send_raw(b"text=" + b"a" * (2 * 1024 * 1024), FORM)
    assert answer.status == 413
    assert _tickets(stack) == 0


def test_health_and_metrics(stack: Stack) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as r:
        assert r.status == 200 and json.loads(r.read()) == {"ok": True}
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "dead mouse"))
    stack.wait_delivered()
    with urllib.request.urlopen(f"{stack.base_url}/metrics", timeout=5) as r:
        text = r.read().decode()
    assert 'ticketbot_slack_requests_total{status="200"}' in text
    assert "ticketbot_outbox_delivered_total" in text
