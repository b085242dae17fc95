"""Items 1–8 of the critical-ticket lifecycle, through signed HTTP into the real app."""

from __future__ import annotations

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import (
    actions_in,
    assign,
    block_text,
    bot_messages,
    card,
    client_root,
    mails_to,
    ok,
    open_critical,
    replies,
    ticket,
)

TECH_EMAILS = {"maya@msp.example", "tom@msp.example", "tara@msp.example"}


# ---- 1. /ticket ---------------------------------------------------------------------------
def test_ticket_command_opens_the_create_modal(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, ""))
    view = stack.emu.views(CAST.employee)[-1]
    assert view.callback_id == ids.VIEW_CREATE
    inputs = {b["block_id"]: b["element"] for b in view.blocks if b["type"] == "input"}
    assert {"title", "description", "priority", "affected"} <= set(inputs)
    options = inputs["priority"]["options"]
    assert [o["value"] for o in options] == ["low", "medium", "high", "critical"]
    assert all(o.get("description", {}).get("text") for o in options)


def test_modal_submission_creates_ticket_and_client_thread(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, ""))
    ok(
        stack.emu.submit_view(
            CAST.employee,
            values={"title": "Printer jammed", "priority": "low", "affected": "me"},
        )
    )
    stack.wait_delivered()
    t = ticket(stack, 1)
    assert (t.title, t.priority, t.state, t.affected) == ("Printer jammed", "low", "new", "me")
    root = client_root(stack, 1)
    assert root.channel == CAST.client_channel and root.thread_ts in (None, root.ts)
    assert "Ticket #1 received" in root.text


def test_modal_without_title_is_refused_in_the_form(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, ""))
    answer = stack.emu.submit_view(CAST.employee, values={"title": "   ", "priority": "low"})
    assert answer.status == 200
    assert answer.json["response_action"] == "errors"
    assert "title" in answer.json["errors"]


def test_quick_ticket_is_medium_and_acknowledged(stack: Stack) -> None:
    answer = ok(
        stack.emu.slash_command(CAST.employee, CAST.client_channel, "printer on floor 3 jammed")
    )
    assert "#1" in answer.json["text"]
    stack.wait_delivered()
    t = ticket(stack, 1)
    assert (t.title, t.priority, t.client.name) == (
        "printer on floor 3 jammed",
        "medium",
        "Acme Corp",
    )
    assert "Ticket #1 received" in client_root(stack, 1).text


def test_quick_ticket_in_a_dm_with_the_bot_threads_there(stack: Stack) -> None:
    dm = stack.emu.dm_channel(CAST.employee)
    ok(stack.emu.slash_command(CAST.employee, dm, "VPN keeps dropping"))
    stack.wait_delivered()
    root = client_root(stack, 1, channel=dm)
    assert "#1" in root.text
    assert ticket(stack, 1).client.name == "Acme Corp"  # from Erin's email domain


def test_help_list_and_status_answer_ephemerally(stack: Stack) -> None:
    help_answer = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "help"))
    assert "/ticket status" in block_text(help_answer.json)
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "mouse broken"))
    listing = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "list"))
    assert "mouse broken" in block_text(listing.json)
    status = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "status 1"))
    assert "created" in block_text(status.json).lower()
    missing = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "status 99"))
    assert "#99" in missing.json["text"]
    for answer in (help_answer, listing, status, missing):
        assert answer.json.get("response_type", "ephemeral") == "ephemeral"


def test_unknown_company_still_gets_ticket_flagged_for_manager(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.outsider, "CGENERAL", "laptop won't boot"))
    stack.wait_delivered()
    t = ticket(stack, 1)
    assert t.client is None and t.client_unknown
    assert "Unknown company" in block_text(card(stack, 1).blocks)
    assert any("#1" in m.text for m in stack.emu.dms(CAST.manager))


