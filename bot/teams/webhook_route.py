"""A client-thread message to a notify-only client's Workflows webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bot.outbox.claims import Claimed
from bot.outbox.pacing import PaceRule, paced
from bot.outbox.route import Lane
from bot.outbox.shared import Outbox
from bot.teams import cards as adaptive
from bot.teams.route import TeamsRendering
from bot.teams.workflows import WorkflowsGateway
from storage.models import Client

# The outbox channel, and the name of its pace: posts per flow.
CHANNEL = "webhook"
# Power Automate throttles a flow's trigger above a few requests a second.
PACE = PaceRule(1.0, 2)


class WebhookRoute:
    def __init__(
        self, outbox: Outbox, *, webhooks: WorkflowsGateway, rendering: TeamsRendering
    ) -> None:
        self.paces: Mapping[str, PaceRule] = {CHANNEL: PACE}
        self.lanes: Mapping[str, Lane] = {}
        self._webhooks = webhooks
        self._rendering = rendering  # the message as Teams shows it
        self._paces = outbox.paces
        self._reads = outbox.reads
        self._clock = outbox.clock

    def deliver(self, row: Claimed) -> dict[str, Any]:
        """The URL is read from the client, never stored in the outbox: it carries a signature."""
        webhooks = self._webhooks
        p = row.payload
        with self._reads() as s:
            url = s.scalar(select(Client.teams_webhook_url).where(Client.id == p.get("client_id")))
        if not url:
            return {"skipped": "the client has no Teams webhook now"}
        envelope = adaptive.webhook_envelope(self._rendering.message(p))
        paced(
            self._paces,
            CHANNEL,
            row.target,
            self._clock.now,
            lambda: webhooks.post(url, envelope),
        )
        return {"client_id": p.get("client_id")}
