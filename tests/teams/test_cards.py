from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.messages import ids
from bot.messages.escape import TRUNCATION_MARKER, ZWSP
from bot.messages.facts import UNKNOWN_CLIENT
from bot.messages.view import (
    PRIORITIES,
    STATE_LABELS,
    MonitoringView,
    OnsiteView,
    PersonRef,
    TeamsMention,
    TicketView,
)
from bot.teams import cards as adaptive
from bot.teams.limits import MAX_CARD_BYTES, card_size
from tests.messages.factories import DANA, LEE, NOW, SAM, make_view
from tests.teams.validator import strings, validate_card, walk

LONG = "x" * 40_000
CHANNEL = TeamsMention("channel", "19:abc@thread.tacv2", "Technicians")
MONITORING = MonitoringView(notifications=3, last_seen=NOW, firing=1, alerts=2)


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n
        for n in walk(card)
        if isinstance(n, dict) and str(n.get("type", "")).startswith("Action.")
    ]


def _by_title(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in _actions(card)}


def _text(card: dict[str, Any]) -> str:
    return "\n".join(strings(card))


def _views() -> list[TicketView]:
    views = []
    for state, priority, extras in itertools.product(STATE_LABELS, PRIORITIES, range(4)):
        view = make_view(state=state, priority=priority)
        if extras & 1:
            view = replace(
                view,
                assignee=SAM,
                helpers=(LEE, DANA),
                onsite=OnsiteView(who=LEE, eta="20 min", note="Open the server room"),
                resolution_note="Tested from two PCs",
            )
        if extras & 2:
            view = replace(
                view,
                source="monitoring",
                source_link="https://alerts.example/x?a=1&b=2",
                monitoring=MONITORING,
                client_unknown=True,
            )
        views.append(view)
    return views


@pytest.mark.parametrize("view", _views(), ids=lambda v: f"{v.state}-{v.priority}")
def test_every_ticket_card_is_valid(view: TicketView) -> None:
    message = adaptive.ticket_card(view)
    validate_card(message.card)
    assert message.entities == []
    assert message.card["fallbackText"] == message.text


def test_card_shows_what_slacks_card_shows() -> None:
    view = make_view(
        state="awaiting_confirmation",
        assignee=SAM,
        helpers=(LEE,),
        onsite=OnsiteView(who=LEE, eta="20 min", note="Bring a switch"),
        resolution_note="ISP confirmed",
        source="monitoring",
        source_link="https://alerts.example/1",
        monitoring=MONITORING,
        created_at=NOW - timedelta(hours=3, minutes=5),
    )
    card = adaptive.ticket_card(view).card
    facts = {
        f["title"]: f["value"]
        for n in walk(card)
        if isinstance(n, dict)
        for f in n.get("facts", [])
    }
    assert facts == {
        "Priority": "🔴 Critical",
        "State": "Awaiting confirmation",
        "Client": "Northwind Dental",
        "Submitter": "Dana Client (dana@northwind.example)",
        "Assignee": "Sam Tech",
        "Helpers": "Lee Tech",
        "Age": "3 h 5 min",
        "Affected": "A department or team (10–50)",
    }
    text = _text(card)
    assert "#12 Internet down at HQ" in text
    assert "Nobody on floor 2" in text
    assert "**Onsite:** Lee Tech is on the way, ETA 20 min" in text
    assert "Bring a switch" in text
    assert "awaiting confirmation — how it was verified" in text
    assert "ISP confirmed" in text
    assert "Raised by monitoring · alert source: https://alerts.example/1" in text
    assert "1 of 2 alert(s) firing · 3 notification(s), the last at 2026-01-05 12:00 UTC" in text


def test_unknown_client_is_flagged() -> None:
    card = adaptive.ticket_card(make_view(client_unknown=True)).card
    assert UNKNOWN_CLIENT in _text(card)


def test_buttons_route_like_slack() -> None:
    card = adaptive.ticket_card(make_view(priority="high")).card
    buttons = _by_title(card)
    assert set(buttons) == {
        "Assign",
        "Start work",
        "Make critical",
        "Priority",
        "Set priority",
        "Request help",
        "Dispatch onsite",
        "Resolve",
    }
    for title, verb in [
        ("Start work", ids.START),
        ("Make critical", ids.MAKE_CRITICAL),
        ("Request help", ids.REQUEST_HELP),
    ]:
        assert buttons[title]["type"] == "Action.Execute"
        assert buttons[title]["verb"] == verb
        assert buttons[title]["data"] == {"ticket": 12, "value": "12"}
    for title, verb in [
        ("Assign", ids.ASSIGN),
        ("Dispatch onsite", ids.DISPATCH),
        ("Resolve", ids.RESOLVE),
    ]:
        assert buttons[title]["type"] == "Action.Submit"
        assert buttons[title]["data"] == {
            "msteams": {"type": "task/fetch"},
            "verb": verb,
            "ticket": 12,
        }
    assert buttons["Make critical"]["style"] == "destructive"
    assert buttons["Resolve"]["style"] == "positive"