# ---- 2. the card ------------------------------------------------------------------------------
def test_card_shows_fields_and_buttons_and_updates_in_place(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "Outlook crashes"))
    stack.wait_delivered()
    c = card(stack, 1)
    text = block_text(c.blocks)
    for expected in ("#1", "Outlook crashes", "Acme Corp", CAST.employee, "New", "Unassigned"):
        assert expected in text, expected
    assert set(actions_in(c.blocks)) >= {
        ids.ASSIGN,
        ids.START,
        ids.MAKE_CRITICAL,
        ids.SET_PRIORITY,
        ids.REQUEST_HELP,
        ids.DISPATCH,
        ids.RESOLVE,
    }
    assign(stack, 1)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, c.ts, ids.START))
    stack.wait_delivered()
    again = card(stack, 1)
    assert again.ts == c.ts and len(again.updates) >= 2
    assert "In progress" in block_text(again.blocks) and CAST.tech1 in block_text(again.blocks)
    assert len([m for m in bot_messages(stack, CAST.tech_channel) if "#1" in m.text]) == 1


# ---- 3. critical ------------------------------------------------------------------------------
def test_critical_ticket_pings_emails_all_technicians_and_dms_managers(stack: Stack) -> None:
    tid = open_critical(stack)
    c = card(stack, tid)
    assert c.text.startswith("<!here>")
    recipients = {r.lower() for m in stack.mail.messages for r in m.rcpt_tos}
    assert TECH_EMAILS | {"erin@acme.example", "carl@acme.example"} <= recipients
    tech_mail = mails_to(stack, "tom@msp.example")[0]
    assert tech_mail["Subject"] == "[#1] Internet down at HQ"
    assert any("critical" in m.text.lower() for m in stack.emu.dms(CAST.manager))


def test_raising_to_critical_starts_the_critical_workflow(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "Server room is hot"))
    stack.wait_delivered()
    assert not mails_to(stack, "tom@msp.example")
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, 1).ts, ids.MAKE_CRITICAL))
    stack.wait_delivered()
    assert ticket(stack, 1).priority == "critical"
    ping = [r for r in replies(stack, CAST.tech_channel, card(stack, 1).ts) if "<!here>" in r.text]
    assert ping and ping[0].reply_broadcast
    assert mails_to(stack, "tom@msp.example") and mails_to(stack, "tara@msp.example")
    assert any("critical" in m.text.lower() for m in stack.emu.dms(CAST.manager))


def test_priority_select_changes_priority(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "Slow wifi"))
    stack.wait_delivered()
    ok(stack.emu.select(CAST.tech2, CAST.tech_channel, card(stack, 1).ts, ids.SET_PRIORITY, "high"))
    stack.wait_delivered()
    assert ticket(stack, 1).priority == "high"


# ---- 4. assign --------------------------------------------------------------------------------
def test_manager_assigns_and_everyone_is_told(stack: Stack) -> None:
    tid = open_critical(stack)
    ok(stack.emu.click(CAST.manager, CAST.tech_channel, card(stack, tid).ts, ids.ASSIGN))
    view = stack.emu.views(CAST.manager)[-1]
    assert view.callback_id == ids.VIEW_ASSIGN
    assert "open" in block_text(view.blocks)  # workload shown next to each technician
    ok(stack.emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}))
    stack.wait_delivered()
    t = ticket(stack, tid)
    assert t.state == "assigned" and t.assignee.slack_user_id == CAST.tech1
    assert any(f"#{tid}" in m.text for m in stack.emu.dms(CAST.tech1))
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    assert any("Assigned" in m.text and CAST.tech1 in m.text for m in thread)
    erin = mails_to(stack, "erin@acme.example")
    assert any("assigned" in m.get_body(("plain",)).get_content().lower() for m in erin)


def test_non_manager_assign_is_refused_politely_and_changes_nothing(stack: Stack) -> None:
    tid = open_critical(stack)
    before = len(stack.emu.views(CAST.tech1))
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.ASSIGN))
    stack.wait_delivered()
    assert len(stack.emu.views(CAST.tech1)) == before  # no modal opened
    refusal = stack.emu.ephemerals(CAST.tech1)[-1]
    assert "manager" in refusal.text.lower() and "Traceback" not in refusal.text
    assert ticket(stack, tid).state == "new"


