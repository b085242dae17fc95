"""The bot's own log lines about a ticket carry its id in JSON (LOG_FORMAT=json)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest

from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import assign, open_critical


@pytest.fixture
def bot_log(json_log: Callable[[str], io.StringIO]) -> io.StringIO:
    return json_log("bot")


def test_a_parked_delivery_is_logged_with_its_ticket(stack: Stack, bot_log: io.StringIO) -> None:
    tid = open_critical(stack)
    stack.emu.faults.add("chat.postMessage", "account_inactive", channel=CAST.tech1)
    assign(stack, tid)

    lines = [json.loads(line) for line in bot_log.getvalue().splitlines()]
    parked = [line for line in lines if "parked" in str(line["message"])]
    assert len(parked) == 1, lines
    assert parked[0]["ticket"] == tid
    assert parked[0]["level"] == "ERROR" and parked[0]["logger"] == "bot.outbox.claims"
    assert "account_inactive" in str(parked[0]["message"])
    assert stack.emu.bot_token not in bot_log.getvalue()
