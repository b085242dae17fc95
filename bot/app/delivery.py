"""Wires outbox delivery: the route of each surface that is on, and one dispatcher per outbox
channel, so that a slow mail server never delays Slack (and the other way round)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.email.route import EmailRoute
from bot.email.sender import EmailSender
from bot.home.reader import HomeReader
from bot.messages.view import TeamsMention
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.policy import DispatchPolicy
from bot.outbox.route import Route
from bot.outbox.shared import Outbox
from bot.slack.delivery import SlackDelivery
from bot.slack.gateway import SlackGateway
from bot.teams.chat import TeamsChat
from bot.teams.route import TeamsRendering, TeamsRoute
from bot.teams.webhook_route import WebhookRoute
from bot.teams.workflows import WorkflowsGateway


def build_routes(
    outbox: Outbox,
    *,
    slack: SlackGateway | None,
    tech_channel: str | None,
    home: HomeReader,
    teams: TeamsChat | None,
    teams_tech_channel: str | None,
    teams_mention: Callable[[], TeamsMention | None] | None,
    email: EmailSender | None,
) -> dict[str, Route]:
    """The route of each outbox channel: Slack's and Teams' when they are on; email's (which
    skips its rows while email is off) and the Workflows webhooks' (a notify-only client needs
    no Teams bot) always."""
    routes: dict[str, Route] = {}
    if slack is not None:
        routes["slack"] = SlackDelivery(outbox, slack=slack, tech_channel=tech_channel, home=home)
    rendering = TeamsRendering(reads=outbox.reads, mention=teams_mention)
    if teams is not None:
        routes["teams"] = TeamsRoute(
            outbox, chat=teams, tech_channel=teams_tech_channel, rendering=rendering
        )
    routes["email"] = EmailRoute(email)
    routes["webhook"] = WebhookRoute(outbox, webhooks=WorkflowsGateway(), rendering=rendering)
    return routes


def build_dispatchers(
    outbox: Outbox, routes: Mapping[str, Route], policy: DispatchPolicy
) -> tuple[Dispatcher, ...]:
    """One dispatcher per outbox channel, in the order of `routes`."""
    return tuple(
        Dispatcher(
            outbox,
            routes,
            policy=policy,
            worker_id=f"outbox-{channel}",
            channels=(channel,),
        )
        for channel in routes
    )