# ---- 5. thread mirroring ----------------------------------------------------------------------
def test_technician_reply_is_mirrored_and_emailed(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    card_ts = card(stack, tid).ts
    ts, answer = stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "Router rebooted, <!channel> checking now", thread_ts=card_ts
    )
    assert answer.status == 200
    stack.wait_delivered()
    t = ticket(stack, tid)
    assert t.state == "in_progress"  # the assignee's first update starts work
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    mirrored = [m for m in thread if "Router rebooted" in m.text]
    assert len(mirrored) == 1 and "Tom Tech" in mirrored[0].text
    assert "<!channel>" not in mirrored[0].text and "<!channel>" not in block_text(
        mirrored[0].blocks
    )
    for address in ("erin@acme.example", "carl@acme.example"):
        bodies = [m.get_body(("plain",)).get_content() for m in mails_to(stack, address)]
        assert any("Router rebooted" in b for b in bodies), address


def test_internal_note_is_recorded_not_mirrored(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    before = len(stack.mail.messages)
    stack.emu.post_message(
        CAST.tech1,
        CAST.tech_channel,
        "INTERNAL: admin password is in the vault",
        thread_ts=card(stack, tid).ts,
    )
    stack.wait_delivered()
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    assert not any("vault" in m.text for m in thread)
    assert len(stack.mail.messages) == before
    status = ok(stack.emu.slash_command(CAST.tech1, CAST.tech_channel, f"status {tid}"))
    assert "vault" in block_text(status.json)


def test_client_reply_is_mirrored_to_card_thread_and_emailed_to_assignee(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    root = client_root(stack, tid)
    stack.emu.post_message(
        CAST.employee, CAST.client_channel, "Phones are down too", thread_ts=root.ts
    )
    stack.wait_delivered()
    tech_thread = replies(stack, CAST.tech_channel, card(stack, tid).ts)
    assert any("Phones are down too" in m.text and "Erin" in m.text for m in tech_thread)
    bodies = [m.get_body(("plain",)).get_content() for m in mails_to(stack, "tom@msp.example")]
    assert any("Phones are down too" in b for b in bodies)


def test_edits_and_deletions_follow_the_mirror(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ts, _ = stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "ETA 20 minutes", thread_ts=card(stack, tid).ts
    )
    stack.wait_delivered()
    edited = stack.emu.edit_message(CAST.tech1, CAST.tech_channel, ts, "ETA 30 minutes")
    assert edited.status == 200
    stack.wait_delivered()
    root_ts = client_root(stack, tid).ts
    mirror = [m for m in replies(stack, CAST.client_channel, root_ts) if "ETA" in m.text]
    assert len(mirror) == 1 and "30 minutes" in mirror[0].text
    deleted = stack.emu.delete_message(CAST.tech1, CAST.tech_channel, ts)
    assert deleted.status == 200
    stack.wait_delivered()
    assert not [
        m for m in replies(stack, CAST.client_channel, root_ts) if "ETA" in m.text and not m.deleted
    ]
    # an edit of a message that is not a ticket reply is acknowledged and ignored
    ts2, _ = stack.emu.post_message(CAST.tech1, CAST.tech_channel, "lunch?")
    assert stack.emu.edit_message(CAST.tech1, CAST.tech_channel, ts2, "lunch at 1?").status == 200


# ---- 6. help and onsite ----------------------------------------------------------------------
def test_request_help_and_i_can_help(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.REQUEST_HELP))
    stack.wait_delivered()
    post = [
        m for m in bot_messages(stack, CAST.tech_channel) if ids.OFFER_HELP in actions_in(m.blocks)
    ]
    assert len(post) == 1 and "needs more hands" in post[0].text
    ok(stack.emu.click(CAST.tech2, CAST.tech_channel, post[0].ts, ids.OFFER_HELP))
    stack.wait_delivered()
    assert [h.person.slack_user_id for h in ticket(stack, tid).helpers] == [CAST.tech2]
    assert CAST.tech2 in block_text(card(stack, tid).blocks)
    assert any("Tara" in m.text or CAST.tech2 in m.text for m in stack.emu.dms(CAST.tech1))
    # clicking again is a polite no
    ok(stack.emu.click(CAST.tech2, CAST.tech_channel, post[0].ts, ids.OFFER_HELP))
    stack.wait_delivered()
    assert "already" in stack.emu.ephemerals(CAST.tech2)[-1].text


def test_dispatch_onsite_tells_client_thread_and_email(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.DISPATCH))
    ok(
        stack.emu.submit_view(
            CAST.tech1,
            values={"onsite_who": CAST.tech2, "onsite_eta": "10:45", "onsite_note": "spare router"},
        )
    )
    stack.wait_delivered()
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    assert any(CAST.tech2 in m.text and "10:45" in m.text for m in thread)
    bodies = [m.get_body(("plain",)).get_content() for m in mails_to(stack, "erin@acme.example")]
    assert any("10:45" in b and "Tara" in b for b in bodies)
    told = [m.text for m in stack.emu.dms(CAST.tech2)]
    assert any("sending you onsite" in t and "10:45" in t and CAST.tech1 in t for t in told), told


