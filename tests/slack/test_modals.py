from __future__ import annotations

import json
from typing import Any

import pytest

from bot.messages import ids
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, PersonRef
from bot.slack import modals
from tests.messages.factories import LEE, SAM, make_view
from tests.slack.validator import assert_no_pings, validate_view

METADATA = json.dumps({"channel_id": "C0TECHS001", "origin": "slash"})
TECHS = [(SAM, 3), (LEE, 0)]


def _input(view: dict[str, Any], pair: tuple[str, str]) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == pair[0])
    assert block["type"] == "input"
    assert block["element"]["action_id"] == pair[1]
    return block


def every_modal() -> list[dict[str, Any]]:
    view = make_view(id=1234567, state="assigned", assignee=SAM)
    return [
        modals.create_ticket_modal(METADATA),
        modals.assign_modal(view, TECHS, METADATA),
        modals.assign_modal(view, [], METADATA),
        modals.dispatch_modal(view, TECHS, METADATA),
        modals.dispatch_modal(view, [], METADATA),
        modals.resolve_modal(view, METADATA),
        modals.still_broken_modal(view, METADATA),
    ]


@pytest.mark.parametrize("modal", every_modal(), ids=lambda m: m["callback_id"])
def test_every_modal_is_valid(modal: dict[str, Any]) -> None:
    validate_view(modal)
    assert len(modal["title"]["text"]) <= 24
    assert modal["private_metadata"] == METADATA
    assert modal["callback_id"] in ids.ALL_VIEWS


def test_create_ticket_modal_inputs() -> None:
    modal = modals.create_ticket_modal(METADATA, initial_title="Printer\njammed")
    assert (modal["callback_id"], modal["title"]["text"]) == (ids.VIEW_CREATE, "New ticket")
    title = _input(modal, ids.IN_TITLE)["element"]
    assert (title["type"], title["max_length"], title["initial_value"]) == (
        "plain_text_input",
        150,
        "Printer jammed",
    )
    description = _input(modal, ids.IN_DESCRIPTION)
    assert description["optional"] is True and description["element"]["multiline"] is True
    priority = _input(modal, ids.IN_PRIORITY)["element"]
    assert priority["type"] == "radio_buttons"
    assert [o["value"] for o in priority["options"]] == list(PRIORITIES)
    assert all(0 < len(o["description"]["text"]) <= 75 for o in priority["options"])
    assert priority["initial_option"]["value"] == "medium"
    affected = _input(modal, ids.IN_AFFECTED)["element"]
    assert [o["value"] for o in affected["options"]] == list(AFFECTED_CHOICES)


def test_create_ticket_modal_rejects_oversized_metadata() -> None:
    with pytest.raises(ValueError):
        modals.create_ticket_modal("x" * 3001)


def test_assign_modal_lists_workload_and_preselects_the_assignee() -> None:
    modal = modals.assign_modal(make_view(state="assigned", assignee=LEE), TECHS, METADATA)
    assert (modal["callback_id"], modal["title"]["text"]) == (ids.VIEW_ASSIGN, "Assign #12")
    select = _input(modal, ids.IN_ASSIGNEE)["element"]
    assert [(o["text"]["text"], o["value"]) for o in select["options"]] == [
        ("Sam Tech — 3 open", "U0TECH0001"),
        ("Lee Tech — 0 open", "U0TECH0002"),
    ]
    assert select["initial_option"]["value"] == "U0TECH0002"


def test_assign_modal_without_technicians_explains_and_has_no_submit() -> None:
    modal = modals.assign_modal(make_view(), [], METADATA)
    assert "submit" not in modal
    assert "No technicians" in json.dumps(modal)


def test_assign_modal_with_300_technicians_keeps_100_least_busy_and_the_assignee() -> None:
    techs = [(PersonRef(f"Tech {i:03d} " + "n" * 90, f"U{i:08d}"), 300 - i) for i in range(300)]
    current = techs[0][0]  # the busiest
    modal = modals.assign_modal(make_view(assignee=current), techs, METADATA)
    validate_view(modal)
    block = _input(modal, ids.IN_ASSIGNEE)
    values = [o["value"] for o in block["element"]["options"]]
    assert len(values) == 100
    assert current.slack_id in values
    assert "U00000299" in values  # least busy
    assert "100 least busy of 300" in block["hint"]["text"]
    assert block["element"]["initial_option"]["value"] == current.slack_id
    assert all(o["text"]["text"].endswith(" open") for o in block["element"]["options"])


def test_assign_modal_skips_people_without_slack_ids_and_duplicates() -> None:
    techs = [(SAM, 1), (SAM, 1), (PersonRef("Mail Only", None, "m@x.example"), 0)]
    select = _input(modals.assign_modal(make_view(), techs, METADATA), ids.IN_ASSIGNEE)["element"]
    assert [o["value"] for o in select["options"]] == ["U0TECH0001"]
    assert "initial_option" not in select


def test_dispatch_modal_inputs() -> None:
    modal = modals.dispatch_modal(make_view(state="in_progress", assignee=SAM), TECHS, METADATA)
    assert modal["callback_id"] == ids.VIEW_DISPATCH
    assert _input(modal, ids.IN_ONSITE_WHO)["element"]["initial_option"]["value"] == "U0TECH0001"
    assert _input(modal, ids.IN_ONSITE_ETA)["element"]["type"] == "plain_text_input"
    assert _input(modal, ids.IN_ONSITE_NOTE)["optional"] is True


def test_resolve_modal_requires_the_verification_note() -> None:
    modal = modals.resolve_modal(make_view(), METADATA)
    assert modal["callback_id"] == ids.VIEW_RESOLVE
    block = _input(modal, ids.IN_VERIFICATION)
    assert block["optional"] is False
    assert block["element"]["multiline"] is True
    assert block["element"]["placeholder"]["text"] == (
        "e.g. ISP confirmed service restored; tested from two PCs"
    )


def test_still_broken_modal_requires_a_reason() -> None:
    modal = modals.still_broken_modal(make_view(), METADATA)
    assert modal["callback_id"] == ids.VIEW_STILL_BROKEN
    assert _input(modal, ids.IN_REASON)["optional"] is False


def test_modals_escape_the_ticket_title() -> None:
    view = make_view(title="<!channel> @here " + "x" * 10_000, id=10**15)
    for modal in (
        modals.assign_modal(view, TECHS, METADATA),
        modals.dispatch_modal(view, TECHS, METADATA),
        modals.resolve_modal(view, METADATA),
        modals.still_broken_modal(view, METADATA),
    ):
        validate_view(modal)
        assert_no_pings(modal["blocks"])
        assert len(modal["title"]["text"]) <= 24
