"""Conversation updates: every one is a conversation to remember; in the technicians' team, who
joined or left keeps the technicians current."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.people.identity import TeamsUser
from bot.teams.conversations import split_thread
from handlers.teams.activity import Incoming, dump, parse
from handlers.teams.wiring import TeamsWiring, remember


def register(app: Any, wiring: TeamsWiring) -> None:
    async def handle_teams_conversation_update(ctx: Any) -> None:
        activity = dump(ctx.activity)
        incoming = parse(activity)
        if incoming is None:
            return
        await run_in_threadpool(_conversation_update, wiring, incoming, activity)

    app.on_conversation_update(handle_teams_conversation_update)


def _conversation_update(wiring: TeamsWiring, incoming: Incoming, activity: dict[str, Any]) -> None:
    remember(incoming, wiring)
    hook = wiring.on_members_changed
    if hook is None or not _in_tech_team(wiring, incoming):
        return
    added = [_member(wiring, incoming, m) for m in activity.get("membersAdded") or []]
    removed = [_member(wiring, incoming, m) for m in activity.get("membersRemoved") or []]
    hook([u for u in added if u], [u for u in removed if u])


def _in_tech_team(wiring: TeamsWiring, incoming: Incoming) -> bool:
    """The activity is about the team of the Teams technician channel."""
    tech = wiring.tech_channel
    if tech is None:
        return False
    if incoming.conversation == split_thread(tech)[0]:
        return True
    ref = wiring.conversations.get(tech)
    return incoming.team_id is not None and ref is not None and ref.team_id == incoming.team_id


def _member(wiring: TeamsWiring, incoming: Incoming, member: object) -> TeamsUser | None:
    if not isinstance(member, dict) or not member.get("id"):
        return None
    user_id = str(member["id"])
    if user_id.startswith("28:"):  # a bot (ours, when it is installed)
        return None
    found = wiring.roster(incoming.service_url, incoming.conversation, user_id)
    if found is not None:
        return found
    aad = str(member.get("aadObjectId") or "").lower()
    name = str(member.get("name") or "Teams user")
    return TeamsUser(aad, user_id, name, None, incoming.tenant, from_roster=False) if aad else None
