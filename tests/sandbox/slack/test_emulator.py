"""The Slack emulator, driven by the real slack_sdk WebClient and slack_bolt App on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.domain.clock import ManualClock
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.slack.render import render_text

SECRET = "emulator-signing-secret"
TOKEN = "xoxb-emulator-test"
APP_TOKEN = "xapp-1-A0EMU-1-emulatortest"
T0 = 1_767_225_600.0


class ManualTime:
    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def button(action_id: str, text: str, value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }


def card_blocks(version: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "block_id": f"tkt-1:summary:v{version}",
            "text": {"type": "mrkdwn", "text": "*#1* Printer jams &lt;!channel&gt;"},
        },
        {
            "type": "actions",
            "block_id": f"tkt-1:actions:v{version}",
            "elements": [
                button("ticket_ack", "Acknowledge", "1"),
                button("ticket_resolve", "Resolve", "1"),
                {
                    "type": "static_select",
                    "action_id": "ticket_priority",
                    "placeholder": {"type": "plain_text", "text": "Priority"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "High"}, "value": "p2"},
                        {"text": {"type": "plain_text", "text": "Normal"}, "value": "p3"},
                    ],
                },
            ],
        },
    ]


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "ticket_new",
    "private_metadata": '{"channel_id": "C0TECHS"}',
    "title": {"type": "plain_text", "text": "New ticket"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "priority",
            "label": {"type": "plain_text", "text": "Priority"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": "Critical"}, "value": "critical"},
                    {"text": {"type": "plain_text", "text": "Normal"}, "value": "normal"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "assignee",
            "optional": True,
            "label": {"type": "plain_text", "text": "Assignee"},
            "element": {"type": "users_select", "action_id": "value"},
        },
    ],
}


@pytest.fixture
def clock() -> ManualTime:
    return ManualTime()


@pytest.fixture
def emu(clock: ManualTime) -> Iterator[SlackEmulator]:
    """A started emulator on a hand-moved clock (signatures still use real time)."""
    with SlackEmulator(SECRET, TOKEN, now=clock) as emulator:
        emulator.add_user("U0REQ", "dana.client", email="dana@client.example")
        emulator.add_user("U0TECH", "sam.tech", tz="Europe/Berlin")
        emulator.add_channel("C0TECHS", "techs", members=["U0TECH"])
        emulator.add_channel("C0HELP", "acme-help", members=["U0REQ"])
        emulator.add_channel(
            "G0PRIV", "private-noc", members=["U0TECH"], is_private=True, bot_member=False
        )
        yield emulator


def client(emu: SlackEmulator, **kwargs: Any) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.api_url, **kwargs)


# -- a tiny receiving bot (stdlib) that checks signatures with slack_sdk ----------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.form()["payload"])
        return data


@dataclass
class RecordingBot:
    url: str
    received: list[Received] = field(default_factory=list)
    answer: Callable[[Received], tuple[int, str]] = lambda r: (200, "")


@pytest.fixture
def recorder() -> Iterator[RecordingBot]:
    verifier = SignatureVerifier(SECRET)
    bot = RecordingBot(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            valid = verifier.is_valid(
                body, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
            )
            got = Received(headers, body, valid)
            bot.received.append(got)
            status, text = bot.answer(got) if valid else (401, '{"error": "invalid request"}')
            raw = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if text else "text/plain")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    bot.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield bot
    server.shutdown()
    server.server_close()


# -- Web API ------------------------------------------------------------------------------------


def test_web_client_posts_updates_and_threads(emu: SlackEmulator) -> None:
    web = client(emu)
    auth = web.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0EMU", "UBOT", "BBOT")

    posted = web.chat_postMessage(channel="C0TECHS", text="#1 Printer jams", blocks=card_blocks())
    card_ts = posted["ts"]
    assert posted["channel"] == "C0TECHS" and posted["message"]["bot_id"] == "BBOT"
    web.chat_update(channel="C0TECHS", ts=card_ts, text="#1 acknowledged", blocks=card_blocks(2))
    reply = web.chat_postMessage(channel="C0TECHS", text="On my way", thread_ts=card_ts)

    card = emu.message("C0TECHS", card_ts)
    assert card.text == "#1 acknowledged"
    assert [u.text for u in card.updates] == ["#1 Printer jams"]
    assert card.blocks[0]["block_id"] == "tkt-1:summary:v2"
    assert [m.ts for m in emu.messages("C0TECHS")] == [card_ts]
    assert [m.text for m in emu.replies("C0TECHS", card_ts)] == ["On my way"]
    assert float(reply["ts"]) > float(card_ts)

    dm = web.chat_postMessage(channel="U0REQ", text="Your ticket #1 was received")
    assert dm["channel"] == emu.dm_channel("U0REQ") and dm["channel"].startswith("D")
    assert [m.text for m in emu.dms("U0REQ")] == ["Your ticket #1 was received"]
    assert web.conversations_open(users="U0REQ")["channel"]["id"] == dm["channel"]

    link = web.chat_getPermalink(channel="C0TECHS", message_ts=card_ts)["permalink"]
    assert link == f"https://emulator.slack.test/archives/C0TECHS/p{card_ts.replace('.', '')}"
    user = web.users_info(user="U0REQ")["user"]
    assert (user["name"], user["profile"]["email"], user["tz"]) == (
        "dana.client",
        "dana@client.example",
        "Europe/London",
    )
    members = web.conversations_members(channel="C0TECHS")
    assert members["members"] == ["U0TECH", "UBOT"]
    assert members["response_metadata"]["next_cursor"] == ""
    assert [c.method for c in emu.calls][:3] == ["auth.test", "chat.postMessage", "chat.update"]
    assert all(c.ok for c in emu.calls)


def test_message_metadata_is_kept_and_read_back_with_history_and_replies(
    emu: SlackEmulator, clock: ManualTime
) -> None:
    web = client(emu)
    meta = {"event_type": "ticketbot_outbox", "event_payload": {"outbox_id": 7}}
    first = web.chat_postMessage(channel="C0TECHS", text="card", metadata=meta)
    assert first["message"]["metadata"] == meta
    clock.advance(1)
    second = web.chat_postMessage(channel="C0TECHS", text="another card")
    reply = web.chat_postMessage(
        channel="C0TECHS",
        text="reply",
        thread_ts=first["ts"],
        metadata={"event_type": "ticketbot_outbox", "event_payload": {"outbox_id": 8}},
    )
    web.chat_postMessage(channel="C0TECHS", text="a later reply", thread_ts=first["ts"])

    history = web.conversations_history(channel="C0TECHS", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [second["ts"], first["ts"]]  # newest first
    assert history["messages"][1]["metadata"] == meta
    assert "metadata" not in history["messages"][0]
    assert history["has_more"] is False
    newer = web.conversations_history(channel="C0TECHS", oldest=first["ts"])
    assert [m["ts"] for m in newer["messages"]] == [second["ts"]]  # `oldest` is exclusive
    page = web.conversations_history(channel="C0TECHS", limit=1)
    assert page["has_more"] is True
    rest = web.conversations_history(
        channel="C0TECHS", limit=1, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == [first["ts"]]

    thread = web.conversations_replies(channel="C0TECHS", ts=first["ts"], include_all_metadata=True)
    texts = [m["text"] for m in thread["messages"]]
    assert texts == ["card", "reply", "a later reply"]  # the parent first, then oldest first
    assert thread["messages"][1]["metadata"]["event_payload"] == {"outbox_id": 8}
    later = web.conversations_replies(channel="C0TECHS", ts=first["ts"], oldest=reply["ts"])
    assert [m["text"] for m in later["messages"]] == ["card", "a later reply"]


def test_metadata_and_history_errors_are_slack_shaped(emu: SlackEmulator) -> None:
    web = client(emu)
    with pytest.raises(SlackApiError) as bad:
        web.chat_postMessage(channel="C0TECHS", text="x", metadata={"event_payload": {}})
    assert bad.value.response["error"] == "invalid_metadata_format"
    with pytest.raises(SlackApiError) as missing:
        web.conversations_replies(channel="C0TECHS", ts="1.000000")
    assert missing.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as outside:
        web.conversations_history(channel="G0PRIV")
    assert outside.value.response["error"] == "not_in_channel"


def test_form_encoded_body_with_blocks_as_json_string_is_accepted(emu: SlackEmulator) -> None:
    blocks = json.dumps([{"type": "divider"}, *card_blocks()])
    response = client(emu).api_call(
        "chat.postMessage", params={"channel": "C0TECHS", "text": "form", "blocks": blocks}
    )
    message = emu.message("C0TECHS", response["ts"])
    assert message.blocks[0]["type"] == "divider" and "block_id" in message.blocks[0]
    assert emu.calls[-1].params["blocks"][1]["block_id"] == "tkt-1:summary:v1"


def test_post_errors_are_slack_shaped(emu: SlackEmulator) -> None:
    web = client(emu)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "G0PRIV", "text": "x"}, "not_in_channel"),
        ({"channel": "C0TECHS", "text": "x", "thread_ts": "1.000001"}, "thread_not_found"),
        ({"channel": "C0TECHS"}, "no_text"),
        ({"channel": "C0TECHS", "text": "x" * 40_001}, "msg_too_long"),
    ]
    for params, error in cases:
        with pytest.raises(SlackApiError) as caught:
            web.api_call("chat.postMessage", json=params)
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == error
    with pytest.raises(SlackApiError) as caught:
        web.api_call("chat.unknownThing", json={})
    assert caught.value.response["error"] == "unknown_method"


def test_invalid_blocks_point_at_the_offending_field(emu: SlackEmulator) -> None:
    web = client(emu)
    long_button = [{"type": "actions", "elements": [button("a", "x" * 76)]}]
    duplicate = [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}]
    too_many = [{"type": "divider"}] * 51
    fields = [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]
    cases: list[tuple[list[dict[str, Any]], str]] = [
        (long_button, "/blocks/0/elements/0/text/text"),
        (duplicate, "/blocks/1/block_id"),
        (too_many, "/blocks"),
        (fields, "/blocks/0/fields"),
    ]
    for blocks, pointer in cases:
        with pytest.raises(SlackApiError) as caught:
            web.chat_postMessage(channel="C0TECHS", text="x", blocks=blocks)
        response = caught.value.response
        assert response["error"] == "invalid_blocks"
        assert any(f"[json-pointer:{pointer}]" in e for e in response["errors"])
        assert response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert emu.messages("C0TECHS") == []


def test_chat_update_only_touches_the_bots_own_messages(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    alert_ts, _ = emu.post_bot_message("C0TECHS", text="PROBLEM: host down")
    web = client(emu)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("chat.update", {"ts": alert_ts, "text": "x"}, "cant_update_message"),
        ("chat.delete", {"ts": alert_ts}, "cant_delete_message"),
        ("chat.update", {"ts": "1.000001", "text": "x"}, "message_not_found"),
    ]
    for method, params, error in cases:
        with pytest.raises(SlackApiError) as caught:
            web.api_call(method, json={"channel": "C0TECHS", **params})
        assert caught.value.response["error"] == error
    own = web.chat_postMessage(channel="C0TECHS", text="card")["ts"]
    web.chat_delete(channel="C0TECHS", ts=own)
    assert emu.message("C0TECHS", own).deleted
    assert [m.ts for m in emu.messages("C0TECHS")] == [alert_ts]


def test_tokens_are_checked(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as caught:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()
    assert caught.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as caught:
        WebClient(base_url=emu.api_url).api_call("auth.test")
    assert caught.value.response["error"] == "not_authed"


def test_ephemeral_messages_are_kept_per_user(emu: SlackEmulator) -> None:
    web = client(emu)
    ts = web.chat_postEphemeral(channel="C0TECHS", user="U0TECH", text="Only you")["message_ts"]
    assert [(e.text, e.message_ts) for e in emu.ephemerals("U0TECH")] == [("Only you", ts)]
    with pytest.raises(SlackApiError) as caught:
        web.chat_postEphemeral(channel="C0TECHS", user="U0REQ", text="nope")
    assert caught.value.response["error"] == "user_not_in_channel"


# -- rate limits and faults ---------------------------------------------------------------------


def test_paced_channel_gets_429_with_retry_after(emu: SlackEmulator, clock: ManualTime) -> None:
    emu.enforce_rate_limits = True
    web = client(emu)
    for n in range(3):
        web.chat_postMessage(channel="C0TECHS", text=f"burst {n}")
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="C0TECHS", text="one too many")
    response = caught.value.response
    assert response.status_code == 429 and response["error"] == "ratelimited"
    assert int(response.headers["Retry-After"]) >= 1
    emu.add_channel("C0OTHER", "other")
    web.chat_postMessage(channel="C0OTHER", text="other channels have their own budget")
    clock.advance(1.0)
    web.chat_postMessage(channel="C0TECHS", text="after a second")
    assert emu.stats.ratelimited == 1
    assert len(emu.messages("C0TECHS")) == 4


def test_injected_faults_fail_the_next_matching_calls(emu: SlackEmulator) -> None:
    web = client(emu, retry_handlers=[])
    emu.faults.add("chat.postMessage", "ratelimited", retry_after=2, channel="C0TECHS")
    emu.faults.add("chat.update", "server_error")
    emu.faults.add("chat.postMessage", "unavailable", channel="C0HELP")
    emu.faults.add("users.info", "user_not_found", times=2)

    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="C0TECHS", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "2"
    ts = web.chat_postMessage(channel="C0TECHS", text="x")["ts"]

    with pytest.raises(SlackApiError) as caught:
        web.chat_update(channel="C0TECHS", ts=ts, text="y")
    assert caught.value.response.status_code == 500
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="C0HELP", text="x")
    assert caught.value.response.status_code == 503  # body is HTML, not JSON
    for _ in range(2):
        with pytest.raises(SlackApiError):
            web.users_info(user="U0REQ")
    assert web.users_info(user="U0REQ")["ok"]
    assert emu.faults.pending == 0
    assert (emu.stats.ratelimited, emu.stats.server_errors) == (1, 2)
    failed = [(c.method, c.status, c.error) for c in emu.calls if not c.ok]
    assert failed[0] == ("chat.postMessage", 429, "ratelimited")
    assert emu.message("C0TECHS", ts).updates == []  # a failed call changes nothing


def test_a_channel_fails_for_a_span_of_clock_time(emu: SlackEmulator) -> None:
    web = client(emu, retry_handlers=[])
    clock = ManualClock()
    emu.faults.fail_channel("U0REQ", timedelta(seconds=60), clock=clock)

    for seconds in (0, 30, 29):
        clock.advance(timedelta(seconds=seconds))
        with pytest.raises(SlackApiError) as caught:
            web.chat_postMessage(channel="U0REQ", text="still down")
        assert caught.value.response.status_code == 500
    ts = web.chat_postMessage(channel="C0TECHS", text="other channels are served")["ts"]
    web.chat_update(channel="C0TECHS", ts=ts, text="and other methods")
    clock.advance(timedelta(seconds=1))
    web.chat_postMessage(channel="U0REQ", text="back")
    assert [m.text for m in emu.dms("U0REQ")] == ["back"]
    assert emu.stats.server_errors == 3


def test_connection_reset_fault_drops_the_connection(emu: SlackEmulator) -> None:
    emu.faults.add("auth.test", "connection_reset")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        client(emu, retry_handlers=[]).auth_test()
    assert client(emu).auth_test()["ok"]


def test_random_faults_are_reproducible_for_a_seed(emu: SlackEmulator) -> None:
    web = client(emu, retry_handlers=[])

    def run() -> list[str]:
        emu.faults.random(0.5, kinds=("ratelimited", "server_error"), seed=7)
        outcome = []
        for n in range(20):
            try:
                web.chat_postMessage(channel="C0TECHS", text=str(n))
                outcome.append("ok")
            except SlackApiError as exc:
                outcome.append(str(exc.response.status_code))
        emu.faults.clear()
        return outcome

    first, second = run(), run()
    assert first == second
    assert {"ok", "429", "500"} <= set(first)
    assert web.auth_test()["ok"]  # auth.test is never chosen by chaos


# -- signed delivery --------------------------------------------------------------------------


def test_deliveries_are_signed_and_shaped_like_slack(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    web = client(emu)
    card_ts = web.chat_postMessage(channel="C0TECHS", text="#1", blocks=card_blocks())["ts"]

    command = emu.slash_command("U0REQ", "C0HELP", "Printer & <!channel>")
    assert command.status == 200
    form = recorder.received[-1].form()
    assert recorder.received[-1].headers["content-type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/ticket" and form["text"] == "Printer & <!channel>"
    assert (form["user_id"], form["channel_id"], form["team_id"]) == ("U0REQ", "C0HELP", "T0EMU")
    assert form["response_url"].startswith(emu.base_url + "/response/")

    assert emu.click("U0TECH", "C0TECHS", card_ts, "ticket_ack").ok
    click = recorder.received[-1].payload()
    assert click["type"] == "block_actions"
    assert click["container"] == {
        "type": "message",
        "message_ts": card_ts,
        "channel_id": "C0TECHS",
        "is_ephemeral": False,
    }
    action = click["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "ticket_ack",
        "tkt-1:actions:v1",
        "1",
        "button",
    )
    assert click["message"]["blocks"][1]["elements"][0]["action_id"] == "ticket_ack"
    assert click["state"]["values"]["tkt-1:actions:v1"]["ticket_priority"] == {
        "type": "static_select",
        "selected_option": None,
    }

    emu.select("U0TECH", "C0TECHS", card_ts, "ticket_priority", "p2")
    chosen = recorder.received[-1].payload()["actions"][0]
    assert chosen["selected_option"]["value"] == "p2"

    reply_ts, delivery = emu.post_message("U0TECH", "C0TECHS", "On my way", thread_ts=card_ts)
    event_body = recorder.received[-1]
    assert event_body.headers["content-type"] == "application/json"
    envelope = json.loads(event_body.body)
    event = envelope["event"]
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    assert (event["ts"], event["thread_ts"], event["parent_user_id"]) == (reply_ts, card_ts, "UBOT")
    assert event["channel_type"] == "channel"

    again = emu.redeliver(delivery, retry_num=2, reason="http_timeout")
    assert again.event_id == delivery.event_id
    retried = recorder.received[-1]
    assert retried.body == event_body.body
    assert (retried.headers["x-slack-retry-num"], retried.headers["x-slack-retry-reason"]) == (
        "2",
        "http_timeout",
    )
    assert all(r.valid for r in recorder.received)


def test_bad_signatures_and_stale_timestamps_are_sent_as_given(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    body = b'{"type": "url_verification", "challenge": "abc"}'
    assert emu.send_raw(body).status == 200
    assert emu.send_raw(body, signature="v0=deadbeef").status == 401
    assert emu.send_raw(body, timestamp=1).status == 401
    assert emu.send_raw(body, signature="").status == 401
    assert "x-slack-signature" not in recorder.received[-1].headers
    assert [r.valid for r in recorder.received] == [True, False, False, False]


def test_click_requires_the_button_to_be_rendered(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    ts = client(emu).chat_postMessage(channel="C0TECHS", text="plain card")["ts"]
    with pytest.raises(AssertionError, match="no element 'ticket_ack'"):
        emu.click("U0TECH", "C0TECHS", ts, "ticket_ack")
    with pytest.raises(AssertionError, match="no message"):
        emu.click("U0TECH", "C0TECHS", "1.000001", "ticket_ack")
    assert recorder.received == []


def test_human_edits_deletes_and_alerts_arrive_as_events(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    ts, _ = emu.post_message("U0REQ", "C0HELP", "Internet down")
    emu.edit_message("U0REQ", "C0HELP", ts, "Internet down at HQ")
    changed = json.loads(recorder.received[-1].body)["event"]
    assert (changed["subtype"], changed["hidden"]) == ("message_changed", True)
    assert changed["message"]["text"] == "Internet down at HQ"
    assert changed["previous_message"]["text"] == "Internet down"
    emu.delete_message("U0REQ", "C0HELP", ts)
    deleted = json.loads(recorder.received[-1].body)["event"]
    assert (deleted["subtype"], deleted["deleted_ts"]) == ("message_deleted", ts)

    attachment = {"color": "D63232", "title": "[FIRING:1] DiskAlmostFull", "text": "96% used"}
    emu.post_bot_message("C0HELP", attachments=[attachment], bot_id="B0PROM")
    alert = json.loads(recorder.received[-1].body)["event"]
    assert (alert["subtype"], alert["bot_id"], alert["username"]) == (
        "bot_message",
        "B0PROM",
        "Alertmanager",
    )
    assert alert["attachments"][0]["title"] == "[FIRING:1] DiskAlmostFull"

    _, skipped = emu.post_message("U0TECH", "G0PRIV", "bot is not invited here")
    assert skipped.status == 0 and "not a member" in skipped.body
    assert len(recorder.received) == 4


def test_membership_changes_and_deactivations_arrive_as_events(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    emu.add_user("U0GUEST", "gus.guest", guest="single")
    web = client(emu)

    emu.join_channel("U0REQ", "C0TECHS")
    joined = json.loads(recorder.received[-1].body)["event"]
    assert joined == {
        "type": "member_joined_channel",
        "user": "U0REQ",
        "channel": "C0TECHS",
        "channel_type": "C",
        "team": emu.team_id,
        "event_ts": joined["event_ts"],
    }
    emu.leave_channel("U0TECH", "C0TECHS")
    assert json.loads(recorder.received[-1].body)["event"]["type"] == "member_left_channel"
    assert web.conversations_members(channel="C0TECHS")["members"] == ["UBOT", "U0REQ"]

    emu.set_members("C0TECHS", ["UBOT", "U0GUEST"])  # no event
    assert len(recorder.received) == 2
    guest = web.users_info(user="U0GUEST")["user"]
    assert (guest["is_restricted"], guest["is_ultra_restricted"]) == (True, True)

    emu.deactivate_user("U0TECH")
    changed = json.loads(recorder.received[-1].body)["event"]
    assert (changed["type"], changed["user"]["id"], changed["user"]["deleted"]) == (
        "user_change",
        "U0TECH",
        True,
    )
    assert web.users_info(user="U0TECH")["user"]["deleted"] is True

    skipped = emu.join_channel("U0REQ", "G0PRIV")
    assert skipped.status == 0 and "not a member" in skipped.body


def test_response_url_posts_are_recorded_and_shown(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    emu.slash_command("U0REQ", "C0HELP", "")
    response_url = recorder.received[-1].form()["response_url"]
    assert WebhookClient(response_url).send(text="Only you can see this").status_code == 200
    WebhookClient(response_url).send(text="Everyone sees this", response_type="in_channel")
    assert [p.payload["text"] for p in emu.responses] == [
        "Only you can see this",
        "Everyone sees this",
    ]
    assert [e.text for e in emu.ephemerals("U0REQ", "C0HELP")] == ["Only you can see this"]
    assert [m.text for m in emu.messages("C0HELP")] == ["Everyone sees this"]


# -- modals -------------------------------------------------------------------------------------


def test_views_open_checks_the_trigger(
    emu: SlackEmulator, clock: ManualTime, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    web = client(emu)

    def trigger() -> str:
        emu.slash_command("U0REQ", "C0HELP", "")
        return recorder.received[-1].form()["trigger_id"]

    fresh = trigger()
    with pytest.raises(SlackApiError) as caught:
        web.views_open(
            trigger_id=fresh, view={**MODAL, "title": {"type": "plain_text", "text": "T" * 25}}
        )
    assert caught.value.response["error"] == "invalid_arguments"
    assert "/view/title/text" in caught.value.response["response_metadata"]["messages"][0]
    opened = web.views_open(trigger_id=fresh, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "ticket_new"
    assert opened["state"] == {"values": {}} and opened["hash"]
    for trigger_id, error in (
        (fresh, "exchanged_trigger_id"),
        ("123.456.abc", "invalid_trigger_id"),
    ):
        with pytest.raises(SlackApiError) as caught:
            web.views_open(trigger_id=trigger_id, view=MODAL)
        assert caught.value.response["error"] == error
    late = trigger()
    clock.advance(3.5)
    with pytest.raises(SlackApiError) as caught:
        web.views_open(trigger_id=late, view=MODAL)
    assert caught.value.response["error"] == "expired_trigger_id"
    assert [v.id for v in emu.views("U0REQ")] == [opened["id"]]


def test_view_stack_updates_and_the_home_tab(emu: SlackEmulator, recorder: RecordingBot) -> None:
    emu.bot_url = recorder.url
    web = client(emu)
    more = {"type": "actions", "elements": [button("more", "More")]}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Help"}, "blocks": [more]}

    def last_trigger() -> str:  # from the last slash command or block_actions sent to the bot
        form = recorder.received[-1].form()
        return (
            form["trigger_id"]
            if "trigger_id" in form
            else str(json.loads(form["payload"])["trigger_id"])
        )

    emu.slash_command("U0TECH", "C0TECHS", "")
    root = web.views_open(trigger_id=last_trigger(), view=modal)["view"]
    for depth in (2, 3):
        emu.click_view("U0TECH", "more")
        assert recorder.received[-1].payload()["container"]["type"] == "view"
        pushed = web.views_push(trigger_id=last_trigger(), view=modal)["view"]
        assert pushed["root_view_id"] == root["id"] and len(emu.views("U0TECH")) == depth
    emu.click_view("U0TECH", "more")
    with pytest.raises(SlackApiError) as caught:
        web.views_push(trigger_id=last_trigger(), view=modal)
    assert caught.value.response["error"] == "push_limit_reached"

    with pytest.raises(SlackApiError) as caught:
        web.views_update(view_id=root["id"], hash="stale", view=modal)
    assert caught.value.response["error"] == "hash_conflict"
    renamed = {**modal, "title": {"type": "plain_text", "text": "Help (2)"}}
    web.views_update(view_id=root["id"], hash=root["hash"], view=renamed)
    assert emu.view(root["id"]).title == "Help (2)" and len(emu.view(root["id"]).updates) == 1

    home = {
        "type": "home",
        "blocks": [{"type": "actions", "elements": [button("home_new", "New")]}],
    }
    published = web.views_publish(user_id="U0TECH", view=home)["view"]
    emu.open_home("U0TECH")
    opened = json.loads(recorder.received[-1].body)["event"]
    assert (opened["type"], opened["view"]["id"]) == ("app_home_opened", published["id"])
    emu.click_view("U0TECH", "home_new", view_id=published["id"])
    assert recorder.received[-1].payload()["view"]["type"] == "home"


def test_views_publish_rejects_what_slack_would_for_a_home_tab(emu: SlackEmulator) -> None:
    web = client(emu)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "row"}}
    twice = {"type": "actions", "elements": [button("page", "Prev"), button("page", "Next")]}
    cases = [
        ({"type": "home", "blocks": [section] * 101}, "no more than 100 items"),
        (
            {"type": "home", "title": {"type": "plain_text", "text": "Hi"}, "blocks": [section]},
            "not allowed for a home view",
        ),
        ({"type": "home", "blocks": [twice]}, "duplicate action_id 'page'"),
        ({"type": "modal", "blocks": [section]}, "must be 'home'"),
        ({"type": "home", "blocks": [section], "private_metadata": "x" * 3001}, "3001"),
    ]
    for view, message in cases:
        with pytest.raises(SlackApiError) as caught:
            web.views_publish(user_id="U0TECH", view=view)
        assert caught.value.response["error"] == "invalid_arguments"
        assert message in " ".join(caught.value.response["response_metadata"]["messages"])
    assert emu.home_view("U0TECH") is None
    web.views_publish(user_id="U0TECH", view={"type": "home", "blocks": [section] * 100})
    assert emu.home_view("U0TECH") is not None


def test_response_url_can_replace_and_delete_the_original(
    emu: SlackEmulator, recorder: RecordingBot
) -> None:
    emu.bot_url = recorder.url
    blocks = [{"type": "actions", "elements": [button("ticket_ack", "Acknowledge")]}]
    ts = client(emu).chat_postMessage(channel="C0TECHS", text="card", blocks=blocks)["ts"]
    emu.click("U0TECH", "C0TECHS", ts, "ticket_ack")
    hook = WebhookClient(recorder.received[-1].payload()["response_url"])
    assert hook.send(text="Acknowledged by sam", replace_original=True).status_code == 200
    assert emu.message("C0TECHS", ts).text == "Acknowledged by sam"
    assert hook.send(delete_original=True).status_code == 200
    assert emu.message("C0TECHS", ts).deleted and emu.messages("C0TECHS") == []


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def bolt_app(emu: SlackEmulator) -> Iterator[App]:
    """A real Bolt app behind a threaded WSGI server; `emu.bot_url` points at it."""
    app = App(signing_secret=SECRET, client=client(emu), token_verification_enabled=False)
    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietWSGIHandler,
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    emu.bot_url = f"http://127.0.0.1:{server.server_port}/slack/events"
    yield app
    server.shutdown()
    server.server_close()


def test_modal_round_trip_with_a_bolt_app(emu: SlackEmulator, bolt_app: App) -> None:
    done = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Ticket created"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks!"}}],
    }

    @bolt_app.command("/ticket")
    def open_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @bolt_app.view("ticket_new")
    def create(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        title = values["title"]["value"]["value"]
        if len(title) < 5:
            ack(response_action="errors", errors={"title": "Say a bit more"})
            return
        ack(response_action="update", view=done)
        priority = values["priority"]["value"]["selected_option"]["value"]
        who = values["assignee"]["value"]["selected_user"]
        meta = json.loads(view["private_metadata"])
        client.chat_postMessage(channel=meta["channel_id"], text=f"{title} ({priority}) → {who}")

    assert emu.slash_command("U0REQ", "C0HELP", "printer").status == 200
    modal = emu.wait_for(lambda: emu.views("U0REQ"), description="the New ticket modal")[0]
    assert modal.callback_id == "ticket_new" and modal.is_open

    refused = emu.submit_view("U0REQ", values={"title": "Net", "priority": "Critical"})
    assert refused.json == {"response_action": "errors", "errors": {"title": "Say a bit more"}}
    assert emu.view(modal.id).errors == {"title": "Say a bit more"}

    with pytest.raises(AssertionError, match="required input 'title'"):
        emu.submit_view("U0REQ", values={"title": "", "priority": "critical"})
    with pytest.raises(AssertionError, match="no option 'urgent'"):
        emu.submit_view("U0REQ", values={"title": "Internet down", "priority": "urgent"})

    accepted = emu.submit_view(
        "U0REQ", values={"title": "Internet down", "priority": "critical", "assignee": "U0TECH"}
    )
    assert accepted.json is not None and accepted.json["response_action"] == "update"
    assert emu.view(modal.id).title == "Ticket created"
    card = emu.wait_for(lambda: emu.messages("C0TECHS"))[0]
    assert card.text == "Internet down (critical) → U0TECH"
    submitted = accepted.payload["view"]
    assert submitted["private_metadata"] == MODAL["private_metadata"]
    assert submitted["state"]["values"]["priority"]["value"]["selected_option"]["value"] == (
        "critical"
    )


# -- Socket Mode --------------------------------------------------------------------------------


def test_socket_mode_with_bolt_socket_mode_handler() -> None:
    with SlackEmulator(SECRET, TOKEN, app_token=APP_TOKEN) as emu:
        emu.add_user("U0REQ", "dana.client")
        emu.add_channel("C0HELP", "acme-help", members=["U0REQ"])
        app = App(signing_secret=SECRET, client=client(emu), token_verification_enabled=False)
        retries: list[str] = []

        @app.command("/ticket")
        def command(ack: Ack, respond: Respond) -> None:
            ack("Opening a form…")
            respond("Filed as #1")

        @app.event("message")
        def message(request: BoltRequest) -> None:
            retries.append(request.headers["x-slack-retry-num"][0])

        handler = SocketModeHandler(app, app_token=APP_TOKEN)
        handler.connect()
        try:
            emu.wait_socket_connected(5)
            emu.delivery_mode = "socket"

            acked = emu.slash_command("U0REQ", "C0HELP", "printer")
            assert (acked.status, acked.json) == (200, {"text": "Opening a form…"})
            emu.wait_for(lambda: emu.ephemerals("U0REQ"))

            _, first = emu.post_message("U0REQ", "C0HELP", "Internet down")
            assert (first.status, first.json) == (200, {})
            assert emu.redeliver(first, retry_num=1, reason="timeout").status == 200
            emu.wait_for(lambda: len(retries) == 2)
            assert retries == ["0", "1"]  # Slack sends retry_attempt 0 on first tries

            emu.socket_ack_timeout = 0.3
            unhandled = emu.open_home("U0REQ")  # no listener: Bolt answers 404 and never acks
            assert unhandled.status == 0

            emu.disconnect_sockets()  # Slack's "refresh_requested": the client reconnects
            emu.wait_for(lambda: emu.socket_connects == 2 and emu.socket_connections == 1)
            assert emu.slash_command("U0REQ", "C0HELP", "again").status == 200
        finally:
            handler.close()
        opens = emu.calls_to("apps.connections.open")
        assert len(opens) == 2 and all(c.ok for c in opens)


def test_socket_mode_requires_the_app_token() -> None:
    with SlackEmulator(SECRET, TOKEN, app_token=APP_TOKEN) as emu:
        with pytest.raises(SlackApiError) as caught:
            client(emu).apps_connections_open(app_token=TOKEN)
        assert caught.value.response["error"] == "not_allowed_token_type"
        url = client(emu).apps_connections_open(app_token=APP_TOKEN)["url"]
        assert url.startswith("ws://127.0.0.1:") and "ticket=" in url


# -- reading what Slack shows -------------------------------------------------------------------


def test_wait_for_times_out_with_a_description(emu: SlackEmulator) -> None:
    client(emu).auth_test()
    with pytest.raises(AssertionError, match=r"a card in #techs; last API calls: \[auth.test=ok\]"):
        emu.wait_for(lambda: emu.messages("C0TECHS"), timeout=0.05, description="a card in #techs")


def test_wait_for_wakes_up_on_api_calls(emu: SlackEmulator) -> None:
    web = client(emu)
    poster = threading.Thread(target=lambda: web.chat_postMessage(channel="C0TECHS", text="hi"))
    poster.start()
    assert emu.wait_for(lambda: emu.messages("C0TECHS"), timeout=5)[0].text == "hi"
    poster.join()


def test_render_text_reads_like_the_slack_client(emu: SlackEmulator) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "#1 Internet down"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Opened by <@U0REQ> &amp; <!here>"},
            "fields": [
                {"type": "mrkdwn", "text": "*Priority*\nCritical"},
                {"type": "mrkdwn", "text": "*Client*\nAcme"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Status: New"}]},
        *card_blocks()[1:],
    ]
    ts = client(emu).chat_postMessage(channel="C0TECHS", text="fallback", blocks=blocks)["ts"]
    text = emu.render(emu.message("C0TECHS", ts))
    assert text.splitlines() == [
        "## #1 Internet down",
        "Opened by @dana.client & @here",
        "*Priority* Critical | *Client* Acme",
        "  Status: New",
        "[Acknowledge] [Resolve] [Priority ▾]",
    ]
    alert = {
        "attachments": [
            {"title": "[FIRING:1] Disk", "fields": [{"title": "host", "value": "fs01"}]}
        ]
    }
    assert render_text(alert) == "| [FIRING:1] Disk\n| host: fs01"


def test_delivery_without_bot_url_is_a_clear_error(emu: SlackEmulator) -> None:
    with pytest.raises(AssertionError, match="bot_url is not set"):
        emu.slash_command("U0REQ", "C0HELP", "")
    assert emu.deliveries == []
