"""`/ticket`: the create modal, quick tickets, and help / list / status / report answered
ephemerally. The words are read by handlers/grammar.py."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.messages import chat as messages
from bot.messages import ids
from bot.reports.month import Month
from bot.reports.summary import report_summary
from bot.service.actor import Actor
from bot.service.errors import ForbiddenError, NotFoundError
from bot.service.use_cases import TicketService
from bot.slack import modals
from handlers.errors import internal_error_message, user_message
from handlers.grammar import Help, ListMine, NewForm, Quick, Report, Status, Usage, slack_command

NEW_TICKET_HINT = (
    "To report a problem, type `/ticket` and what is wrong, e.g. `/ticket printer on floor 3 "
    "jammed`, or just `/ticket` for the form."
)


def register(app: App, service: TicketService) -> None:
    @app.command(ids.COMMAND)
    def handle_ticket_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        user, channel = command["user_id"], command.get("channel_id") or command["user_id"]
        actor = Actor(user)
        try:
            match slack_command(command.get("text") or ""):
                case NewForm():
                    ack()
                    meta = json.dumps({"channel": channel})
                    client.views_open(
                        trigger_id=command["trigger_id"], view=modals.create_ticket_modal(meta)
                    )
                case Help():
                    ack(**_ephemeral(messages.help_text()))
                case ListMine():
                    ack(**_ephemeral(messages.ticket_list(service.my_open(actor))))
                case Status(ticket_id):
                    view, timeline = service.status(actor, ticket_id)
                    staff = service.directory.is_technician(user)
                    ack(**_ephemeral(messages.status(view, timeline, include_internal=staff)))
                case Report(who, month):
                    _report(ack, service, actor, who, month)
                case Usage(text):
                    _say(ack, text)
                case Quick(title):
                    ticket_id = service.open_ticket(actor, title=title, origin_channel=channel)
                    _say(
                        ack,
                        f"Ticket #{ticket_id} created. Follow it in the thread of the "
                        "“received” message; we'll keep you posted there and by email.",
                    )
        except NotFoundError as e:
            _say(ack, e.message)
        except Exception as e:
            _say(ack, user_message(e) or internal_error_message(e))


def _report(
    ack: Ack, service: TicketService, actor: Actor, who: str | None, month: Month | None
) -> None:
    try:
        report = service.monthly_report(actor, client=who, month=month)
    except ForbiddenError as e:  # perhaps a problem report starting with the word "report"
        _say(ack, f"{e.message} {NEW_TICKET_HINT}")
        return
    ack(**_ephemeral(report_summary(report)))


def _say(ack: Ack, text: str) -> None:
    """An ephemeral answer (JSON, so Slack shows it only to the person who typed the command)."""
    ack(text=text, response_type="ephemeral")


def _ephemeral(msg: Any) -> dict[str, Any]:
    return {"text": msg.text, "blocks": msg.blocks, "response_type": "ephemeral"}
