"""The emulator's rate limits and injected faults, as the real WebClient meets them."""

from __future__ import annotations

import urllib.error
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError

from bot.domain.clock import ManualClock
from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import ManualTime, client

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
