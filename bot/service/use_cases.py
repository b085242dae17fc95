"""TicketService: every use-case, one transaction each (ticket + timeline + outbox), never chat
I/O; composed of the concepts' use-cases, which share one unit of work."""

from __future__ import annotations

from bot.service.conversation import Conversation
from bot.service.lifecycle import Lifecycle
from bot.service.queries import Queries


class TicketService(Lifecycle, Conversation, Queries):
    """The use-cases. Handlers parse a payload and call exactly one method."""
