"""Slack failing with 429/5xx at times, SMTP down for a while: all arrives once, in order."""

from __future__ import annotations

from collections import Counter

from bot.messages import ids
from bot.outbox.dispatcher import DispatchPolicy
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import card, client_root, mails_to, ok, replies


def test_deliveries_survive_rate_limits_server_errors_and_smtp_outage(database_url: str) -> None:
    policy = DispatchPolicy(poll_interval=0.1, base_backoff=0.2, max_backoff=1.0, max_attempts=50)
    with Stack(database_url=database_url, policy=policy) as stack:
        emu, mail = stack.emu, stack.mail
        assert mail is not None
        emu.faults.random(
            probability=0.3,
            kinds=("ratelimited", "server_error"),
            seed=7,
            methods=("chat.postMessage", "chat.update"),
        )
        mail.pause()
        ok(emu.slash_command(CAST.employee, CAST.client_channel, ""))
        ok(
            emu.submit_view(
                CAST.employee,
                values={"title": "Internet down", "priority": "critical", "affected": "all"},
            )
        )
        card_ts = _wait_card(stack)
        ok(emu.click(CAST.manager, CAST.tech_channel, card_ts, ids.ASSIGN))
        ok(emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}))
        for n in range(1, 4):
            emu.post_message(CAST.tech1, CAST.tech_channel, f"update number {n}", thread_ts=card_ts)
        ok(emu.click(CAST.tech1, CAST.tech_channel, card_ts, ids.RESOLVE))
        ok(emu.submit_view(CAST.tech1, values={"verification": "tested from two desks"}))
        # Slack side catches up while the mail server is still down.
        stack.wait_delivered_channel("slack", timeout=90)
        assert stack.emu.stats.ratelimited + stack.emu.stats.server_errors > 0
        mail.resume()
        stack.wait_delivered(timeout=90)
        emu.faults.clear()

        thread = [m.text for m in replies(stack, CAST.client_channel, client_root(stack, 1).ts)]
        expected = ["Assigned", "update number 1", "update number 2", "update number 3", "resolved"]
        positions = [
            next(i for i, t in enumerate(thread) if e.lower() in t.lower()) for e in expected
        ]
        assert positions == sorted(positions), thread
        assert len(thread) == len(set(thread)), "a message was delivered twice"
        assert card(stack, 1).ts == card_ts
        assert stack.outbox_counts().get("parked", 0) == 0

        erin = mails_to(stack, "erin@acme.example")
        ids_seen = Counter(m["Message-ID"] for m in erin)
        assert all(n == 1 for n in ids_seen.values()), ids_seen
        bodies = [m.get_body(("plain",)).get_content() for m in erin]
        order = [
            next(i for i, b in enumerate(bodies) if f"update number {n}" in b) for n in (1, 2, 3)
        ]
        assert order == sorted(order)
        assert len(erin) == 1 + 1 + 3 + 1  # received, assigned, 3 updates, resolved


def _wait_card(stack: Stack) -> str:
    from bot.sandbox.stack import wait_until

    found: list[str] = []

    def has_card() -> bool:
        try:
            found.append(card(stack, 1).ts)
            return True
        except AssertionError:
            return False

    wait_until(has_card, 60, lambda: "card never posted")
    return found[-1]
