"""The App Home of each role through the real bot and the Slack emulator (which rejects a view
Slack would): published when opened, paged, and republished after a ticket changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from bot.service.actor import Actor
from bot.slack.home import PAGE_ROWS
from storage.models import OutboxRow, Person, tickets_table
from tests.acceptance.helpers import (
    actions_in,
    assign,
    block_text,
    card,
    home_of,
    ok,
    open_critical,
    showing,
)


def publishes(stack: Stack, user: str) -> int:
    return sum(1 for c in stack.emu.calls_to("views.publish") if c.params.get("user_id") == user)


def test_employee_sees_their_tickets_and_confirms_one_fixed(stack: Stack) -> None:
    ticket = open_critical(stack, priority="high")
    ok(stack.emu.open_home(CAST.employee))
    home = home_of(stack, CAST.employee, showing(f"#{ticket}"))
    blocks = home.view["blocks"]
    assert "Your open tickets" in block_text(blocks) and "Unassigned" not in block_text(blocks)
    assert ids.HOME_NEW_TICKET in actions_in(blocks) and ids.VIEW_TICKET in actions_in(blocks)
    assert ids.CONFIRM not in actions_in(blocks) and ids.ASSIGN not in actions_in(blocks)

    # New ticket opens the create modal, as /ticket does.
    ok(stack.emu.click_view(CAST.employee, ids.HOME_NEW_TICKET, view_id=home.id))
    assert stack.emu.views(CAST.employee)[-1].callback_id == ids.VIEW_CREATE

    assign(stack, ticket)
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, ticket).ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": "Printed a test page"}))
    stack.wait_delivered()
    stack.rt.home.refresh()  # type: ignore[union-attr]  # the worker's periodic job, run now
    home = home_of(stack, CAST.employee, lambda v: ids.CONFIRM in actions_in(v.view["blocks"]))
    assert "Awaiting confirmation" in block_text(home.view["blocks"])

    ok(stack.emu.click_view(CAST.employee, ids.CONFIRM, value=str(ticket), view_id=home.id))
    stack.wait_delivered()
    stack.rt.home.refresh()  # type: ignore[union-attr]
    home = home_of(stack, CAST.employee, lambda v: ids.CONFIRM not in actions_in(v.view["blocks"]))
    text = block_text(home.view["blocks"])
    assert "You have no open tickets" in text
    assert text.index("Closed in the last 30 days") < text.index(f"#{ticket}")


def test_technician_home_puts_unassigned_criticals_first_and_follows_an_assignment(
    stack: Stack,
) -> None:
    critical = open_critical(stack)
    ok(stack.emu.open_home(CAST.tech1))
    home = home_of(stack, CAST.tech1, showing(f"#{critical}"))
    text = block_text(home.view["blocks"])
    assert text.index("Unassigned critical") < text.index(f"#{critical}")
    assert text.index(f"#{critical}") < text.index("Assigned to me")
    assert "Response due" in text or "Resolve by" in text  # the SLA clock, as on the card
    before = publishes(stack, CAST.tech1)

    assign(stack, critical, CAST.tech1)
    stack.rt.home.refresh()  # type: ignore[union-attr]
    home = home_of(stack, CAST.tech1, showing("No unassigned criticals"))
    text = block_text(home.view["blocks"])
    assert text.index("Assigned to me") < text.index(f"#{critical}")
    assert publishes(stack, CAST.tech1) == before + 1


def _many_tickets(stack: Stack, count: int) -> None:
    """`count` open tickets straight into the database, of every priority, some late."""
    now = stack.clock.now()
    with stack.rt.sessions.begin() as s:
        tom = s.scalar(select(Person).where(Person.slack_user_id == CAST.tech1))
        tom_id = tom.id if tom is not None else None
        rows = []
        for i in range(count):
            priority = ("critical", "high", "medium", "low")[i % 4]
            rows.append(
                {
                    "title": f"Problem {i} <!channel> & co",
                    "description": "",
                    "priority": priority,
                    "state": "assigned" if i % 3 == 0 else "new",
                    "source": "slack",
                    "client_unknown": False,
                    "assignee_id": tom_id if i % 3 == 0 else None,
                    "created_at": now - timedelta(hours=i),
                    "updated_at": now - timedelta(minutes=i),
                    "resolve_due_at": now + timedelta(hours=4 - i % 8),
                    "resolve_breached_at": now if i % 5 == 0 else None,
                    "version": 1,
                }
            )
        s.execute(insert(tickets_table), rows)


def test_manager_home_pages_through_300_open_tickets_within_slack_limits(stack: Stack) -> None:
    first = open_critical(stack)  # one with a card in the technician channel
    _many_tickets(stack, 299)
    ok(stack.emu.open_home(CAST.manager))
    home = home_of(stack, CAST.manager, showing("Helpdesk overview"))
    blocks = home.view["blocks"]
    text = block_text(blocks)
    pages = -(-300 // PAGE_ROWS)
    assert len(blocks) <= 100
    assert f"Page 1 of {pages}" in text and "tickets 1–20 of 300" in text
    assert "Critical — 76 open" in text  # 75 inserted and the one opened through Slack
    assert "Technicians' load" in text and "Mean time to assign" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert actions_in(blocks).count(ids.VIEW_TICKET) == PAGE_ROWS
    assert actions_in(blocks).count(ids.ASSIGN) == PAGE_ROWS
    assert ids.HOME_PAGE_NEXT in actions_in(blocks)
    assert ids.HOME_PAGE_PREVIOUS not in actions_in(blocks)

    # The breached criticals come first; the card's permalink is on its row.
    assert text.index("Resolution SLA breached*") < text.index("Resolve by")
    seen = 0
    page = 0
    linked = False
    while True:
        links = [
            e["url"]
            for b in blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == ids.HOME_OPEN_CARD
        ]
        assert all("/archives/" + CAST.tech_channel + "/p" in u for u in links)
        seen += actions_in(blocks).count(ids.VIEW_TICKET)
        if f"*#{first}*" in text:
            linked = bool(links)
        if "Next ▶" not in text:
            break
        page += 1
        ok(stack.emu.click_view(CAST.manager, ids.HOME_PAGE_NEXT, view_id=home.id))
        home = home_of(stack, CAST.manager, lambda v, p=page: v.private_metadata == str(p))
        blocks = home.view["blocks"]
        text = block_text(blocks)
        assert len(blocks) <= 100
        assert "Technicians' load" not in text  # the summary is on the first page only
    assert seen == 300 and page == pages - 1
    assert linked, "the ticket with a card has an Open card button"
    assert f"Page {pages} of {pages}" in text

    ok(stack.emu.click_view(CAST.manager, ids.HOME_PAGE_PREVIOUS, view_id=home.id))
    home_of(stack, CAST.manager, lambda v: v.private_metadata == str(page - 1))

    # Assign from the Home opens the card's assign modal for that ticket.
    ok(stack.emu.click_view(CAST.manager, ids.ASSIGN, view_id=home.id))
    assert stack.emu.views(CAST.manager)[-1].callback_id == ids.VIEW_ASSIGN


def test_home_rows_are_coalesced_per_person(stack: Stack) -> None:
    """However many opens and changes come before it is sent, one pending row per person."""
    stack.rt.dispatchers[0].stop()  # the Slack lane: rows stay pending
    for _ in range(3):
        ok(stack.emu.open_home(CAST.manager))
    ok(stack.emu.open_home(CAST.tech1))
    stack.rt.service.open_ticket(Actor(CAST.employee), title="Printer", origin_channel="C1")
    stack.rt.home.refresh()  # type: ignore[union-attr]
    with stack.rt.sessions() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.kind == "home")).all()
    assert sorted(r.stream for r in rows) == [f"home:{CAST.manager}", f"home:{CAST.tech1}"]
    assert {r.status for r in rows} == {"pending"}
