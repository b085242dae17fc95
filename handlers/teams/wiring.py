"""What every Teams listener is given besides the service, and what they all do with it: find the
person behind an activity and remember the conversation for later posts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from bot.home.reader import HomeReader
from bot.people.identity import TeamsUser
from bot.service.actor import Actor
from bot.service.use_cases import TicketService
from bot.teams.conversations import ConversationRef, TeamsConversations
from bot.telemetry.logs import about_ticket
from handlers.teams.activity import Incoming

_R = TypeVar("_R")

# Roster lookup: (service URL, conversation id, user id 29:…) → the user, None when unknown.
Roster = Callable[[str, str, str], TeamsUser | None]


@dataclass(frozen=True)
class TeamsWiring:
    """What the listeners need besides the service."""

    conversations: TeamsConversations
    roster: Roster
    tech_channel: str | None  # the Teams technician channel's conversation id
    on_members_changed: Callable[[list[TeamsUser], list[TeamsUser]], None] | None = None
    home: HomeReader | None = None  # answers "home" / "dashboard" with the person's App Home


def actor(incoming: Incoming, service: TicketService, wiring: TeamsWiring) -> Actor:
    """The person behind the activity, their profile read from the roster when due."""
    remember(incoming, wiring)
    key = incoming.actor_key
    profile = None
    if not service.directory.is_fresh(key):
        profile = wiring.roster(incoming.service_url, incoming.conversation, incoming.user_id)
        if profile is None:
            profile = TeamsUser(
                incoming.aad_id,
                incoming.user_id,
                incoming.name,
                None,
                incoming.tenant,
                from_roster=False,
            )
    return Actor(key, surface="teams", profile=profile)


def remember(incoming: Incoming, wiring: TeamsWiring) -> None:
    """Keep the activity's conversation, so that the bot can post there later."""
    if not incoming.service_url:
        return
    wiring.conversations.remember(
        ConversationRef(
            id=incoming.conversation,
            service_url=incoming.service_url,
            tenant_id=incoming.tenant,
            kind=incoming.kind,
            team_id=incoming.team_id,
            user_aad_id=incoming.aad_id if incoming.kind == "personal" else None,
        )
    )


async def on_pool(ticket_id: int | None, fn: Callable[..., _R], *args: Any) -> _R:
    """`fn(*args)` on a pool thread (it does database work), its log lines about `ticket_id`."""
    return await run_in_threadpool(_about, ticket_id, fn, *args)


def _about(ticket_id: int | None, fn: Callable[..., _R], *args: Any) -> _R:
    with about_ticket(ticket_id):
        return fn(*args)
