"""`/ticket`: the create modal, quick tickets, and help / list / status answered ephemerally."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.render import messages, modals
from bot.service import NotFoundError, TicketService
from bot.service.use_cases import Actor
from handlers.errors import internal_error_message, user_message

STATUS = re.compile(r"^status\s+#?(\d{1,9})\s*$", re.IGNORECASE)
STATUS_WORD = re.compile(r"^status(\s|$)", re.IGNORECASE)


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
                    ack(text="Usage: `/ticket status <id>`, for example `/ticket status 42`.")
                    return
                view, timeline = service.status(actor, int(match.group(1)))
                ack(**_ephemeral(messages.status(view, timeline)))
            else:
                ticket_id = service.open_ticket(actor, title=text, origin_channel=channel)
                ack(
                    text=f"Ticket #{ticket_id} created. Follow it in the thread of the "
                    "“received” message; we'll keep you posted there and by email."
                )
        except NotFoundError as e:
            ack(text=e.message)
        except Exception as e:
            ack(text=user_message(e) or internal_error_message(e))


def _ephemeral(msg: Any) -> dict[str, Any]:
    return {"text": msg.text, "blocks": msg.blocks, "response_type": "ephemeral"}
