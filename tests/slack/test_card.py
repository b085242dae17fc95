from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.messages import ids
from bot.messages.blocks import age
from bot.messages.facts import UNKNOWN_CLIENT
from bot.messages.view import PRIORITIES, STATE_LABELS, OnsiteView, PersonRef
from bot.slack.card import ticket_card
from tests.messages.factories import DANA, EMAIL_ONLY, LEE, NOW, SAM, make_view
from tests.slack.validator import assert_no_pings, validate_message

STATES = tuple(STATE_LABELS)


def _fields(blocks: list[dict[str, Any]]) -> dict[str, str]:
    block = next(b for b in blocks if b.get("block_id", "").endswith("-fields"))
    return dict(f["text"].split("\n", 1) for f in block["fields"])


def _action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    found = [b for b in blocks if b["type"] == "actions"]
    return [el["action_id"] for el in found[0]["elements"]] if found else []


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("priority", PRIORITIES)
def test_card_is_valid_for_every_state_and_priority(state: str, priority: str) -> None:
    assignee = None if state == "new" else SAM
    view = make_view(state=state, priority=priority, assignee=assignee, resolution_note="ok")
    card = ticket_card(view)
    validate_message(card)
    assert_no_pings(card.blocks)
    fields = _fields(card.blocks)
    assert fields["*State*"] == STATE_LABELS[state]
    assert priority.capitalize() in fields["*Priority*"]
    action_ids = _action_ids(card.blocks)
    if state in ("closed", "cancelled"):
        assert action_ids == []
        assert card.blocks[-1]["type"] == "context"
    else:
        expected = set(ids.CARD_ACTIONS) - (
            {ids.MAKE_CRITICAL} if priority == "critical" else set()
        )
        assert set(action_ids) == expected


def test_card_header_fields_and_fallback_text() -> None:
    card = ticket_card(make_view())
    assert card.blocks[0] == {
        "type": "header",
        "block_id": "card-12-v1-header",
        "text": {"type": "plain_text", "text": "#12 Internet down at HQ", "emoji": True},
    }
    assert _fields(card.blocks) == {
        "*Priority*": "🔴 Critical",
        "*State*": "New",
        "*Client*": "Northwind Dental",
        "*Submitter*": "<@U0REQ00001>",
        "*Assignee*": "Unassigned",
        "*Helpers*": "—",
        "*Age*": "12 min",
        "*Affected*": "A department or team (10–50)",
    }
    assert card.text == "🔴 #12 Internet down at HQ — critical, new"


def test_card_buttons_carry_the_ticket_id() -> None:
    new = ticket_card(make_view(priority="medium"))
    assert _action_ids(new.blocks) == [
        ids.ASSIGN, ids.START, ids.MAKE_CRITICAL, ids.SET_PRIORITY, ids.REQUEST_HELP,
        ids.DISPATCH, ids.RESOLVE, ids.VIEW_TICKET,
    ]  # fmt: skip
    assigned = ticket_card(make_view(priority="medium", state="assigned", assignee=SAM))
    elements = next(b for b in assigned.blocks if b["type"] == "actions")["elements"]
    buttons = {el["action_id"]: el for el in elements if el["type"] == "button"}
    assert {b["value"] for b in buttons.values()} == {"12"}
    assert buttons[ids.ASSIGN]["text"]["text"] == "Reassign"
    assert buttons[ids.RESOLVE]["style"] == "primary"
    select = next(el for el in elements if el["type"] == "static_select")
    assert [o["value"] for o in select["options"]] == list(PRIORITIES)
    assert select["initial_option"]["value"] == "medium"


def test_card_critical_has_no_make_critical_button() -> None:
    assert ids.MAKE_CRITICAL not in _action_ids(ticket_card(make_view()).blocks)


def test_card_awaiting_confirmation_shows_the_note() -> None:
    view = make_view(state="awaiting_confirmation", assignee=SAM, resolution_note="ISP <ok>")
    card = ticket_card(view)
    texts = [b["text"]["text"] for b in card.blocks if b["type"] == "section" and "text" in b]
    assert any("ISP &lt;ok&gt;" in t for t in texts)


