"""The SLA clock on the ticket card: Slack (`<!date>`) and Teams (`{{DATE}}`), amber and red."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.messages.sla import fallback_time, slack_line, teams_line
from bot.messages.view import SlaClock
from bot.slack.card import ticket_card
from bot.teams import cards as adaptive
from tests.messages.factories import NOW, make_view
from tests.slack.validator import assert_no_pings, validate_message
from tests.teams.validator import validate_card

DUE = datetime(2026, 1, 5, 12, 15, tzinfo=UTC)  # epoch 1767615300
BREACHED = DUE + timedelta(seconds=1)
SLACK_DUE = "<!date^1767615300^{date_short_pretty} at {time}|Mon 5 Jan 12:15 UTC>"
TEAMS_DUE = "{{DATE(2026-01-05T12:15:00Z, SHORT)}} {{TIME(2026-01-05T12:15:00Z)}}"


def test_fallback_time_is_plain_utc() -> None:
    assert fallback_time(datetime(2026, 12, 7, 8, 1, tzinfo=UTC)) == "Mon 7 Dec 08:01 UTC"


@pytest.mark.parametrize(
    ("clock", "slack", "teams"),
    [
        (
            SlaClock("response", DUE, "running"),
            f"⏱️ Response due {SLACK_DUE}",
            f"⏱️ Response due {TEAMS_DUE}",
        ),
        (
            SlaClock("resolve", DUE, "at_risk"),
            f"🟠 Resolve by {SLACK_DUE} — at risk, 75 % of the target used",
            f"🟠 Resolve by {TEAMS_DUE} — at risk, 75 % of the target used",
        ),
        (
            SlaClock("response", DUE, "breached", BREACHED),
            "🔴 *Response SLA breached* <!date^1767615301^{ago}|at Mon 5 Jan 12:15 UTC> "
            f"(was due {SLACK_DUE})",
            "🔴 **Response SLA breached** at {{DATE(2026-01-05T12:15:01Z, SHORT)}} "
            f"{{{{TIME(2026-01-05T12:15:01Z)}}}} (was due {TEAMS_DUE})",
        ),
        (
            SlaClock("resolve", DUE, "stopped"),
            f"⏸️ Resolution clock stopped while awaiting confirmation (due {SLACK_DUE})",
            f"⏸️ Resolution clock stopped while awaiting confirmation (due {TEAMS_DUE})",
        ),
    ],
)
def test_clock_lines(clock: SlaClock, slack: str, teams: str) -> None:
    assert slack_line(clock) == slack
    assert teams_line(clock) == teams


def test_slack_card_shows_the_clocks_under_the_fields() -> None:
    view = make_view(
        sla=(SlaClock("response", DUE, "at_risk"), SlaClock("resolve", DUE, "running")),
    )
    card = ticket_card(view)
    validate_message(card)
    assert_no_pings(card.blocks)
    kinds = [b["type"] for b in card.blocks]
    sla = card.blocks[kinds.index("context")]
    assert sla["block_id"] == "card-12-v1-sla"
    assert [e["text"] for e in sla["elements"]] == [
        f"🟠 Response due {SLACK_DUE} — at risk, 75 % of the target used",
        f"⏱️ Resolve by {SLACK_DUE}",
    ]
    assert card.blocks.index(sla) == kinds.index("section") + 1  # right after the fields


def test_slack_card_without_clocks_has_no_sla_block() -> None:
    card = ticket_card(make_view(state="closed"))
    assert not any(b.get("block_id", "").endswith("-sla") for b in card.blocks)


def test_teams_card_colours_amber_and_red() -> None:
    view = make_view(
        now=NOW,
        sla=(
            SlaClock("response", DUE, "breached", BREACHED),
            SlaClock("resolve", DUE, "at_risk"),
        ),
    )
    msg = adaptive.ticket_card(view)
    validate_card(msg.card)
    body: list[dict[str, object]] = msg.card["body"]  # type: ignore[assignment]
    lines = [b for b in body if "SLA" in str(b.get("text")) or "Resolve by" in str(b.get("text"))]
    assert [(b["color"], b["text"]) for b in lines] == [
        ("Attention", teams_line(view.sla[0])),
        ("Warning", f"🟠 Resolve by {TEAMS_DUE} — at risk, 75 % of the target used"),
    ]


def test_teams_card_running_clock_has_the_default_colour() -> None:
    msg = adaptive.ticket_card(make_view(sla=(SlaClock("resolve", DUE, "running"),)))
    validate_card(msg.card)
    body: list[dict[str, object]] = msg.card["body"]  # type: ignore[assignment]
    line = next(b for b in body if "Resolve by" in str(b.get("text")))
    assert "color" not in line
