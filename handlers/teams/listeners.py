"""Every Teams listener, registered on the SDK's `App` by `register_teams`.

Messages are answered through the outbox (a message activity's HTTP answer carries nothing);
card clicks and dialogs are invokes, answered in their HTTP response within Teams' few seconds.
"""

from __future__ import annotations

from typing import Any

from bot.service.use_cases import TicketService
from handlers.teams import actions, dialogs, membership, messages
from handlers.teams.wiring import TeamsWiring


def register_teams(app: Any, service: TicketService, wiring: TeamsWiring) -> None:
    messages.register(app, service, wiring)
    actions.register(app, service, wiring)
    dialogs.register(app, service, wiring)
    membership.register(app, wiring)
