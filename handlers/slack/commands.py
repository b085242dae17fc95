"""`/ticket`: the create modal, quick tickets, and help / list / status / report answered
ephemerally."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.messages import chat as messages
from bot.messages import ids
from bot.reports import Month
from bot.reports.summary import report_summary
from bot.service import ForbiddenError, NotFoundError, TicketService, UserInputError
from bot.service.actor import Actor
from bot.slack import modals
from handlers.errors import internal_error_message, user_message

STATUS = re.compile(r"^status\s+#?(\d{1,9})\s*$", re.IGNORECASE)
STATUS_WORD = re.compile(r"^status(\s|$)", re.IGNORECASE)
REPORT_WORD = re.compile(r"^report(\s|$)", re.IGNORECASE)
MONTH_LIKE = re.compile(r"^\d{4}-\d{1,2}$")
NEW_TICKET_HINT = (
    "To report a problem, type `/ticket` and what is wrong, e.g. `/ticket printer on floor 3 "
    "jammed`, or just `/ticket` for the form."
)


def register(app: App, service: TicketService) -> None:
    @app.command(ids.COMMAND)
    def handle_ticket_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        user, channel = command["user_id"], command.get("channel_id") or command["user_id"]
        actor = Actor(user)
        word = text.lower()
        try:
            if not text:
                ack()
                meta = json.dumps({"channel": channel})
                client.views_open(
                    trigger_id=command["trigger_id"], view=modals.create_ticket_modal(meta)
                )
            elif word in ("help", "?", "-h", "--help"):
                ack(**_ephemeral(messages.help_text()))
            elif word in ("list", "mine", "ls"):
                ack(**_ephemeral(messages.ticket_list(service.my_open(actor))))
            elif STATUS_WORD.match(word):
                match = STATUS.match(text)
                if match is None:
                    _say(ack, "Usage: `/ticket status <id>`, for example `/ticket status 42`.")
                    return
                view, timeline = service.status(actor, int(match.group(1)))
                staff = service.directory.is_technician(user)
                ack(**_ephemeral(messages.status(view, timeline, include_internal=staff)))
            elif REPORT_WORD.match(word):
                _report(ack, service, actor, text[len("report") :])
            else:
                ticket_id = service.open_ticket(actor, title=text, origin_channel=channel)
                _say(
                    ack,
                    f"Ticket #{ticket_id} created. Follow it in the thread of the "
                    "“received” message; we'll keep you posted there and by email.",
                )
        except NotFoundError as e:
            _say(ack, e.message)
        except Exception as e:
            _say(ack, user_message(e) or internal_error_message(e))


def _report(ack: Ack, service: TicketService, actor: Actor, rest: str) -> None:
    who, month = _report_args(rest)
    try:
        report = service.monthly_report(actor, client=who, month=month)
    except ForbiddenError as e:  # perhaps a problem report starting with the word "report"
        _say(ack, f"{e.message} {NEW_TICKET_HINT}")
        return
    ack(**_ephemeral(report_summary(report)))


def _report_args(rest: str) -> tuple[str | None, Month | None]:
    """`[client name] [YYYY-MM]`: a last word shaped like a month is the month (UserInputError
    when it is not a real one); the rest, if any, names the client."""
    words = rest.split()
    month = None
    if words and MONTH_LIKE.match(words[-1]):
        try:
            month = Month.parse(words.pop())
        except ValueError as e:
            raise UserInputError(
                f"{e}. Usage: `/ticket report [client] [YYYY-MM]`, e.g. `/ticket report 2026-11`."
            ) from None
    return (" ".join(words) or None), month


def _say(ack: Ack, text: str) -> None:
    """An ephemeral answer (JSON, so Slack shows it only to the person who typed the command)."""
    ack(text=text, response_type="ephemeral")


def _ephemeral(msg: Any) -> dict[str, Any]:
    return {"text": msg.text, "blocks": msg.blocks, "response_type": "ephemeral"}
