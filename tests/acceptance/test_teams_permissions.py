"""Who may click what on Teams cards and dialogs: each illegal click is answered to the clicker
only and changes nothing (the ticket, its timeline and what anyone else sees)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.messages import ids
from bot.sandbox.stack import Stack
from bot.sandbox.teams.records import TeamsUser
from storage.models import Ticket, TicketEvent
from tests.acceptance.helpers import ticket
from tests.acceptance.teams_helpers import cast, post, say, teams_card

WHO = ("manager", "assignee", "technician", "submitter", "contact", "outsider")
STAFF = {"manager", "assignee", "technician"}

# (action, who may) on a ticket assigned to Tom — the same rules as Slack's (bot/domain/tickets.py).
TABLE: list[tuple[str, set[str]]] = [
    (ids.ASSIGN, {"manager"}),
    (ids.START, {"manager", "assignee"}),
    (ids.MAKE_CRITICAL, STAFF),
    (ids.REQUEST_HELP, STAFF),
    (ids.DISPATCH, STAFF),
    (ids.RESOLVE, {"manager", "assignee"}),
]
# On a ticket awaiting confirmation, in the client's chat.
CONFIRMING: list[tuple[str, set[str]]] = [
    (ids.CONFIRM, {"submitter", "contact", "manager"}),
    (ids.STILL_BROKEN, {"submitter", "contact", "manager"}),
]
DIALOGS = {ids.ASSIGN, ids.RESOLVE, ids.DISPATCH, ids.STILL_BROKEN}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('teams-permissions') / 'ticketbot.db'}"
    with Stack(database_url=url, slack=False, teams=True, teams_technicians=True) as s:
        yield s


def _person(stack: Stack, who: str) -> TeamsUser:
    tc = cast(stack)
    return {
        "manager": tc.manager,
        "assignee": tc.tech1,
        "technician": tc.tech2,
        "submitter": tc.employee,
        "contact": tc.contact,
        "outsider": tc.outsider,
    }[who]


def _assigned_ticket(stack: Stack, *, resolved: bool = False) -> int:
    """A new ticket of Erin's, assigned to Tom by Maya (and resolved by Tom)."""
    tc = cast(stack)
    assert stack.teams is not None
    acts = stack.teams.activities
    say(stack, tc.employee, "ticket Scanner offline")
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        ticket_id = int(s.scalar(select(func.max(Ticket.id))) or 0)
    where = acts.channel(tc.tech_channel, teams_card(stack, ticket_id).id)
    tom = f"teams:{tc.tech1.aad_object_id}"
    form = {"verb": ids.VIEW_ASSIGN, "ticket": ticket_id, "assignee": tom}
    post(stack, acts.task_submit(tc.manager, where, form))
    if resolved:
        form = {"verb": ids.VIEW_RESOLVE, "ticket": ticket_id, "verification": "tested"}
        post(stack, acts.task_submit(tc.tech1, where, form))
    stack.wait_delivered()
    assert ticket(stack, ticket_id).state == ("awaiting_confirmation" if resolved else "assigned")
    return ticket_id


def _events(stack: Stack, ticket_id: int) -> int:
    with stack.rt.sessions() as s:
        return int(s.scalar(select(func.count()).where(TicketEvent.ticket_id == ticket_id)) or 0)


def _click(
    stack: Stack, user: TeamsUser, action: str, ticket_id: int, *, in_client_chat: bool = False
) -> dict[str, Any]:
    """The click as Teams delivers it: on the card in the technician channel, or (confirming)
    on the message in the clicker's own chat."""
    assert stack.teams is not None
    acts = stack.teams.activities
    card = teams_card(stack, ticket_id)
    where = acts.channel(cast(stack).tech_channel, card.id)
    if in_client_chat:
        where = acts.personal(user)
    if action in DIALOGS:
        body = post(stack, acts.task_fetch(user, where, {"verb": action, "ticket": ticket_id}))
        return {"allowed": body["task"]["type"] == "continue", "body": body}
    version = ticket(stack, ticket_id).version
    body = post(stack, acts.card_action(user, where, action, {"ticket": ticket_id}, card.id))
    return {"allowed": ticket(stack, ticket_id).version != version, "body": body}


@pytest.mark.parametrize(("action", "allowed"), TABLE, ids=[a for a, _ in TABLE])
@pytest.mark.parametrize("who", WHO)
def test_teams_card_click_permissions(
    stack: Stack, action: str, allowed: set[str], who: str
) -> None:
    _check(stack, _assigned_ticket(stack), action, allowed, who)


@pytest.mark.parametrize(("action", "allowed"), CONFIRMING, ids=[a for a, _ in CONFIRMING])
@pytest.mark.parametrize("who", WHO)
def test_teams_confirmation_permissions(
    stack: Stack, action: str, allowed: set[str], who: str
) -> None:
    _check(stack, _assigned_ticket(stack, resolved=True), action, allowed, who, client=True)


def _check(
    stack: Stack, ticket_id: int, action: str, allowed: set[str], who: str, client: bool = False
) -> None:
    before = (ticket(stack, ticket_id).version, _events(stack, ticket_id))
    outcome = _click(stack, _person(stack, who), action, ticket_id, in_client_chat=client)
    assert outcome["allowed"] == (who in allowed), outcome["body"]
    stack.wait_delivered()
    if who not in allowed:
        assert (ticket(stack, ticket_id).version, _events(stack, ticket_id)) == before
        assert f"#{ticket_id}" in str(outcome["body"])
