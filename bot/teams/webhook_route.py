"""A client-thread message to a notify-only client's Workflows webhook."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from bot.outbox.claims import Claimed
from bot.outbox.errors import DeliveryError
from bot.outbox.pacing import Paces, paced
from bot.teams import cards as adaptive
from bot.teams.route import TeamsRoute
from bot.teams.workflows import WorkflowsGateway
from storage.models import Client


class WebhookRoute:
    def __init__(
        self,
        *,
        webhooks: WorkflowsGateway | None,
        teams: TeamsRoute,
        paces: Paces,
        reads: sessionmaker[Session],
        clock: Clock,
    ) -> None:
        self._webhooks = webhooks
        self._teams = teams  # renders the message as Teams shows it
        self._paces = paces
        self._reads = reads
        self._clock = clock

    def deliver(self, row: Claimed) -> dict[str, Any]:
        """The URL is read from the client, never stored in the outbox: it carries a signature."""
        webhooks = self._webhooks
        if webhooks is None:
            raise DeliveryError("Workflows webhooks are not configured", transient=False)
        p = row.payload
        with self._reads() as s:
            url = s.scalar(select(Client.teams_webhook_url).where(Client.id == p.get("client_id")))
        if not url:
            return {"skipped": "the client has no Teams webhook now"}
        envelope = adaptive.webhook_envelope(self._teams.message(p))
        paced(
            self._paces,
            "webhook",
            row.target,
            self._clock.now,
            lambda: webhooks.post(url, envelope),
        )
        return {"client_id": p.get("client_id")}
