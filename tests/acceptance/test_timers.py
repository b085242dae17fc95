"""Escalation timers end to end with a ManualClock: what each party sees at the Slack emulator
and in the mailbox when a critical ticket sits unassigned, and when nobody confirms a fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.clock import ManualClock
from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import Timer
from tests.acceptance.helpers import (
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
from tests.acceptance.teams_helpers import cast, chat, post, say, shown, teams_card


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed(database_url: str, clock: ManualClock) -> Iterator[Stack]:
    # The daily digest (a timer too) would fire beside these as the clock moves days on.
    with Stack(
        database_url=database_url, clock=clock, extra_env={"TICKETBOT_DIGEST_AT": "off"}
    ) as s:
        yield s


def _fire(stack: Stack) -> int:
    """Fire what is due now; how many timers fired at this instant (the process's own timer
    job, ticking in real time, may have fired them first)."""
    assert stack.rt.timers is not None
    stack.rt.timers.fire_due()
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        fired_now = select(func.count()).where(Timer.fired_at == stack.clock.now())
        return int(s.scalar(fired_now) or 0)


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
    assert timed.rt.metrics.value("ticketbot_timers_overdue") == 0
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
    clock.advance(timedelta(minutes=20))
    _, answer = timed.emu.post_message(
        CAST.tech1, CAST.tech_channel, "Rebooting the router now", thread_ts=card(timed, tid).ts
    )
    assert answer.status == 200
    timed.wait_delivered()
    clock.advance(timedelta(minutes=29))  # 49 min since the assignment, 29 since the update
    assert _fire(timed) == 0
    clock.advance(timedelta(minutes=1))
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
    closing = (
        f"🏁 *#{tid}* Internet down at HQ is closed automatically — resolved, and nobody "
        "confirmed it or reported it still broken within 5 d. Thanks to everyone involved: "
        f"<@{CAST.employee}>, <@{CAST.manager}>, <@{CAST.tech1}>"
    )
    client_side = replies(timed, CAST.client_channel, root)
    assert client_side[-1].text == closing
    asked = [m for m in client_side if ids.CONFIRM in str(m.blocks)]
    assert asked == []  # the buttons are replaced by the outcome
    assert any(
        "Closed automatically: nobody answered within 5 d." in str(m.blocks) for m in client_side
    )
    tech_side = replies(timed, CAST.tech_channel, card(timed, tid).ts)
    assert tech_side[-1].text == closing
    last = mails_to(timed, erin)[-1].get_body(("plain",)).get_content()
    assert last.startswith(
        f"Ticket #{tid} closed\n\n#{tid} Internet down at HQ is closed automatically: it was "
        "resolved, and nobody confirmed the fix or reported it still broken within 5 d."
    )
    tom_last = mails_to(timed, f"tom@{CAST.msp_domain}")[-1].get_body(("plain",)).get_content()
    assert tom_last == last  # every technician and employee involved
    assert "Closed" in block_text(card(timed, tid).blocks)


def test_a_critical_fix_nobody_confirmed_stays_open_and_the_managers_are_reminded(
    timed: Stack, clock: ManualClock
) -> None:
    tid = open_critical(timed)
    assign(timed, tid)
    ok(timed.emu.click(CAST.tech1, CAST.tech_channel, card(timed, tid).ts, ids.RESOLVE))
    ok(timed.emu.submit_view(CAST.tech1, values={"verification": "ISP restored the line."}))
    timed.wait_delivered()
    maya_dms = len(timed.emu.dms(CAST.manager))
    clock.advance(timedelta(days=1))
    assert _fire(timed) == 1  # the client is asked again
    clock.advance(timedelta(days=4))
    assert _fire(timed) == 1
    assert ticket(timed, tid).state == "awaiting_confirmation"
    assert [m.text for m in timed.emu.dms(CAST.manager)[maya_dms:]] == [
        f"⏳ Critical ticket *#{tid}* Internet down at HQ has waited 5 d for the client to "
        "confirm the fix. Critical tickets are never closed automatically: follow up with the "
        "client, or confirm it on their behalf with the Confirm fixed button in their thread."
    ]


def test_in_teams_the_reping_mentions_the_channel_in_the_card_thread_and_the_manager_hears(
    database_url: str, clock: ManualClock
) -> None:
    with Stack(
        database_url=database_url, clock=clock, slack=False, teams=True, teams_technicians=True
    ) as stack:
        tc = cast(stack)
        say(stack, tc.employee, "ticket Payroll server down")
        stack.wait_delivered()
        first = teams_card(stack, 1)
        assert stack.teams is not None
        acts = stack.teams.activities
        where = acts.channel(tc.tech_channel, first.id)
        action = acts.card_action(
            tc.tech2, where, ids.SET_PRIORITY, {"ticket": 1, "value": "critical"}, first.id
        )
        post(stack, action)
        stack.wait_delivered()
        thread_before = len(stack.teams.thread(first.id))
        manager_before = len(chat(stack, tc.manager))

        clock.advance(timedelta(minutes=5))
        assert _fire(stack) == 1
        new = stack.teams.thread(first.id)[thread_before:]
        assert len(new) == 1
        assert new[0].activity["entities"][0]["mentioned"]["type"] == "channel"
        assert new[0].text == (
            "<at>channel</at> ⏰ **#1** Payroll server down is critical and still unassigned "
            "after 5 min. Managers: please assign it from the card above."
        )
        told = chat(stack, tc.manager)[manager_before:]
        assert len(told) == 1
        assert "is still unassigned after 5 min. Assign it from its card" in shown(told[0])
