from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import alerts, ids
from bot.messages import chat as messages
from bot.messages.alerts import StormLine
from bot.messages.escape import TRUNCATION_MARKER
from bot.messages.view import MonitoringView, OnsiteView, SlackMessage, TicketView
from bot.slack import card
from bot.teams.cards import WEBHOOK_NOTE, webhook_envelope
from bot.teams.from_blocks import from_slack
from tests.messages.factories import DANA, EMAIL_ONLY, LEE, MIA, NOW, SAM, entry, make_view
from tests.teams.validator import strings, validate_card, walk

NAMES = {p.slack_id or "": p.name for p in (DANA, SAM, LEE, MIA)}
LONG = "y" * 40_000
_LINK = re.compile(r"\]\(|\]\[|\]:")


def every_message(view: TicketView, text: str = "a message") -> list[SlackMessage]:
    """Every message messages.py and alerts.py send, for `view`, with `text` as the user's text."""
    v = replace(view, onsite=view.onsite or OnsiteView(who=LEE, eta="20 min", note=text))
    storm = [StormLine(i, "critical", text, text) for i in range(700)]
    return [
        messages.received(v),
        messages.assigned(v),
        messages.assignee_dm(v, MIA),
        messages.reassigned_dm(v, MIA),
        messages.manager_critical_dm(v),
        messages.unknown_client_dm(v),
        messages.critical_ping(v, "<!here>"),
        messages.mirrored(SAM, "technician", text),
        messages.help_request(v, SAM),
        messages.helper_added(v, LEE),
        messages.onsite(v),
        messages.onsite_dm(v, MIA),
        messages.awaiting_confirmation(v),
        messages.confirmation_recorded(v, DANA),
        messages.reopened(v, DANA, text),
        messages.closed(v, DANA, [SAM, LEE, DANA, EMAIL_ONLY]),
        messages.priority_changed(v, "low", SAM),
        messages.started(v, SAM),
        messages.status(v, [entry(i, text, "update", text) for i in range(300)]),
        messages.ticket_list([v, make_view(id=13)] * 200),
        messages.help_text(),
        messages.not_an_update(v.id),
        messages.refused(text),
        alerts.received(v, previous=3),
        alerts.joined(v, [text] * 50, [text] * 50),
        alerts.partly_recovered(v, [text] * 50, 2),
        alerts.recovered(v, NOW),
        alerts.verify_dm(v, NOW),
        alerts.unknown_client_dm(v, {"k": text}),
        alerts.storm_summary(storm, 700, NOW, "<!channel>"),
        alerts.storm_dm(700, NOW),
        card.ticket_card(v, mention="<!here>"),
    ]


HOSTILE = make_view(
    title="Printer <!channel> & @here <at>Technicians</at> [x](https://e.vil)",
    description="<!everyone> broke ![i](https://e.vil/i.png)",
    state="awaiting_confirmation",
    assignee=SAM,
    helpers=(LEE,),
    resolution_note="Tested <!channel> & fine",
    monitoring=MonitoringView(3, NOW, 1, 2),
    source="monitoring",
    source_link="https://alerts.example/1",
)
HUGE = make_view(
    title=LONG,
    description=LONG,
    client_name=LONG,
    state="awaiting_confirmation",
    assignee=SAM,
    resolution_note=LONG,
    onsite=OnsiteView(who=LEE, eta=LONG, note=LONG),
)


def _actions(message_card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n
        for n in walk(message_card)
        if isinstance(n, dict) and str(n.get("type", "")).startswith("Action.")
    ]


@pytest.mark.parametrize("message", every_message(HOSTILE, "&lt;at&gt;x&lt;/at&gt; <!here>"))
def test_every_message_translates_to_a_valid_card(message: SlackMessage) -> None:
    teams = from_slack(message, NAMES)
    validate_card(teams.card)
    assert teams.entities == []
    assert not any(_LINK.search(s) for s in strings(teams.card))
    assert "<!" not in teams.text and "<@" not in teams.text


@pytest.mark.parametrize("message", every_message(HUGE, LONG))
def test_huge_messages_fit_and_show_the_truncation(message: SlackMessage) -> None:
    teams = from_slack(message, NAMES)
    validate_card(teams.card)
    assert len(teams.text) <= 1000


def test_huge_description_is_visibly_truncated() -> None:
    teams = from_slack(messages.assignee_dm(HUGE, MIA), NAMES)
    assert any(TRUNCATION_MARKER in s for s in strings(teams.card))


def test_mirrored_message_names_people_and_drops_broadcasts() -> None:
    teams = from_slack(
        messages.mirrored(SAM, "technician", "<!here> ask <@U0TECH0002> or <@U0ELSE0001>"),
        NAMES,
    )
    (block,) = teams.card["body"]
    assert block["text"] == "**Sam Tech** (technician): @\u200bhere ask Lee Tech or someone"


