"""Fixtures of the Slack emulator's tests: a started emulator on a hand-moved clock, and a tiny
receiving bot (stdlib) that checks signatures with slack_sdk."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack.emulator import SlackEmulator
from tests.sandbox.slack.helpers import SECRET, TOKEN, ManualTime, Received, RecordingBot


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