# ---- 7. resolve, confirm, still broken -------------------------------------------------------
def _resolve(stack: Stack, tid: int, note: str = "ISP confirmed service restored") -> None:
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": note}))
    stack.wait_delivered()


def _confirm_message(stack: Stack, tid: int):  # type: ignore[no-untyped-def]
    thread = replies(stack, CAST.client_channel, client_root(stack, tid).ts)
    return [m for m in thread if ids.CONFIRM in actions_in(m.blocks)][-1]


def test_resolve_needs_a_verification_note(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
    answer = stack.emu.submit_view(CAST.tech1, values={"verification": "  "})
    assert answer.json["response_action"] == "errors" and "verification" in answer.json["errors"]
    assert ticket(stack, tid).state == "assigned"


def test_resolve_confirm_close_tells_everyone_involved(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.REQUEST_HELP))
    stack.wait_delivered()
    help_post = [
        m for m in bot_messages(stack, CAST.tech_channel) if ids.OFFER_HELP in actions_in(m.blocks)
    ][0]
    ok(stack.emu.click(CAST.tech2, CAST.tech_channel, help_post.ts, ids.OFFER_HELP))
    _resolve(stack, tid)
    assert ticket(stack, tid).state == "awaiting_confirmation"
    confirm = _confirm_message(stack, tid)
    assert ids.STILL_BROKEN in actions_in(confirm.blocks)
    assert "ISP confirmed" in block_text(confirm.blocks)
    asked = [m.get_body(("plain",)).get_content() for m in mails_to(stack, "erin@acme.example")]
    assert any("confirm" in b.lower() for b in asked)
    # a technician may not confirm on the client's behalf
    ok(stack.emu.click(CAST.tech2, CAST.client_channel, confirm.ts, ids.CONFIRM))
    stack.wait_delivered()
    assert ticket(stack, tid).state == "awaiting_confirmation"
    before = len(stack.mail.messages)
    ok(stack.emu.click(CAST.employee, CAST.client_channel, confirm.ts, ids.CONFIRM))
    stack.wait_delivered()
    assert ticket(stack, tid).state == "closed"
    closing = stack.mail.messages[before:]
    told = {r.lower() for m in closing for r in m.rcpt_tos}
    assert {"tom@msp.example", "tara@msp.example", "erin@acme.example", "carl@acme.example"} <= told
    tech_thread = replies(stack, CAST.tech_channel, card(stack, tid).ts)
    closed_note = [m for m in tech_thread if "closed" in m.text.lower()][-1]
    assert CAST.tech1 in closed_note.text and CAST.tech2 in closed_note.text
    assert not actions_in(card(stack, tid).blocks)  # final card: no buttons


