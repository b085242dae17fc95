from __future__ import annotations

from datetime import timedelta

import pytest

from bot.messages import chat as messages
from bot.messages import email, limits
from bot.messages.view import OnsiteView, PersonRef, SlackMessage, TicketView, TimelineEntry
from bot.slack import card, modals
from tests.messages.factories import DANA, NOW, SAM, make_view
from tests.slack.validator import assert_no_pings, validate_message, validate_view

HUGE_TITLE = "<!channel> @here " + "T" * 10_000
HUGE_TEXT = ("<!channel> @everyone & <@U123> <https://x|y> " * 2_500)[:100_000]
HELPERS = tuple(PersonRef(f"Helper {i} " + "h" * 80, f"U{i:08d}") for i in range(200))
TECHNICIANS = [(PersonRef(f"Tech {i} " + "t" * 200, f"W{i:08d}"), i % 17) for i in range(300)]
GIANT = PersonRef("<!here> " + "N" * 5_000, None, "e" * 3_000 + "@example.com")


def huge_view(state: str) -> TicketView:
    return make_view(
        id=2**53,
        title=HUGE_TITLE,
        description=HUGE_TEXT,
        state=state,
        submitter=GIANT,
        assignee=SAM if state != "new" else None,
        helpers=HELPERS,
        client_name=HUGE_TEXT,
        affected="x" * 5_000,
        source="monitoring",
        source_link="https://alerts.example/" + "p" * 5_000,
        onsite=OnsiteView(who=GIANT, eta=HUGE_TEXT, note=HUGE_TEXT),
        resolution_note=HUGE_TEXT,
        version=10**9,
        priority="weird<!channel>" if state == "cancelled" else "critical",
    )


STATES = ("new", "assigned", "in_progress", "awaiting_confirmation", "closed", "cancelled")


def huge_messages(state: str) -> list[SlackMessage]:
    v = huge_view(state)
    timeline = [
        TimelineEntry(NOW - timedelta(minutes=i), HUGE_TITLE, "update", HUGE_TEXT)
        for i in range(300)
    ]
    return [
        card.ticket_card(v),
        card.ticket_card(v, mention="<!subteam^S0TECHGRP1>"),
        messages.received(v),
        messages.assigned(v),
        messages.assignee_dm(v, GIANT),
        messages.manager_critical_dm(v),
        messages.unknown_client_dm(v),
        messages.critical_ping(v, "<!here>"),
        messages.mirrored(GIANT, HUGE_TITLE, HUGE_TEXT),
        messages.help_request(v, GIANT),
        messages.helper_added(v, GIANT),
        messages.onsite(v),
        messages.awaiting_confirmation(v),
        messages.confirmation_recorded(v, GIANT),
        messages.reopened(v, GIANT, HUGE_TEXT),
        messages.closed(v, GIANT, [*HELPERS, GIANT]),
        messages.priority_changed(v, HUGE_TITLE, GIANT),
        messages.started(v, GIANT),
        messages.status(v, timeline, include_internal=True),
        messages.ticket_list([v] * 500),
        messages.refused(HUGE_TEXT),
    ]


@pytest.mark.parametrize("state", STATES)
def test_huge_inputs_stay_within_every_message_limit(state: str) -> None:
    for index, message in enumerate(huge_messages(state)):
        try:
            validate_message(message)
        except AssertionError as error:
            raise AssertionError(f"message #{index}: {error}") from error
        pings = [b for b in message.blocks if "mention" not in str(b.get("block_id", ""))]
        if index not in (1, 7):  # the card with a group mention, and critical_ping
            assert_no_pings(pings)


def test_huge_card_truncates_visibly() -> None:
    message = card.ticket_card(huge_view("in_progress"))
    description = next(b for b in message.blocks if b["block_id"].endswith("-description"))
    assert description["text"]["text"].endswith("… (truncated)")
    helpers = next(b for b in message.blocks if b["block_id"].endswith("-fields"))["fields"][5]
    assert helpers["text"].endswith("more")
    assert message.blocks[-1]["type"] == "actions"


@pytest.mark.parametrize("state", STATES)
def test_huge_inputs_stay_within_every_modal_limit(state: str) -> None:
    v = huge_view(state)
    metadata = "m" * 3000
    for modal in (
        modals.create_ticket_modal(metadata, initial_title=HUGE_TITLE),
        modals.assign_modal(v, TECHNICIANS, metadata),
        modals.dispatch_modal(v, TECHNICIANS, metadata),
        modals.resolve_modal(v, metadata),
        modals.still_broken_modal(v, metadata),
    ):
        validate_view(modal)
        assert_no_pings(modal["blocks"])


def test_huge_emails_have_one_line_subjects() -> None:
    v = huge_view("awaiting_confirmation")
    for content in (
        email.received(v),
        email.critical_alert(v),
        email.assigned(v),
        email.update(v, GIANT, HUGE_TEXT),
        email.onsite(v),
        email.awaiting_confirmation(v),
        email.reopened(v, DANA, HUGE_TEXT),
        email.closed(v, DANA),
    ):
        assert len(content.subject) <= 200
        assert "\n" not in content.subject and "\r" not in content.subject
        assert "<!channel>" not in content.html


def test_fit_blocks_keeps_short_lists() -> None:
    blocks: list[limits.Block] = [{"type": "divider"}] * 3
    assert limits.fit_blocks(blocks, 50) == blocks


def test_fit_blocks_truncates_visibly() -> None:
    blocks: list[limits.Block] = [{"type": "divider"}] * 120
    fitted = limits.fit_blocks(blocks, 50)
    assert len(fitted) == 50
    assert fitted[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "… 71 more not shown"}],
    }