def test_card_block_ids_change_with_version_and_action_ids_do_not() -> None:
    v1 = ticket_card(make_view(version=1, state="assigned", assignee=SAM))
    v2 = ticket_card(make_view(version=2, state="assigned", assignee=SAM))
    ids1 = {b["block_id"] for b in v1.blocks}
    ids2 = {b["block_id"] for b in v2.blocks}
    assert ids1.isdisjoint(ids2)
    assert all("-v2-" in b for b in ids2)
    assert _action_ids(v1.blocks) == _action_ids(v2.blocks)


def test_card_escapes_user_text_everywhere() -> None:
    view = make_view(
        title="<!channel> & @here",
        description="<!everyone> <@U999> @channel & <https://evil|x>",
        client_name="<!here> Corp",
        submitter=PersonRef("<!channel>", None, "a@b.example"),
        helpers=(PersonRef("@everyone"),),
    )
    card = ticket_card(view)
    validate_message(card)
    assert_no_pings(card.blocks)
    assert_no_pings(card.text)
    assert "&lt;@U999&gt;" in str(card.blocks)


def test_card_mention_goes_first_in_text_and_blocks() -> None:
    card = ticket_card(make_view(), mention="<!subteam^S0TECHGRP1>")
    assert card.text.startswith("<!subteam^S0TECHGRP1> 🔴 #12")
    assert card.blocks[0]["text"]["text"].startswith("<!subteam^S0TECHGRP1>")
    assert card.blocks[0]["block_id"] == "card-12-v1-mention"
    validate_message(card)


def test_card_rejects_a_mention_that_is_not_slack_syntax() -> None:
    with pytest.raises(ValueError):
        ticket_card(make_view(), mention="here <script>")


def test_card_flags_an_unknown_client() -> None:
    fields = _fields(ticket_card(make_view(client_name=None, client_unknown=True)).blocks)
    assert fields["*Client*"] == UNKNOWN_CLIENT


def test_card_people_without_slack_ids_are_named() -> None:
    view = make_view(submitter=EMAIL_ONLY, assignee=LEE, helpers=(SAM, DANA))
    fields = _fields(ticket_card(view).blocks)
    assert fields["*Submitter*"] == "Pat Contact (pat@northwind.example)"
    assert fields["*Assignee*"] == "<@U0TECH0002>"
    assert fields["*Helpers*"] == "<@U0TECH0001>, <@U0REQ00001>"


def test_card_monitoring_source_links_the_alert() -> None:
    view = make_view(source="monitoring", source_link="https://grafana.example/d?a=1&b=2")
    card = ticket_card(view)
    source = next(b for b in card.blocks if b.get("block_id", "").endswith("-source"))
    assert source["elements"][0]["text"] == (
        "📟 Raised by monitoring · <https://grafana.example/d?a=1&amp;b=2|alert source>"
    )


def test_card_monitoring_source_ignores_a_non_http_link() -> None:
    card = ticket_card(make_view(source="monitoring", source_link="javascript:alert(1)|x"))
    source = next(b for b in card.blocks if b.get("block_id", "").endswith("-source"))
    assert source["elements"][0]["text"] == "📟 Raised by monitoring · alert source"


def test_card_onsite_line() -> None:
    onsite = OnsiteView(who=LEE, eta="30 min", note="Bring a <spare> router")
    card = ticket_card(make_view(state="in_progress", assignee=SAM, onsite=onsite))
    block = next(b for b in card.blocks if b.get("block_id", "").endswith("-onsite"))
    assert block["text"]["text"] == (
        "🚗 *Onsite:* <@U0TECH0002> is on the way, ETA 30 min\nBring a &lt;spare&gt; router"
    )


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "< 1 min"), (-5, "< 1 min"), (12, "12 min"), (60, "1 h"), (185, "3 h 5 min"),
     (24 * 60, "1 d"), (52 * 60 + 7, "2 d 4 h")],
)  # fmt: skip
def test_age_formats(minutes: int, expected: str) -> None:
    assert age(NOW - timedelta(minutes=minutes), NOW) == expected


def test_card_says_how_monitoring_found_the_client_escaped() -> None:
    view = make_view(client_match="matched URL https://shop.acme.test/<!here>&x")
    fields = _fields(ticket_card(view).blocks)
    assert fields["*Client*"] == (
        "Northwind Dental (matched URL https://shop.acme.test/&lt;!here&gt;&amp;x)"
    )
