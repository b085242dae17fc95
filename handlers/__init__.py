"""Thin Bolt listeners: parse the payload, call one use-case, answer. `register` wires them all."""

from __future__ import annotations

from slack_bolt import App

from bot.service import TicketService
from bot.service.home_refresh import HomeViewers
from bot.service.membership import Membership
from handlers import actions, commands, errors, events, home, views
from handlers.events import AlertsChannel

__all__ = ["AlertsChannel", "register"]


def register(
    app: App,
    service: TicketService,
    membership: Membership,
    alerts_channel: AlertsChannel | None = None,
    *,
    home_viewers: HomeViewers | None = None,
) -> None:
    errors.register(app)
    commands.register(app, service)
    actions.register(app, service)
    views.register(app, service)
    events.register(app, service, membership, alerts_channel)
    home.register(app, home_viewers)
