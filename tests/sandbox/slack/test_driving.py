"""What the emulator delivers to a bot: signed, shaped like Slack's, for every human action."""

from __future__ import annotations

import json

import pytest
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import RecordingBot, card_blocks, client

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
