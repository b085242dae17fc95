"""Escalation timers end to end with a ManualClock: what each party sees at the Slack emulator
and in the mailbox when a critical ticket sits unassigned, and when nobody confirms a fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot import ids
from bot.clock import ManualClock
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import (
    assign,
    bot_messages,
    card,
    client_root,
    mails_to,
    ok,
    open_critical,
    replies,
    ticket,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed(database_url: str, clock: ManualClock) -> Iterator[Stack]:
    with Stack(database_url=database_url, clock=clock) as s:
        yield s


def _fire(stack: Stack) -> int:
    assert stack.rt.timers is not None
    fired = stack.rt.timers.fire_due()
    stack.wait_delivered()
    return fired


def _mail_count(stack: Stack) -> int:
    assert stack.mail is not None
    return len(stack.mail.messages)


def test_an_unassigned_critical_ticket_repings_in_its_card_thread_and_dms_the_managers(
    timed: Stack, clock: ManualClock
) -> None:
    tid = open_critical(timed)
    posts = len(bot_messages(timed, CAST.tech_channel))
    mails = _mail_count(timed)
    manager_dms = len(timed.emu.dms(CAST.manager))

    clock.advance(timedelta(minutes=5))
    assert _fire(timed) == 1
    thread = [m for m in replies(timed, CAST.tech_channel, card(timed, tid).ts) if m.bot_id]
    assert [m.text for m in thread] == [
        f"<!here> ⏰ *#{tid}* Internet down at HQ is critical and still unassigned after 5 min. "
        "Managers: please assign it from the card above."
    ]
    assert len(bot_messages(timed, CAST.tech_channel)) == posts  # the card is not re-posted
    assert [m.text for m in timed.emu.dms(CAST.manager)[manager_dms:]] == [
        f"⏰ Critical ticket *#{tid}* Internet down at HQ — client Acme Corp — is still "
        "unassigned after 5 min. Assign it from its card in the technician channel."
    ]
    assert _mail_count(timed) == mails  # emailed to no one

    clock.advance(timedelta(minutes=5))
    assert _fire(timed) == 1
    thread = [m for m in replies(timed, CAST.tech_channel, card(timed, tid).ts) if m.bot_id]
    assert len(thread) == 2 and "after 10 min" in thread[1].text

    assign(timed, tid)
    clock.advance(timedelta(minutes=5))
    assert _fire(timed) == 0
    thread = [m for m in replies(timed, CAST.tech_channel, card(timed, tid).ts) if m.bot_id]
    assert len(thread) == 2


def test_a_silent_assignee_hears_at_30_minutes_and_the_managers_at_an_hour(
    timed: Stack, clock: ManualClock
) -> None:
    tid = open_critical(timed)
    assign(timed, tid)
    tom_dms, maya_dms = len(timed.emu.dms(CAST.tech1)), len(timed.emu.dms(CAST.manager))
    clock.advance(timedelta(minutes=30))
    assert _fire(timed) == 1
    assert [m.text for m in timed.emu.dms(CAST.tech1)[tom_dms:]] == [
        f"⏰ No technician update on *#{tid}* Internet down at HQ (🔴 critical) for 30 min. The "
        "client is waiting to hear: please post an update in the card's thread."
    ]
    clock.advance(timedelta(minutes=30))
    assert _fire(timed) == 1
    assert [m.text for m in timed.emu.dms(CAST.manager)[maya_dms:]] == [
        f"⚠️ *#{tid}* Internet down at HQ (🔴 critical), assigned to <@{CAST.tech1}>, has had no "
        "technician update for 1 h. Check in with them, or reassign it from its card in the "
        "technician channel."
    ]


def test_an_unconfirmed_fix_is_asked_about_again_then_closes_with_the_usual_messages(
    timed: Stack, clock: ManualClock
) -> None:
    tid = open_critical(timed, priority="medium")
    assign(timed, tid)
    ok(timed.emu.click(CAST.tech1, CAST.tech_channel, card(timed, tid).ts, ids.RESOLVE))
    ok(timed.emu.submit_view(CAST.tech1, values={"verification": "Router replaced, tested."}))
    timed.wait_delivered()
    root = client_root(timed, tid).ts
    seen = len(replies(timed, CAST.client_channel, root))
    erin = f"erin@{CAST.client_domain}"
    erin_mails = len(mails_to(timed, erin))

    clock.advance(timedelta(days=1))
    assert _fire(timed) == 1
    new = replies(timed, CAST.client_channel, root)[seen:]
    assert [m.text for m in new] == [
        f"⏳ *#{tid}* Internet down at HQ was resolved 1 d ago and is waiting for your "
        "confirmation. Is it fixed for you? Please answer with the Confirm fixed or Still broken "
        "button above."
    ]
    reminder = mails_to(timed, erin)[erin_mails:]
    assert [m["Subject"] for m in reminder] == [f"[#{tid}] Internet down at HQ"]
    body = reminder[0].get_body(("plain",)).get_content()
    assert body.startswith(
        f"Ticket #{tid} — is it fixed for you?\n\n#{tid} Internet down at HQ was resolved 1 d "
        "ago and is still waiting for your confirmation.\n\nHow it was verified:\n"
        "Router replaced, tested."
    )
    assert len(mails_to(timed, f"carl@{CAST.client_domain}")) == erin_mails + 1

    clock.advance(timedelta(days=4))
    assert _fire(timed) == 1
    assert ticket(timed, tid).state == "closed"
    closing = f"🏁 *#{tid}* Internet down at HQ is closed automatically — resolved, and nobody"
    client_side = replies(timed, CAST.client_channel, root)
    assert any(m.text.startswith(closing) for m in client_side)
    tech_side = replies(timed, CAST.tech_channel, card(timed, tid).ts)
    assert any(m.text.startswith(closing) for m in tech_side)
    last = mails_to(timed, erin)[-1].get_body(("plain",)).get_content()
    assert last.startswith(
        f"Ticket #{tid} closed\n\n#{tid} Internet down at HQ is closed automatically: it was "
        "resolved, and nobody confirmed the fix or reported it still broken within 5 d."
    )
    assert any(m.get_body(("plain",)) for m in mails_to(timed, f"tom@{CAST.msp_domain}"))
    assert "Closed" in card(timed, tid).text or "closed" in str(card(timed, tid).blocks).lower()
