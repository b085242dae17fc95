"""Card clicks (Action.Execute invokes): one short transaction, then the refreshed card in the
HTTP answer, within Teams' few seconds (the outbox updates the card for everyone else)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.messages import ids
from bot.service.use_cases import TicketService
from bot.teams import cards as adaptive
from handlers.errors import internal_error_message, user_message
from handlers.teams.activity import Incoming, dump, parse, ticket_id
from handlers.teams.wiring import TeamsWiring, actor, on_pool

_DONE = {
    ids.CONFIRM: "Thank you! Ticket #{id} is closed.",
    ids.OFFER_HELP: "Thank you! You're helping on ticket #{id}.",
}


def register(app: Any, service: TicketService, wiring: TeamsWiring) -> None:
    async def handle_teams_card_action(ctx: Any) -> dict[str, Any]:
        incoming = parse(dump(ctx.activity))
        action = incoming.value.get("action") if incoming is not None else None
        if incoming is None or not incoming.aad_id or not isinstance(action, dict):
            return _card_message("That button did not say what to do.", status=400)
        data = action.get("data")
        ticket = ticket_id(data) if isinstance(data, dict) else None
        return await on_pool(ticket, _card_action, service, wiring, incoming, action)

    app.on_card_action(handle_teams_card_action)


def _card_action(
    service: TicketService, wiring: TeamsWiring, incoming: Incoming, action: dict[str, Any]
) -> dict[str, Any]:
    verb = str(action.get("verb") or "")
    raw = action.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    found = ticket_id(data)
    if found is None:
        return _card_message("That button did not say which ticket.", status=400)
    ticket = found
    person = actor(incoming, service, wiring)
    calls: dict[str, Callable[[], None]] = {
        ids.START: lambda: service.start(person, ticket),
        ids.MAKE_CRITICAL: lambda: service.change_priority(person, ticket, "critical"),
        ids.SET_PRIORITY: lambda: service.change_priority(
            person, ticket, str(data.get("priority") or data.get("value") or "")
        ),
        ids.REQUEST_HELP: lambda: service.request_help(person, ticket),
        ids.OFFER_HELP: lambda: service.offer_help(person, ticket),
        ids.CONFIRM: lambda: service.confirm(person, ticket),
    }
    call = calls.get(verb)
    if call is None:
        return _card_message("That button is not one this bot knows.", status=400)
    try:
        call()
        if verb in (ids.CONFIRM, ids.OFFER_HELP):
            return _card_message(_DONE[verb].format(id=ticket))
        view, _ = service.status(person, ticket)
    except Exception as e:
        return _card_message(user_message(e) or internal_error_message(e))
    return _card_refresh(adaptive.ticket_card(view).card)


def _card_message(text: str, *, status: int = 200) -> dict[str, Any]:
    """An Action.Execute answer shown to the clicker only."""
    if status != 200:
        return {
            "statusCode": status,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "BadRequest", "message": text},
        }
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def _card_refresh(card: dict[str, object]) -> dict[str, Any]:
    """An Action.Execute answer: the card as it is now, shown to the clicker at once."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}
