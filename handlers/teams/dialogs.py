"""Dialogs: task/fetch opens a form (new ticket, assign, dispatch onsite, resolve, still broken),
task/submit acts on it; both answered in their HTTP response."""

from __future__ import annotations

from typing import Any

from bot.domain.tickets import Event
from bot.messages import ids
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES
from bot.service.use_cases import TicketService
from bot.teams import dialogs as teams_dialogs
from handlers.errors import internal_error_message, user_message
from handlers.teams.activity import Incoming, dump, invoke_data, parse, ticket_id
from handlers.teams.wiring import TeamsWiring, actor, on_pool

UNKNOWN_FORM = "That form is not one this bot knows."


def register(app: Any, service: TicketService, wiring: TeamsWiring) -> None:
    async def handle_teams_dialog_open(ctx: Any) -> dict[str, Any]:
        incoming = parse(dump(ctx.activity))
        if incoming is None or not incoming.aad_id:
            return _task_message("That form could not be opened.")
        ticket = ticket_id(invoke_data(incoming.value))
        return await on_pool(ticket, _dialog_open, service, wiring, incoming)

    async def handle_teams_dialog_submit(ctx: Any) -> dict[str, Any] | None:
        incoming = parse(dump(ctx.activity))
        if incoming is None or not incoming.aad_id:
            return _task_message("That form could not be read.")
        ticket = ticket_id(invoke_data(incoming.value))
        return await on_pool(ticket, _dialog_submit, service, wiring, incoming)

    app.on_dialog_open(handle_teams_dialog_open)
    app.on_dialog_submit(handle_teams_dialog_submit)


def _dialog_open(service: TicketService, wiring: TeamsWiring, incoming: Incoming) -> dict[str, Any]:
    data = invoke_data(incoming.value)
    verb, ticket = str(data.get("verb") or ""), ticket_id(data)
    person = actor(incoming, service, wiring)
    try:
        if verb == ids.VIEW_CREATE or verb == "ticket.create":
            return teams_dialogs.dialog_response("New ticket", teams_dialogs.new_ticket_dialog())
        if ticket is None:
            return _task_message(UNKNOWN_FORM)
        if verb == ids.ASSIGN:
            view = service.check(person, ticket, Event.ASSIGN)
            card = teams_dialogs.assign_dialog(view, service.technicians_with_load())
            return teams_dialogs.dialog_response(f"Assign #{ticket}", card)
        if verb == ids.DISPATCH:
            view = service.check(person, ticket, Event.DISPATCH_ONSITE)
            card = teams_dialogs.dispatch_dialog(view, service.technicians_with_load())
            return teams_dialogs.dialog_response(f"Dispatch #{ticket}", card)
        if verb == ids.RESOLVE:
            view = service.check(person, ticket, Event.RESOLVE)
            return teams_dialogs.dialog_response(
                f"Resolve #{ticket}", teams_dialogs.resolve_dialog(view)
            )
        if verb == ids.STILL_BROKEN:
            view = service.check(person, ticket, Event.REOPEN)
            return teams_dialogs.dialog_response(
                f"Still broken? #{ticket}", teams_dialogs.still_broken_dialog(view)
            )
    except Exception as e:
        return _task_message(user_message(e) or internal_error_message(e))
    return _task_message(UNKNOWN_FORM)


def _dialog_submit(
    service: TicketService, wiring: TeamsWiring, incoming: Incoming
) -> dict[str, Any] | None:
    data = invoke_data(incoming.value)
    verb, ticket = str(data.get("verb") or ""), ticket_id(data)
    person = actor(incoming, service, wiring)
    try:
        if verb == ids.VIEW_CREATE:
            priority = _field(data, "priority") or "medium"
            affected = _field(data, "affected") or None
            new_id = service.open_ticket(
                person,
                title=_field(data, "title"),
                description=_field(data, "description"),
                priority=priority if priority in PRIORITIES else "medium",
                affected=affected if affected in AFFECTED_CHOICES else None,
                origin_channel=incoming.where,
                teams_tenant=incoming.tenant,
            )
            return _task_message(f"Ticket #{new_id} created. We'll keep you posted here.")
        if ticket is None:
            return _task_message(UNKNOWN_FORM)
        if verb == ids.VIEW_ASSIGN:
            service.assign(person, ticket, _field(data, "assignee"))
        elif verb == ids.VIEW_DISPATCH:
            service.dispatch_onsite(
                person,
                ticket,
                who=_field(data, "onsite_who"),
                eta=_field(data, "onsite_eta"),
                note=_field(data, "onsite_note"),
            )
        elif verb == ids.VIEW_RESOLVE:
            note = _field(data, "verification")
            if not note:
                return _task_message("Please say how the fix was verified.")
            service.resolve(person, ticket, note)
        elif verb == ids.VIEW_STILL_BROKEN:
            reason = _field(data, "reason")
            if not reason:
                return _task_message("Please say what is still broken.")
            service.reopen(person, ticket, reason)
        else:
            return _task_message(UNKNOWN_FORM)
    except Exception as e:
        return _task_message(user_message(e) or internal_error_message(e))
    return None  # closes the dialog; the card and the threads show the change


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _task_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": text}}
