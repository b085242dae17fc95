"""The App Home tab: opening it and turning its pages queue a publish (bot/service/home_refresh);
its *New ticket* button opens the create modal. Its ticket buttons are the cards' own actions."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.home.refresh import HomeViewers
from bot.messages import ids
from bot.slack import modals

log = logging.getLogger(__name__)


def register(app: App, home: HomeViewers | None) -> None:
    @app.event("app_home_opened")
    def handle_app_home_opened(event: dict[str, Any]) -> None:
        # The Messages tab sends this event too; only the Home tab is ours to draw.
        user = event.get("user")
        if home is not None and event.get("tab") == "home" and isinstance(user, str):
            home.opened(user)

    def handle_home_page(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        value = str(body["actions"][0].get("value") or "")
        if home is not None and value.isdigit():
            home.show_page(body["user"]["id"], int(value))

    app.action(ids.HOME_PAGE_PREVIOUS)(handle_home_page)
    app.action(ids.HOME_PAGE_NEXT)(handle_home_page)

    @app.action(ids.HOME_NEW_TICKET)
    def handle_home_new_ticket(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        # The ticket's client thread goes to the person's DM: the Home belongs to no channel.
        meta = json.dumps({"channel": user})
        client.views_open(trigger_id=body["trigger_id"], view=modals.create_ticket_modal(meta))

    @app.action(ids.HOME_OPEN_CARD)
    def handle_home_open_card(ack: Ack) -> None:
        ack()  # a link button: Slack opens the card itself and tells us of the click
