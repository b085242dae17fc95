"""SLA timers through the real app with a ManualClock: the card's clock, the 75 % warning and the
breach as each party sees them at the Slack emulator, on the MSP's Berlin business hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import ManualClock
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import assign, block_text, bot_messages, card, open_critical, ticket

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


FRIDAY_1759 = berlin(2026, 12, 4, 17, 59)


@pytest.fixture
def sla_stack(database_url: str) -> Iterator[Stack]:
    s = Stack(
        database_url=database_url,
        clock=ManualClock(FRIDAY_1759),
        extra_env={
            "TICKETBOT_TIMEZONE": "Europe/Berlin",
            "TICKETBOT_BUSINESS_HOURS": "Mon-Fri 08:00-18:00",
            "TICKETBOT_SLA_HIGH": "2m/8h",
            "TICKETBOT_DIGEST_AT": "off",
        },
    )
    with s:
        yield s


def move_to(stack: Stack, when: datetime) -> int:
    clock = stack.clock
    assert isinstance(clock, ManualClock)
    clock.advance(when - clock.now())
    assert stack.rt.timers is not None
    fired = stack.rt.timers.fire_due()
    stack.wait_delivered()
    return fired


def sla_dms(stack: Stack, user: str) -> list[str]:
    return [m.text for m in stack.emu.dms(user) if "SLA" in m.text]


def test_friday_1759_high_ticket_warns_and_breaches_on_monday(sla_stack: Stack) -> None:
    stack = sla_stack
    ticket_id = open_critical(stack, priority="high")
    due = "<!date^1796626860^{date_short_pretty} at {time}|Mon 7 Dec 08:01 CET>"
    # On the card, Slack shows the time in each reader's zone; the fallback is in UTC.
    on_card = due.replace("08:01 CET", "07:01 UTC")
    assert f"⏱️ Response due {on_card}" in block_text(card(stack, ticket_id).blocks)

    assert move_to(stack, berlin(2026, 12, 7, 7, 59)) == 0
    assert sla_dms(stack, CAST.manager) == []

    move_to(stack, berlin(2026, 12, 7, 8, 0, 30))
    link = f"*#{ticket_id}* Internet down at HQ"
    unassigned = " Nobody is assigned: assign it from its card in the technician channel."
    assert sla_dms(stack, CAST.manager) == [
        f"🟠 SLA warning: {link} — first response is due {due} (75 % of its 2m target used)."
        + unassigned
    ]
    assert "at risk, 75 % of the target used" in block_text(card(stack, ticket_id).blocks)

    move_to(stack, berlin(2026, 12, 7, 8, 1))
    assert sla_dms(stack, CAST.manager)[1:] == [
        f"🔴 SLA breached: {link} — first response was due {due} (2m target)." + unassigned
    ]
    shown = block_text(card(stack, ticket_id).blocks)
    assert "🔴 *Response SLA breached* <!date^1796626860^{ago}" in shown
    assert ticket(stack, ticket_id).response_breached_at == berlin(2026, 12, 7, 8, 1)

    # Assigned: the resolution clock's warning goes to the technician from now on.
    assign(stack, ticket_id)
    move_to(stack, berlin(2026, 12, 7, 14, 0))
    assert sla_dms(stack, CAST.tech1) == [
        f"🟠 SLA warning: {link} — resolution is due "
        "<!date^1796655540^{date_short_pretty} at {time}|Mon 7 Dec 15:59 CET> "
        "(75 % of its 8h target used)."
    ]


@pytest.fixture
def digest_stack(database_url: str) -> Iterator[Stack]:
    s = Stack(
        database_url=database_url,
        clock=ManualClock(berlin(2026, 12, 3, 8, 0)),
        extra_env={"TICKETBOT_TIMEZONE": "Europe/Berlin", "TICKETBOT_DIGEST_AT": "08:30"},
    )
    with s:
        yield s


def test_the_daily_digest_is_posted_once_in_the_technician_channel(digest_stack: Stack) -> None:
    stack = digest_stack
    ticket_id = open_critical(stack, priority="medium")

    def digests() -> list[str]:
        return [m.text for m in bot_messages(stack, CAST.tech_channel) if "digest" in m.text]

    move_to(stack, berlin(2026, 12, 3, 8, 29))
    assert digests() == []
    move_to(stack, berlin(2026, 12, 3, 8, 30))
    move_to(stack, berlin(2026, 12, 3, 9, 30))
    assert digests() == [
        "Daily digest: 1 open ticket: 1 medium · 1 unassigned · 0 closed yesterday"
    ]
    [post] = [m for m in bot_messages(stack, CAST.tech_channel) if "digest" in m.text]
    assert not post.thread_ts  # a post of its own, not in a card's thread
    shown = block_text(post.blocks)
    assert f"🟡 *#{ticket_id}* Internet down at HQ — _unassigned_, new · Acme Corp" in shown