def test_priority_picker_explains_each_priority_and_preselects_the_current() -> None:
    card = adaptive.ticket_card(make_view(priority="high")).card
    picker = _by_title(card)["Priority"]
    assert picker["type"] == "Action.ShowCard"
    choice_set = picker["card"]["body"][0]
    assert choice_set["id"] == "value"
    assert choice_set["value"] == "high"
    assert [c["value"] for c in choice_set["choices"]] == list(PRIORITIES)
    assert "Many staff can't work" in choice_set["choices"][3]["title"]
    submit = picker["card"]["actions"][0]
    assert submit["verb"] == ids.SET_PRIORITY
    assert submit["data"] == {"ticket": 12}  # the choice joins as `value`


def test_critical_card_has_no_make_critical_and_reassign_when_assigned() -> None:
    buttons = _by_title(adaptive.ticket_card(make_view(assignee=SAM)).card)
    assert "Make critical" not in buttons
    assert "Reassign" in buttons


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_final_states_have_no_buttons(state: str) -> None:
    card = adaptive.ticket_card(make_view(state=state, resolution_note="done")).card
    assert _actions(card) == []
    assert "This card is final." in _text(card)


@pytest.mark.parametrize("kind", ["channel", "team", "tag"])
def test_critical_card_mentions_the_channel_team_or_tag(kind: str) -> None:
    mention = TeamsMention(kind, "19:abc@thread.tacv2", "Technicians")  # type: ignore[arg-type]
    card = adaptive.ticket_card(make_view(), mention=mention).card
    validate_card(card, mentions=1)
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Technicians</at>",
            "mentioned": {"id": "19:abc@thread.tacv2", "name": "Technicians", "type": kind},
        }
    ]
    assert card["body"][0]["text"].startswith("<at>Technicians</at> 🔴 **#12**")
    message = adaptive.ticket_card(make_view(), mention=mention)
    assert message.entities == card["msteams"]["entities"]
    assert message.text.startswith("<at>Technicians</at> 🔴 #12 Internet down at HQ")
    assert "<at>" not in card["fallbackText"]


def test_mention_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        adaptive.ticket_card(make_view(), mention=TeamsMention("user", "x", "y"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        adaptive.ticket_card(make_view(), mention=TeamsMention("tag", " ", "y"))


def test_user_text_next_to_a_mention_cannot_bind_to_it() -> None:
    view = make_view(
        title="<at>Technicians</at>", description="<at>Technicians</at> [x](https://e.vil)"
    )
    card = adaptive.ticket_card(view, mention=CHANNEL).card
    validate_card(card, mentions=1)
    assert "](" not in _text(card)
    assert f"<{ZWSP}at>Technicians<{ZWSP}/at>" in _text(card)


@pytest.mark.parametrize("text", [LONG, "🔥" * 40_000, "<" * 40_000, "漢" * 40_000])
def test_huge_user_text_is_truncated_visibly_and_fits(text: str) -> None:
    view = make_view(
        title=text,
        description=text,
        client_name=text,
        assignee=PersonRef(text, None, text),
        submitter=PersonRef(text, None, text),
        helpers=tuple(PersonRef(text) for _ in range(50)),
        onsite=OnsiteView(who=SAM, eta=text, note=text),
        resolution_note=text,
        state="awaiting_confirmation",
        source="monitoring",
        source_link=text,
    )
    message = adaptive.ticket_card(view, mention=CHANNEL)
    validate_card(message.card, mentions=1)
    assert card_size(message.card) <= MAX_CARD_BYTES
    assert TRUNCATION_MARKER in _text(message.card)
    assert len(message.text) <= 1000


def test_text_reply_is_escaped() -> None:
    message = adaptive.text_reply("Only managers can assign [x](https://e.vil) <at>all</at>")
    validate_card(message.card)
    assert "](" not in message.text
    assert "<at>" not in json.dumps(message.card, ensure_ascii=False)


def test_webhook_envelope_drops_buttons_and_says_how_to_answer() -> None:
    message = adaptive.ticket_card(make_view(priority="high"))
    envelope = adaptive.webhook_envelope(message)
    assert envelope["type"] == "message"
    (attachment,) = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    validate_card(card)
    assert _actions(card) == []
    assert adaptive.WEBHOOK_NOTE in _text(card)
    assert _actions(message.card)  # the original is untouched
    assert len(json.dumps(envelope)) <= 28_000


def test_webhook_envelope_of_a_card_without_buttons_adds_no_note() -> None:
    envelope = adaptive.webhook_envelope(adaptive.text_reply("Hello"))
    card = envelope["attachments"][0]["content"]
    assert adaptive.WEBHOOK_NOTE not in _text(card)


def test_person_key() -> None:
    assert PersonRef("A", "U1", "a@x", "aad").key == "U1"
    assert PersonRef("A", None, "a@x", "aad").key == "teams:aad"
    assert PersonRef("A", None, "a@x").key == "a@x"
    assert PersonRef("A").key == "A"


def test_long_description_is_cut_near_its_limit_even_after_markup() -> None:
    view = make_view(description="a < b and [c](d) " + "z" * 10_000)
    card = adaptive.ticket_card(view).card
    (description,) = [s for s in strings(card) if s.startswith("a <")]
    assert 2900 < len(description) <= 3000
    assert description.endswith(TRUNCATION_MARKER)


def test_card_says_how_monitoring_found_the_client() -> None:
    card = adaptive.ticket_card(make_view(client_match="matched host fs01.acme.test")).card
    assert "Northwind Dental (matched host fs01.acme.test)" in _text(card)