def test_contact_and_manager_may_confirm_too(stack: Stack) -> None:
    for tid, confirmer in ((1, CAST.contact), (2, CAST.manager)):
        assert open_critical(stack) == tid
        assign(stack, tid)
        _resolve(stack, tid)
        ok(
            stack.emu.click(
                confirmer, CAST.client_channel, _confirm_message(stack, tid).ts, ids.CONFIRM
            )
        )
        stack.wait_delivered()
        assert ticket(stack, tid).state == "closed"


def test_still_broken_asks_why_and_reopens_to_assignee(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    _resolve(stack, tid)
    ok(
        stack.emu.click(
            CAST.employee, CAST.client_channel, _confirm_message(stack, tid).ts, ids.STILL_BROKEN
        )
    )
    assert stack.emu.views(CAST.employee)[-1].callback_id == ids.VIEW_STILL_BROKEN
    ok(stack.emu.submit_view(CAST.employee, values={"reason": "Still no internet on floor 2"}))
    stack.wait_delivered()
    t = ticket(stack, tid)
    assert t.state == "assigned" and t.assignee.slack_user_id == CAST.tech1
    assert any("floor 2" in block_text(m.blocks) for m in stack.emu.dms(CAST.tech1))
    tech_thread = replies(stack, CAST.tech_channel, card(stack, tid).ts)
    assert any("Reopened" in m.text or "reopened" in m.text for m in tech_thread)


# ---- 8. timeline -----------------------------------------------------------------------------
def test_every_change_is_a_timeline_row(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    stack.emu.post_message(
        CAST.tech1, CAST.tech_channel, "working on it", thread_ts=card(stack, tid).ts
    )
    stack.wait_delivered()
    _resolve(stack, tid)
    ok(
        stack.emu.click(
            CAST.employee, CAST.client_channel, _confirm_message(stack, tid).ts, ids.CONFIRM
        )
    )
    stack.wait_delivered()
    from sqlalchemy import select

    from storage.models import TicketEvent

    with stack.rt.sessions() as s:
        kinds = [e.kind for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id))]
        actors = [e.actor_label for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id))]
    assert kinds == ["created", "assigned", "update", "resolved", "closed"]
    assert actors == ["Erin Employee", "Maya Manager", "Tom Tech", "Tom Tech", "Erin Employee"]
    status = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, f"status {tid}"))
    text = block_text(status.json)
    for word in ("Maya Manager", "Tom Tech", "slack"):
        assert word in text


# ---- email threading --------------------------------------------------------------------------
def test_emails_of_a_ticket_form_one_thread(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid)
    _resolve(stack, tid)
    erin = mails_to(stack, "erin@acme.example")
    assert len(erin) >= 3
    root = erin[0]["Message-ID"]
    assert erin[0]["Subject"] == f"[#{tid}] Internet down at HQ" and erin[0]["In-Reply-To"] is None
    for later in erin[1:]:
        assert later["Subject"] == f"[#{tid}] Internet down at HQ"  # stable: threads everywhere
        assert later["In-Reply-To"] == root and root in later["References"]
        assert later["Message-ID"] != root
        assert later.get_body(("plain",)) is not None and later.get_body(("html",)) is not None


def test_quick_ticket_mentioning_payload_is_not_mistaken_for_a_button(stack: Stack) -> None:
    answer = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "payload server down"))
    assert "#1" in answer.json["text"]
    assert ticket(stack, 1).title == "payload server down"


def test_reassign_tells_the_previous_assignee(stack: Stack) -> None:
    tid = open_critical(stack)
    assign(stack, tid, CAST.tech1)
    assign(stack, tid, CAST.tech2)
    assert ticket(stack, tid).assignee.slack_user_id == CAST.tech2
    assert any("reassigned" in m.text and CAST.tech2 in m.text for m in stack.emu.dms(CAST.tech1))
    assert any(f"#{tid}" in m.text for m in stack.emu.dms(CAST.tech2))
