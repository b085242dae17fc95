"""The route of the email outbox channel: each row is one message, sent over SMTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.email.sender import EmailSender
from bot.outbox.claims import Claimed
from bot.outbox.pacing import PaceRule
from bot.outbox.route import Lane


class EmailRoute:
    """Sends each row with `sender`; while email is off (no sender), skips it."""

    def __init__(self, sender: EmailSender | None) -> None:
        self.paces: Mapping[str, PaceRule] = {}
        self.lanes: Mapping[str, Lane] = {}
        self._sender = sender

    def deliver(self, row: Claimed) -> dict[str, Any]:
        if self._sender is None:
            return {"skipped": "email is off"}
        return {"message_id": self._sender.send(row.payload)}
