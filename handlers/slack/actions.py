"""Buttons and selects on ticket cards, help posts and client threads."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.tickets import Event
from bot.messages import ids
from bot.service.actor import Actor
from bot.service.errors import NotFoundError
from bot.service.use_cases import TicketService
from bot.slack import modals
from bot.slack.detail import detail_modal
from bot.telemetry.logs import about_ticket
from handlers.errors import internal_error_message, user_message

log = logging.getLogger(__name__)


def register(app: App, service: TicketService) -> None:
    def guarded(body: dict[str, Any], work: Callable[[Actor, int], None]) -> None:
        user = body["user"]["id"]
        channel = _channel(body) or user
        ticket_id = None
        try:
            ticket_id = _ticket_id(body, service)
            with about_ticket(ticket_id):
                work(Actor(user), ticket_id)
        except Exception as e:
            with about_ticket(ticket_id):
                message = user_message(e)
                if message is None:
                    message = internal_error_message(e)
            service.tell(user, channel, message)

    def simple(action_id: str, call: Callable[[Actor, int], None]) -> None:
        @app.action(action_id)
        def handle_card_action(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            guarded(body, call)

    simple(ids.START, service.start)
    simple(ids.MAKE_CRITICAL, lambda a, t: service.change_priority(a, t, "critical"))
    simple(ids.REQUEST_HELP, service.request_help)
    simple(ids.OFFER_HELP, service.offer_help)
    simple(ids.CONFIRM, service.confirm)

    @app.action(ids.SET_PRIORITY)
    def handle_priority_select(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        chosen = ((body["actions"][0].get("selected_option") or {}).get("value")) or ""
        guarded(body, lambda a, t: service.change_priority(a, t, chosen))

    def modal_opener(
        action_id: str, event: Event, build: Callable[[Any, str], dict[str, Any]]
    ) -> None:
        @app.action(action_id)
        def handle_modal_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()

            def open_modal(actor: Actor, ticket_id: int) -> None:
                view = service.check(actor, ticket_id, event)
                meta = json.dumps(
                    {"ticket": ticket_id, "version": view.version, "channel": _channel(body)}
                )
                client.views_open(trigger_id=body["trigger_id"], view=build(view, meta))

            guarded(body, open_modal)

    modal_opener(
        ids.ASSIGN,
        Event.ASSIGN,
        lambda v, meta: modals.assign_modal(v, service.technicians_with_load(), meta),
    )
    modal_opener(
        ids.DISPATCH,
        Event.DISPATCH_ONSITE,
        lambda v, meta: modals.dispatch_modal(v, service.technicians_with_load(), meta),
    )
    modal_opener(ids.RESOLVE, Event.RESOLVE, modals.resolve_modal)
    modal_opener(ids.STILL_BROKEN, Event.REOPEN, modals.still_broken_modal)

    @app.action(ids.VIEW_TICKET)
    def handle_view_ticket(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()

        def open_detail(actor: Actor, ticket_id: int) -> None:
            d = service.detail(actor, ticket_id)
            modal = detail_modal(d.view, d.timeline, d.deliveries, staff=d.staff)
            client.views_open(trigger_id=body["trigger_id"], view=modal)

        guarded(body, open_detail)


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return channel.get("id") or container.get("channel_id")


def _ticket_id(body: dict[str, Any], service: TicketService) -> int:
    action = body["actions"][0]
    value = action.get("value")
    if value and str(value).isdigit():
        return int(value)
    # Selects carry no value of their own: the card they sit on names the ticket.
    container = body.get("container") or {}
    found = service.ticket_for_message(container.get("channel_id"), container.get("message_ts"))
    if found is None:
        raise NotFoundError("That message isn't a ticket card any more.")
    return found
