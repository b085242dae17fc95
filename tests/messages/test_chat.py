from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.messages import chat as messages
from bot.messages import ids
from bot.messages.escape import ZWSP
from bot.messages.view import OnsiteView, PersonRef, SlackMessage
from tests.messages.factories import DANA, EMAIL_ONLY, LEE, MIA, SAM, entry, make_view
from tests.slack.validator import assert_no_pings, validate_message


def _texts(message: SlackMessage) -> str:
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    out.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.blocks)
    return "\n".join(out)


def _buttons(message: SlackMessage) -> list[dict[str, Any]]:
    return [el for b in message.blocks if b["type"] == "actions" for el in b["elements"]]


HOSTILE = make_view(
    title="Printer <!channel> & @here",
    description="<!everyone> broke",
    state="awaiting_confirmation",
    assignee=SAM,
    helpers=(LEE,),
    onsite=OnsiteView(who=LEE, eta="<!here> 20 min", note="@channel <b>"),
    resolution_note="Tested <!channel> & fine",
)


def every_message() -> list[SlackMessage]:
    v = HOSTILE
    return [
        messages.received(v),
        messages.assigned(v),
        messages.assignee_dm(v, MIA),
        messages.manager_critical_dm(v),
        messages.unknown_client_dm(v),
        messages.help_request(v, SAM),
        messages.helper_added(v, LEE),
        messages.onsite(v),
        messages.awaiting_confirmation(v),
        messages.confirmation_recorded(v, DANA),
        messages.reopened(v, DANA, "<!channel> still down"),
        messages.closed(v, DANA, [SAM, LEE, DANA, EMAIL_ONLY]),
        messages.priority_changed(v, "low", SAM),
        messages.started(v, SAM),
        messages.status(v, [entry(5, "<!here>", "update", "@everyone look")]),
        messages.ticket_list([v, make_view(id=13)]),
        messages.help_text(),
        messages.refused("You can't do that <!channel>"),
        messages.mirrored(SAM, "technician", "&lt;!here&gt; <!here> <@U0TECH0002>"),
    ]


@pytest.mark.parametrize("message", every_message(), ids=lambda m: m.text[:30])
def test_every_message_is_valid_and_pings_nobody(message: SlackMessage) -> None:
    validate_message(message)
    assert_no_pings(message.blocks)
    assert_no_pings(message.text)


def test_received() -> None:
    message = messages.received(make_view(priority="high"))
    assert message.text == (
        "Ticket #12 received — priority 🟠 high. We'll keep you posted in this thread."
    )


def test_assigned_mentions_the_assignee() -> None:
    assert messages.assigned(make_view(assignee=SAM)).text == "Assigned to <@U0TECH0001>."


def test_assignee_dm_names_who_assigned() -> None:
    text = messages.assignee_dm(make_view(assignee=SAM), MIA).text
    assert text.startswith("👋 <@U0MGR00001> assigned you *#12* Internet down at HQ")


def test_manager_critical_dm() -> None:
    text = messages.manager_critical_dm(make_view()).text
    assert "Critical ticket *#12*" in text and "*unassigned*" in text and "Northwind" in text


def test_unknown_client_dm_suggests_the_clients_add_command() -> None:
    view = make_view(client_name=None, client_unknown=True)
    body = _texts(messages.unknown_client_dm(view))
    assert "ticketbot clients add" in body
    assert "--domain northwind.example" in body


def test_critical_ping_starts_with_the_mention() -> None:
    message = messages.critical_ping(make_view(title="Server <down>"), "<!here>")
    assert message.text == "<!here> 🔴 *#12* is now critical: Server &lt;down&gt;"
    validate_message(message)


def test_mirrored_keeps_user_mentions_and_disarms_broadcasts() -> None:
    text = "On my way, ETA 20 min. Cc <@U0TECH0002> &lt;!here&gt; is literal <!channel>"
    message = messages.mirrored(SAM, "technician", text)
    assert message.text == (
        "*Sam Tech* (technician): On my way, ETA 20 min. Cc <@U0TECH0002> "
        f"&lt;!here&gt; is literal @{ZWSP}channel"
    )
    assert "<@U0TECH0001>" not in _texts(message)  # attribution by name does not ping the author


def test_mirrored_splits_long_text_into_sections() -> None:
    message = messages.mirrored(DANA, "client", "line of text\n" * 800)
    validate_message(message)
    assert len(message.blocks) > 1


def test_help_request_has_the_offer_button() -> None:
    message = messages.help_request(make_view(), SAM)
    assert "needs more hands" in message.text
    [offer] = _buttons(message)
    assert (offer["action_id"], offer["value"], offer["text"]["text"]) == (
        ids.OFFER_HELP,
        "12",
        "I can help",
    )


def test_onsite_requires_a_dispatch() -> None:
    with pytest.raises(ValueError):
        messages.onsite(make_view())
    view = make_view(onsite=OnsiteView(who=LEE, eta="20 min"))
    assert messages.onsite(view).text == "🚗 <@U0TECH0002> is on the way, ETA 20 min."