def test_header_fields_context_and_divider() -> None:
    teams = from_slack(messages.status(make_view(), [entry(5, "Sam", "update", "hi")]), NAMES)
    body = teams.card["body"]
    assert body[0]["type"] == "TextBlock" and body[0]["weight"] == "Bolder"
    assert body[0]["text"] == "#12 Internet down at HQ"
    facts = {f["title"]: f["value"] for f in body[1]["facts"]}
    assert facts["Priority"] == "🔴 Critical"
    assert facts["Assignee"] == "Unassigned"
    timeline = [b for b in body if b.get("separator")]
    assert timeline and timeline[0]["text"] == "**Timeline**"
    assert "Sam · update: hi" in body[-1]["text"]


def test_confirm_buttons_and_still_broken_dialog() -> None:
    teams = from_slack(
        messages.awaiting_confirmation(make_view(state="awaiting_confirmation")), NAMES
    )
    confirm, still = _actions(teams.card)
    assert confirm == {
        "type": "Action.Execute",
        "title": "Confirm fixed",
        "verb": ids.CONFIRM,
        "data": {"ticket": 12, "value": "12"},
        "associatedInputs": "none",
        "style": "positive",
    }
    assert still["type"] == "Action.Submit"
    assert still["data"] == {
        "msteams": {"type": "task/fetch"},
        "verb": ids.STILL_BROKEN,
        "ticket": 12,
    }
    assert still["style"] == "destructive"


def test_help_request_offers_help() -> None:
    teams = from_slack(messages.help_request(make_view(), SAM), NAMES)
    (offer,) = _actions(teams.card)
    assert offer["verb"] == ids.OFFER_HELP
    assert offer["data"] == {"ticket": 12, "value": "12"}


def test_slack_ticket_card_select_becomes_a_choice_and_forms_open_dialogs() -> None:
    teams = from_slack(card.ticket_card(make_view(priority="low")), NAMES)
    dialogs = {
        a["data"]["verb"]
        for a in _actions(teams.card)
        if a["type"] == "Action.Submit" and a["data"]["msteams"] == {"type": "task/fetch"}
    }
    assert dialogs == {ids.ASSIGN, ids.DISPATCH, ids.RESOLVE}
    picker = next(a for a in _actions(teams.card) if a["type"] == "Action.ShowCard")
    choice_set = picker["card"]["body"][0]
    assert choice_set["value"] == "low"
    assert picker["card"]["actions"][0]["verb"] == ids.SET_PRIORITY


def test_image_blocks_keep_https_images_only() -> None:
    message = SlackMessage(
        "x",
        [
            {"type": "image", "image_url": "https://img.example/a.png", "alt_text": "graph"},
            {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "bad"},
        ],
    )
    body = from_slack(message, NAMES).card["body"]
    assert body[0] == {"type": "Image", "url": "https://img.example/a.png", "altText": "graph"}
    assert body[1]["type"] == "TextBlock" and body[1]["text"] == "bad"


def test_empty_message_still_has_a_body() -> None:
    teams = from_slack(SlackMessage("just text"), NAMES)
    validate_card(teams.card)
    assert teams.card["body"][0]["text"] == "just text"


_USER_TEXT = st.lists(
    st.one_of(
        st.sampled_from(list("<>|&;!@#^*_~[]()$:{}/ \n")),
        st.sampled_from(["<at>", "</at>", "](", "https://e.vil", "<!here>", "<@U0TECH0001>"]),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=_USER_TEXT, description=_USER_TEXT, update=_USER_TEXT)
def test_user_text_never_mentions_or_links(title: str, description: str, update: str) -> None:
    view = make_view(title=title, description=description, resolution_note=update)
    for message in (
        messages.received(view),
        messages.mirrored(SAM, "technician", update),
        messages.assignee_dm(view, MIA),
        messages.reopened(view, DANA, update),
        messages.awaiting_confirmation(view),
        alerts.joined(view, [title], [description]),
    ):
        teams = from_slack(message, NAMES)
        validate_card(teams.card)  # no entity, and no <at> tag an entity could bind
        texts = [*strings(teams.card), teams.text]
        assert "msteams" not in teams.card and teams.entities == []
        assert not any(re.search(r"<at>", s, re.IGNORECASE) for s in texts)
        # No markdown link or image at all (ours show their address), so none from user text.
        assert not any(_LINK.search(s) for s in texts)
        assert not any(re.search(r"<(?:https?|mailto):", s) for s in texts)


def test_client_webhook_gets_the_confirmation_without_buttons() -> None:
    view = make_view(state="awaiting_confirmation", resolution_note="ISP fixed it")
    envelope = webhook_envelope(from_slack(messages.awaiting_confirmation(view), NAMES))
    content = envelope["attachments"][0]["content"]  # type: ignore[index]
    validate_card(content)
    assert _actions(content) == []
    texts = strings(content)
    assert any("ISP fixed it" in s for s in texts)
    assert WEBHOOK_NOTE in texts
