"""What the Slack emulator's tests share: the workspace's secrets, a hand-moved clock, card
blocks, a WebClient on the emulator, and what a receiving bot recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from slack_sdk import WebClient

from bot.sandbox.slack.emulator import SlackEmulator

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


def client(emu: SlackEmulator, **kwargs: Any) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.api_url, **kwargs)


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
