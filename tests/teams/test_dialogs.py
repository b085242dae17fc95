from __future__ import annotations

from typing import Any

import pytest

from bot.messages import ids
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, OnsiteView, PersonRef
from bot.teams import dialogs as teams_dialogs
from bot.teams.dialogs import (
    assign_dialog,
    dialog_response,
    dispatch_dialog,
    new_ticket_dialog,
    resolve_dialog,
    still_broken_dialog,
)
from tests.messages.factories import LEE, SAM, make_view
from tests.teams.validator import strings, validate_card, walk

TEAMS_ONLY = PersonRef("Tia Teams", None, "tia@msp.example", "aad-tia")
TECHS = [(SAM, 3), (LEE, 0), (TEAMS_ONLY, 1)]


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n["id"]: n
        for n in walk(card)
        if isinstance(n, dict) and str(n.get("type", "")).startswith("Input.")
    }


def _submit(card: dict[str, Any]) -> dict[str, Any]:
    (action,) = card["actions"]
    assert action["type"] == "Action.Submit"
    return action


def test_new_ticket_dialog() -> None:
    card = new_ticket_dialog(initial_title="Printer\njammed <at>x</at>")
    validate_card(card)
    inputs = _inputs(card)
    assert list(inputs) == ["title", "description", "priority", "affected"]
    assert inputs["title"]["isRequired"] is True
    assert inputs["title"]["value"] == "Printer jammed <at>x</at>"  # an input value, not markdown
    assert inputs["description"]["isMultiline"] is True
    assert inputs["priority"]["value"] == "medium"
    assert [c["value"] for c in inputs["priority"]["choices"]] == list(PRIORITIES)
    assert "nobody is blocked" in inputs["priority"]["choices"][0]["title"]
    assert [c["value"] for c in inputs["affected"]["choices"]] == list(AFFECTED_CHOICES)
    assert _submit(card)["data"] == {"verb": ids.VIEW_CREATE}


def test_assign_dialog_shows_load_and_preselects_the_assignee() -> None:
    card = assign_dialog(make_view(assignee=LEE), TECHS)
    validate_card(card)
    choice_set = _inputs(card)["assignee"]
    assert choice_set["choices"] == [
        {"title": "Sam Tech — 3 open", "value": "U0TECH0001"},
        {"title": "Lee Tech — 0 open", "value": "U0TECH0002"},
        {"title": "Tia Teams — 1 open", "value": "teams:aad-tia"},
    ]
    assert choice_set["value"] == "U0TECH0002"
    assert _submit(card)["data"] == {"verb": ids.VIEW_ASSIGN, "ticket": 12}


def test_assign_dialog_caps_at_100_least_busy_keeping_the_current() -> None:
    many = [(PersonRef(f"Tech {i}", None, f"t{i}@msp.example"), 200 - i) for i in range(150)]
    current = many[0][0]  # the busiest
    card = assign_dialog(make_view(assignee=current), many)
    validate_card(card)
    choices = _inputs(card)["assignee"]["choices"]
    assert len(choices) == 100
    assert choices[0]["value"] == "t0@msp.example"
    assert "Showing the 100 least busy of 150 technicians." in strings(card)


def test_assign_dialog_with_huge_names_still_fits() -> None:
    many = [(PersonRef("🔥" * 500 + str(i), None, f"t{i}@x"), i) for i in range(100)]
    validate_card(assign_dialog(make_view(title="🔥" * 40_000), many))


def test_assign_dialog_without_technicians_explains() -> None:
    card = assign_dialog(make_view(), [])
    validate_card(card)
    assert "actions" not in card
    assert teams_dialogs.NO_TECHNICIANS in strings(card)


def test_dispatch_dialog() -> None:
    view = make_view(assignee=SAM, onsite=OnsiteView(who=LEE, eta="soon"))
    card = dispatch_dialog(view, TECHS)
    validate_card(card)
    inputs = _inputs(card)
    assert list(inputs) == ["onsite_who", "onsite_eta", "onsite_note"]
    assert inputs["onsite_who"]["value"] == "U0TECH0002"
    assert inputs["onsite_eta"]["isRequired"] is True
    assert inputs["onsite_note"]["isRequired"] is False
    assert _submit(card)["data"] == {"verb": ids.VIEW_DISPATCH, "ticket": 12}
    assert dispatch_dialog(make_view(assignee=SAM), TECHS)["body"][1]["value"] == "U0TECH0001"
    assert "actions" not in dispatch_dialog(view, [])


@pytest.mark.parametrize(
    ("build", "input_id", "verb"),
    [
        (resolve_dialog, "verification", ids.VIEW_RESOLVE),
        (still_broken_dialog, "reason", ids.VIEW_STILL_BROKEN),
    ],
)
def test_resolve_and_still_broken_require_a_text(build: Any, input_id: str, verb: str) -> None:
    card = build(make_view(title="<at>all</at> [x](https://e.vil)"))
    validate_card(card)
    (text_input,) = _inputs(card).values()
    assert text_input["id"] == input_id
    assert text_input["isRequired"] is True and text_input["errorMessage"]
    assert _submit(card)["data"] == {"verb": verb, "ticket": 12}
    assert not any("](" in s for s in strings(card))


def test_dialog_response_shape() -> None:
    card = resolve_dialog(make_view())
    assert dialog_response("Resolve #12", card) == {
        "task": {
            "type": "continue",
            "value": {
                "title": "Resolve #12",
                "card": {"contentType": "application/vnd.microsoft.card.adaptive", "content": card},
            },
        }
    }