def test_awaiting_confirmation_buttons() -> None:
    view = make_view(state="awaiting_confirmation", resolution_note="ISP confirmed", version=4)
    message = messages.awaiting_confirmation(view)
    assert "ISP confirmed" in _texts(message)
    buttons = {b["action_id"]: b for b in _buttons(message)}
    assert buttons[ids.CONFIRM]["style"] == "primary"
    assert buttons[ids.STILL_BROKEN]["style"] == "danger"
    assert buttons[ids.CONFIRM]["text"]["text"] == "Confirm fixed"
    assert buttons[ids.STILL_BROKEN]["text"]["text"] == "Still broken"
    assert {b["value"] for b in buttons.values()} == {"12"}


def test_confirmation_recorded_replaces_the_buttons() -> None:
    closed = messages.confirmation_recorded(make_view(state="closed", version=5), DANA)
    assert _buttons(closed) == []
    assert "Confirmed fixed by <@U0REQ00001>" in closed.text
    reopened = messages.confirmation_recorded(make_view(state="assigned", version=5), DANA)
    assert "still broken" in reopened.text
    before = messages.awaiting_confirmation(make_view(state="awaiting_confirmation", version=4))
    assert {b["block_id"] for b in before.blocks}.isdisjoint(b["block_id"] for b in closed.blocks)


def test_reopened_quotes_the_reason() -> None:
    message = messages.reopened(make_view(), DANA, "Still no <internet>\non floor 2")
    assert "> Still no &lt;internet&gt;\n> on floor 2" in _texts(message)


def test_closed_mentions_everyone_involved_once() -> None:
    message = messages.closed(make_view(state="closed"), DANA, [SAM, LEE, SAM, EMAIL_ONLY])
    body = _texts(message)
    assert body.count("<@U0TECH0001>") == 1
    assert "<@U0TECH0002>" in body and "Pat Contact" in body
    assert "<@U0TECH0001>" in message.text and "<@U0TECH0002>" in message.text


def test_priority_changed_and_started() -> None:
    changed = messages.priority_changed(make_view(priority="critical"), "medium", SAM)
    assert changed.text == (
        "<@U0TECH0001> changed the priority of *#12* Internet down at HQ from 🟡 medium "
        "to 🔴 critical."
    )
    assert messages.started(make_view(), SAM).text.startswith("🔧 <@U0TECH0001> started work")


def test_status_lists_the_timeline_newest_last_without_internal_notes() -> None:
    timeline = [
        entry(30, "Dana Client", "created"),
        entry(20, "Mia Manager", "assigned", "to Sam Tech"),
        entry(15, "Sam Tech", "internal_note", "secret"),
        entry(
            10,
            "Sam Tech",
            "update",
            "Rebooting the router",
        ),
    ]
    body = _texts(messages.status(make_view(), timeline))
    assert "secret" not in body
    assert body.index("Dana Client · created") < body.index("Rebooting the router")
    assert "· Sam Tech · update: Rebooting the router · (slack)" in body
    assert "|2026-01-05 11:50 UTC>" in body
    internal = _texts(messages.status(make_view(), timeline, include_internal=True))
    assert "secret" in internal


def test_status_drops_the_oldest_entries_visibly() -> None:
    timeline = [entry(1000 - i, "Sam", "update", f"step {i} " + "x" * 200) for i in range(500)]
    message = messages.status(make_view(), timeline)
    validate_message(message)
    body = _texts(message)
    assert "earlier entries not shown" in body
    assert "step 499" in body and "step 0 " not in body


def test_ticket_list() -> None:
    views = [make_view(id=i, state="in_progress", assignee=SAM) for i in range(1, 4)]
    message = messages.ticket_list([*views, make_view(id=9, state="closed")])
    body = _texts(message)
    assert "*Your open tickets* (3)" in body
    assert "*#9*" not in body
    assert messages.ticket_list([]).text == "You have no open tickets. 🎉"


def test_ticket_list_with_many_tickets_stays_within_limits() -> None:
    views = [make_view(id=i, title="t" * 150) for i in range(1000)]
    message = messages.ticket_list(views)
    validate_message(message)
    assert "more" in _texts(message)


def test_help_text_documents_every_form() -> None:
    body = _texts(messages.help_text())
    for form in ("`/ticket`", "`/ticket &lt;title&gt;`", "`/ticket list`",
                 "`/ticket status &lt;id&gt;`", "`/ticket help`"):  # fmt: skip
        assert form in body


def test_refused_is_escaped() -> None:
    assert messages.refused("Only a manager can assign <#7>").text == (
        "⛔ Only a manager can assign &lt;#7&gt;"
    )


def test_people_without_slack_ids_are_named_not_mentioned() -> None:
    message = messages.assigned(make_view(assignee=PersonRef("Ann <Admin>", "not-an-id")))
    assert message.text == "Assigned to Ann &lt;Admin&gt;."


def test_status_shows_what_an_edit_did_and_hides_what_the_client_lost() -> None:
    timeline = [
        entry(20, "Sam Tech", "update", "ETA 20"),
        replace(entry(10, "Sam Tech", "made_internal", "internal: van broke"), internal=True),
        entry(5, "Sam Tech", "made_public", "ETA 40"),
    ]
    staff = _texts(messages.status(make_view(), timeline, include_internal=True))
    assert (
        "🔒 made internal: mirror removed from the client's thread — internal: van broke" in staff
    )
    assert "made public: mirrored to the client — ETA 40" in staff
    client = _texts(messages.status(make_view(), timeline))
    assert "van broke" not in client and "ETA 40" in client
