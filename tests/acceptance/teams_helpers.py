"""Reading what Teams conversations and the Workflows listener show, for the acceptance tests."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.sandbox.stack import Stack, TeamsCast
from bot.sandbox.teams import adaptive_text
from bot.sandbox.teams.records import PostedActivity, TeamsUser
from storage.models import ChatMessage


def cast(stack: Stack) -> TeamsCast:
    assert stack.teams_cast is not None, "the stack runs without Teams"
    return stack.teams_cast


def post(stack: Stack, activity: dict[str, Any]) -> Any:
    """Deliver an activity; assert Teams would see success; the (parsed) response body."""
    status, body = stack.teams_post(activity)
    assert status == 200, f"bot answered {status}: {body}"
    return body


def say(stack: Stack, user: TeamsUser, text: str) -> None:
    """`user` types `text` in their 1:1 chat with the bot."""
    assert stack.teams is not None
    post(stack, stack.teams.activities.personal_message(user, text))


def shown(posted: PostedActivity | list[PostedActivity]) -> str:
    """Everything a message shows (text and cards), for `in` checks."""
    items = posted if isinstance(posted, list) else [posted]
    return json.dumps([[p.text, p.cards] for p in items], ensure_ascii=False)


def chat(stack: Stack, user: TeamsUser) -> list[PostedActivity]:
    assert stack.teams is not None
    return stack.teams.chat_with(user)


def recorded(stack: Stack, ticket_id: int, role: str, surface: str = "teams") -> ChatMessage:
    with stack.rt.sessions() as s:
        row = s.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.ticket_id == ticket_id,
                ChatMessage.role == role,
                ChatMessage.surface == surface,
            )
            .order_by(ChatMessage.id.desc())
        ).first()
    assert row is not None, f"no Teams {role} recorded for #{ticket_id}"
    return row


def teams_card(stack: Stack, ticket_id: int) -> PostedActivity:
    """The ticket's card in the Teams technician channel, as it reads now."""
    assert stack.teams is not None
    return stack.teams.activity(recorded(stack, ticket_id, "card").ts)


def actions(posted: PostedActivity) -> list[dict[str, Any]]:
    """Every action on the message's cards (in ActionSets and ShowCards too)."""
    return adaptive_text.actions(posted.cards)


def verbs(posted: PostedActivity) -> set[str]:
    """Action.Execute verbs, and the verbs of the buttons that open dialogs."""
    out = set()
    for action in actions(posted):
        if action.get("verb"):
            out.add(str(action["verb"]))
        data = action.get("data")
        if isinstance(data, dict) and data.get("verb"):
            out.add(str(data["verb"]))
    return out


def assert_every_card_valid(stack: Stack, *answers: Any) -> int:
    """Every card the bot posted (each version) and every dialog it answered validates against
    the Adaptive Card 1.5 schema, within the size budget; returns how many were checked."""
    from tests.teams.validator import validate_card

    assert stack.teams is not None
    checked = 0
    for posted in stack.teams.posted():
        for activity in [*posted.versions, posted.activity]:
            for attachment in activity.get("attachments") or []:
                card = attachment.get("content") or {}
                entities = (card.get("msteams") or {}).get("entities") or []
                validate_card(card, mentions=len(entities))
                checked += 1
    for answer in answers:
        if (answer or {}).get("type") == "application/vnd.microsoft.card.adaptive":
            validate_card(answer["value"])  # a card click's refreshed card
            checked += 1
        card = ((answer or {}).get("task") or {}).get("value") or {}
        if isinstance(card, dict) and "card" in card:  # a dialog
            validate_card(card["card"]["content"])
            checked += 1
    return checked
