"""A manager's DM failing for a minute of clock time holds up no other message of the ticket."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.domain.clock import ManualClock
from bot.messages import ids
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, Stack, wait_until
from tests.acceptance.helpers import bot_messages, card, client_root, mails_to, ok, replies

OTHER_MANAGER = "UMEL"  # sorts after CAST.manager: the failing DM is written first
DM_DOWN = timedelta(seconds=60)
WHILE_DOWN = 30.0  # real seconds to wait for everything else, the clock standing still


def _second_manager(emu: SlackEmulator) -> None:
    emu.add_user(OTHER_MANAGER, "Mel Manager", email=f"mel@{CAST.msp_domain}")


def test_a_stuck_dm_delays_no_other_message_and_arrives_once_when_it_clears(
    database_url: str,
) -> None:
    clock = ManualClock()
    with Stack(
        database_url=database_url,
        clock=clock,
        extra_env={"TICKETBOT_MANAGERS": f"{CAST.manager},{OTHER_MANAGER}"},
        setup=_second_manager,
    ) as stack:
        emu = stack.emu
        emu.faults.fail_channel(CAST.manager, DM_DOWN, clock=clock)
        ok(emu.slash_command(CAST.employee, CAST.client_channel, ""))
        ok(
            emu.submit_view(
                CAST.employee,
                values={"title": "Internet down", "priority": "critical", "affected": "all"},
            )
        )

        def created() -> bool:
            return (
                bool(bot_messages(stack, CAST.tech_channel))
                and bool(bot_messages(stack, CAST.client_channel))
                and len(emu.dms(OTHER_MANAGER)) == 1
            )

        emu.wait_for(created, WHILE_DOWN, description="card, client thread root, other DM")
        card_ts = card(stack, 1).ts
        assert "<!here>" in card(stack, 1).text
        root_ts = client_root(stack, 1).ts
        wait_until(
            lambda: (
                bool(mails_to(stack, f"tom@{CAST.msp_domain}"))
                and bool(mails_to(stack, f"erin@{CAST.client_domain}"))
            ),
            WHILE_DOWN,
            lambda: "the critical ticket's emails never arrived",
        )

        ok(emu.click(CAST.manager, CAST.tech_channel, card_ts, ids.ASSIGN))
        ok(emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}))
        emu.post_message(CAST.tech1, CAST.tech_channel, "replacing the router", thread_ts=card_ts)

        def client_thread_caught_up() -> bool:
            texts = [m.text for m in replies(stack, CAST.client_channel, root_ts)]
            return any("Assigned" in t for t in texts) and any(
                "replacing the router" in t for t in texts
            )

        emu.wait_for(client_thread_caught_up, WHILE_DOWN, description="assignment and mirror")
        emu.wait_for(
            lambda: "in progress" in card(stack, 1).text.lower() and len(emu.dms(CAST.tech1)) == 1,
            WHILE_DOWN,
            description="card updated twice and the assignee's DM",
        )
        wait_until(
            lambda: stack.busy("slack") == 1,
            WHILE_DOWN,
            lambda: f"more than the stuck DM is pending: {stack.outbox_counts()}",
        )
        assert emu.dms(CAST.manager) == []
        failed = [
            c for c in emu.calls_to("chat.postMessage") if c.params.get("channel") == CAST.manager
        ]
        assert failed and not any(c.ok for c in failed)

        clock.advance(DM_DOWN + timedelta(seconds=1))
        emu.wait_for(lambda: emu.dms(CAST.manager), WHILE_DOWN, description="the stuck DM")
        stack.wait_delivered(timeout=WHILE_DOWN)

        (stuck,) = emu.dms(CAST.manager)
        assert "#1" in stuck.text
        assert len(emu.dms(OTHER_MANAGER)) == 1
        assert len(emu.dms(CAST.tech1)) == 1
        assert [m.ts for m in bot_messages(stack, CAST.tech_channel)] == [card_ts]
        assert len(bot_messages(stack, CAST.client_channel)) == 1
        thread = [m.text for m in replies(stack, CAST.client_channel, root_ts)]
        assert len(thread) == 2 and len(set(thread)) == 2, thread
        erin = Counter(m["Message-ID"] for m in mails_to(stack, f"erin@{CAST.client_domain}"))
        assert all(n == 1 for n in erin.values()), erin
        assert stack.outbox_counts().get("parked", 0) == 0
