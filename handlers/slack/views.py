"""Modal submissions: create, assign, dispatch onsite, resolve with verification, still broken."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.domain.tickets import MissingInputError
from bot.messages import ids
from bot.service.actor import Actor
from bot.service.errors import ConflictError, UserInputError
from bot.service.use_cases import TicketService
from bot.telemetry.logs import about_ticket
from handlers.errors import internal_error_message, user_message


def register(app: App, service: TicketService) -> None:
    def submit(
        callback_id: str,
        error_block: str,
        work: Callable[[Actor, dict[str, Any], dict[str, Any]], None],
    ) -> None:
        @app.view(callback_id)
        def handle_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            user = body["user"]["id"]
            meta = _meta(view)
            values = view.get("state", {}).get("values", {})
            with about_ticket(_ticket_of(meta)):
                try:
                    work(Actor(user), meta, values)
                except (UserInputError, MissingInputError, ConflictError) as e:
                    ack(response_action="errors", errors={error_block: e.message})
                    return
                except Exception as e:
                    message = user_message(e)
                    if message is None:
                        message = internal_error_message(e)
                    ack(response_action="errors", errors={error_block: message[:1900]})
                    return
                ack()

    def create(actor: Actor, meta: dict[str, Any], v: dict[str, Any]) -> None:
        service.open_ticket(
            actor,
            title=_text(v, ids.IN_TITLE),
            description=_text(v, ids.IN_DESCRIPTION),
            priority=_option(v, ids.IN_PRIORITY) or "medium",
            affected=_option(v, ids.IN_AFFECTED),
            origin_channel=meta.get("channel"),
        )

    def assign(actor: Actor, meta: dict[str, Any], v: dict[str, Any]) -> None:
        service.assign(
            actor,
            int(meta["ticket"]),
            _option(v, ids.IN_ASSIGNEE) or "",
            expected_version=int(meta["version"]),
        )

    def dispatch(actor: Actor, meta: dict[str, Any], v: dict[str, Any]) -> None:
        service.dispatch_onsite(
            actor,
            int(meta["ticket"]),
            who=_option(v, ids.IN_ONSITE_WHO) or "",
            eta=_text(v, ids.IN_ONSITE_ETA),
            note=_text(v, ids.IN_ONSITE_NOTE),
        )

    def resolve(actor: Actor, meta: dict[str, Any], v: dict[str, Any]) -> None:
        service.resolve(actor, int(meta["ticket"]), _text(v, ids.IN_VERIFICATION))

    def still_broken(actor: Actor, meta: dict[str, Any], v: dict[str, Any]) -> None:
        service.reopen(actor, int(meta["ticket"]), _text(v, ids.IN_REASON))

    submit(ids.VIEW_CREATE, ids.IN_TITLE[0], create)
    submit(ids.VIEW_ASSIGN, ids.IN_ASSIGNEE[0], assign)
    submit(ids.VIEW_DISPATCH, ids.IN_ONSITE_ETA[0], dispatch)
    submit(ids.VIEW_RESOLVE, ids.IN_VERIFICATION[0], resolve)
    submit(ids.VIEW_STILL_BROKEN, ids.IN_REASON[0], still_broken)


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _ticket_of(meta: dict[str, Any]) -> int | None:
    ticket = meta.get("ticket")
    return ticket if isinstance(ticket, int) else None


def _field(values: dict[str, Any], key: tuple[str, str]) -> dict[str, Any]:
    block, action = key
    found = (values.get(block) or {}).get(action)
    return found if isinstance(found, dict) else {}


def _text(values: dict[str, Any], key: tuple[str, str]) -> str:
    return str(_field(values, key).get("value") or "")


def _option(values: dict[str, Any], key: tuple[str, str]) -> str | None:
    field = _field(values, key)
    selected = field.get("selected_option") or {}
    return selected.get("value") or field.get("selected_user") or None
