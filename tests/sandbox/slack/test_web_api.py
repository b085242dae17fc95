"""The emulator's Web API, driven by the real slack_sdk WebClient on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import ManualTime, RecordingBot, button, card_blocks, client

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
