"""The emulator's Socket Mode, with slack_bolt's SocketModeHandler."""

from __future__ import annotations

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import APP_TOKEN, SECRET, TOKEN, client

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
