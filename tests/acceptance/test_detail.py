"""The card's *View* button: the ticket detail modal, opened with views.open in the emulator
(which rejects what Slack would), for staff and for a client's guest in the technician channel."""

from __future__ import annotations

import html
from typing import Any

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from bot.service.actor import Actor
from bot.service.errors import NotFoundError
from tests.acceptance.helpers import GUEST, assign, block_text, card, home_of, ok, showing

# Escaping makes this several sections long: & and < become &amp; and &lt;.
LONG = "\n".join(
    f"Line {n}: printer <HP-{n}> & scanner & fax on floor {n % 7} keep failing" for n in range(40)
)[:2990]


def _open(stack: Stack, description: str = LONG) -> int:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, ""))
    ok(
        stack.emu.submit_view(
            CAST.employee,
            values={
                "title": "Printers down",
                "description": description,
                "priority": "high",
                "affected": "few",
            },
        )
    )
    stack.wait_delivered()
    tid = max(t for t in _ticket_ids(stack))
    return tid


def _ticket_ids(stack: Stack) -> list[int]:
    from sqlalchemy import select

    from storage.models import Ticket

    with stack.rt.sessions() as s:
        return list(s.scalars(select(Ticket.id)))


def _detail(stack: Stack, user: str, tid: int) -> dict[str, Any]:
    before = len(stack.emu.views(user))
    ok(stack.emu.click(user, CAST.tech_channel, card(stack, tid).ts, ids.VIEW_TICKET))
    opened = stack.emu.views(user)
    assert len(opened) == before + 1, "no modal opened"
    view: dict[str, Any] = opened[-1].view
    assert view["callback_id"] == ids.VIEW_DETAIL and "submit" not in view
    return view


def _sections(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]


def _description(view: dict[str, Any]) -> str:
    texts = _sections(view)
    start = texts.index("*Description*") + 1
    end = next(i for i, t in enumerate(texts) if i >= start and t == "*Timeline*")
    return html.unescape("\n".join(texts[start:end]))


def _squeeze(text: str) -> str:
    return "".join(text.split())


def test_staff_see_everything_and_each_notifications_delivery(guest_stack: Stack) -> None:
    stack = guest_stack
    tid = _open(stack)
    ts, answer = stack.emu.post_message(
        CAST.tech1,
        CAST.tech_channel,
        "internal: the fuser is worn out",
        thread_ts=card(stack, tid).ts,
    )
    assert answer.status == 200
    # Slack refuses the DM to the assignee for good: that notification is parked.
    stack.emu.faults.add("chat.postMessage", "account_inactive", channel=CAST.tech1)
    assign(stack, tid)

    view = _detail(stack, CAST.tech1, tid)

    assert view["title"]["text"] == f"Ticket #{tid}"
    description = [t for t in _sections(view) if "Line 1:" in t or "Line 39" in t]
    assert description, "description missing"
    assert _squeeze(_description(view)) == _squeeze(LONG)  # untruncated, in order
    assert len(_description(view)) >= len(LONG) - 40
    text = block_text(view["blocks"])
    assert "fuser is worn out" in text and "🔒" in text
    assert "*Notifications*" in _sections(view)
    notes = "\n".join(_sections(view)[_sections(view).index("*Notifications*") + 1 :])
    assert f"⛔ parked · slack post → <@{CAST.tech1}>" in notes
    assert "account_inactive" in notes
    assert "✅ sent · slack card → <#CTECHS>" in notes
    assert "✅ sent · email email → erin@acme.example" in notes
    assert "<!here>" not in text and "<!channel>" not in text


def test_a_guest_of_the_client_sees_no_internal_notes_and_no_deliveries(
    guest_stack: Stack,
) -> None:
    stack = guest_stack
    # Carl, the client's IT lead, has asked for help before: the bot knows his company.
    ok(stack.emu.slash_command(GUEST, CAST.client_channel, "mouse broken"))
    tid = _open(stack, "Paper jam; tried twice.")
    ts, _ = stack.emu.post_message(
        CAST.tech1,
        CAST.tech_channel,
        "internal: the fuser is worn out",
        thread_ts=card(stack, tid).ts,
    )
    stack.wait_delivered()

    view = _detail(stack, GUEST, tid)

    text = block_text(view["blocks"])
    assert "Paper jam; tried twice." in text
    assert "fuser" not in text and "🔒" not in text
    assert "*Notifications*" not in _sections(view)
    assert "created" in text.lower()


def test_someone_from_another_company_cannot_see_the_ticket(guest_stack: Stack) -> None:
    tid = _open(guest_stack, "Paper jam")
    service = guest_stack.rt.service
    try:
        service.detail(Actor(CAST.outsider), tid)
    except NotFoundError as e:
        assert f"#{tid}" in e.message
    else:
        raise AssertionError("an outsider saw the ticket")


def test_an_employee_opens_their_ticket_from_the_app_home(stack: Stack) -> None:
    tid = _open(stack, "Paper jam on floor 2")
    stack.emu.post_message(
        CAST.tech1,
        CAST.tech_channel,
        "internal: the fuser is worn out",
        thread_ts=card(stack, tid).ts,
    )
    stack.wait_delivered()
    ok(stack.emu.open_home(CAST.employee))
    home = home_of(stack, CAST.employee, showing(f"#{tid}"))

    ok(stack.emu.click_view(CAST.employee, ids.VIEW_TICKET, value=str(tid), view_id=home.id))

    view = stack.emu.views(CAST.employee)[-1].view
    assert view["callback_id"] == ids.VIEW_DETAIL and view["private_metadata"] == str(tid)
    text = block_text(view["blocks"])
    assert "Paper jam on floor 2" in text
    assert "fuser" not in text and "*Notifications*" not in _sections(view)
