"""Every Slack listener, registered on the Bolt app by `register`."""

from __future__ import annotations

from slack_bolt import App

from bot.home.refresh import HomeViewers
from bot.people.membership import Membership
from bot.service.use_cases import TicketService
from handlers import errors
from handlers.slack import actions, commands, events, home, views
from handlers.slack.events import AlertsChannel

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
