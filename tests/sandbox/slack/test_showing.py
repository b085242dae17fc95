"""Reading what the emulated Slack shows, and waiting for it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.slack.render import render_text
from tests.sandbox.slack.helpers import card_blocks, client

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
