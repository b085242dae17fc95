"""An alert storm: many new problems at once fold into one summary message, and no 429 is hit."""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from bot.sandbox.stack import CAST, Stack
from storage.models import AlertStorm, AlertStormTicket, ChatMessage
from tests.acceptance.alert_helpers import alert_stack, am_alert, am_body, post, tickets
from tests.acceptance.helpers import block_text, bot_messages, mails_to

THRESHOLD = 5
PROBLEMS = 60


def storm_summaries(stack: Stack) -> list[object]:
    return [m for m in bot_messages(stack, CAST.tech_channel) if "Alert storm" in m.text]


def listed(message: object) -> set[int]:
    return {int(n) for n in re.findall(r"\*#(\d+)\*", block_text(getattr(message, "blocks", [])))}


def test_a_storm_folds_into_one_summary_within_slacks_rate_limits(database_url: str) -> None:
    env = {"TICKETBOT_ALERT_STORM_THRESHOLD": str(THRESHOLD)}
    with alert_stack(database_url, **env) as stack:
        stack.emu.enforce_rate_limits = True
        for batch in range(PROBLEMS // 10):  # ten problems per notification, as the benchmark does
            alerts = [
                am_alert(f"host{batch}-{i}:9100", alertname=f"Problem{batch * 10 + i}")
                for i in range(10)
            ]
            body = am_body(*alerts)
            body["groupLabels"] = {"alertname": alerts[0]["labels"]["alertname"], "service": "db"}
            answer = post(stack, "/alerts/alertmanager", body)
            assert answer.status == 200, answer.text
        assert len(tickets(stack)) == PROBLEMS

        def summary_complete() -> bool:
            found = storm_summaries(stack)
            return len(found) == 1 and len(listed(found[0])) >= PROBLEMS - THRESHOLD

        stack.emu.wait_for(summary_complete, 30, description="the storm summary lists the storm")
        (summary,) = storm_summaries(stack)
        with stack.rt.sessions() as s:
            top_level_cards = {
                row.ticket_id
                for row in s.scalars(select(ChatMessage).where(ChatMessage.role == "card"))
                if row.thread_ts is None
            }
        assert len(top_level_cards) <= THRESHOLD
        assert top_level_cards | listed(summary) == {t.id for t in tickets(stack)}
        top_level = [
            m
            for m in bot_messages(stack, CAST.tech_channel)
            if not m.thread_ts or m.thread_ts == m.ts
        ]
        assert len(top_level) <= THRESHOLD + 1  # the channel is not buried
        assert summary.updates, "the summary is updated in place, not re-posted"
        assert stack.emu.stats.ratelimited == 0

        def storm_dms() -> list[object]:
            return [m for m in stack.emu.dms(CAST.manager) if "Alert storm" in m.text]

        stack.emu.wait_for(storm_dms, 30)  # the manager's DM may come after the summary
        assert len(storm_dms()) == 1
        stack.wait_delivered_channel("email", 60)
        subjects = {m["Subject"] for m in mails_to(stack, "tom@msp.example")}
        for t in tickets(stack):  # every ticket's critical email still goes to every technician
            assert any(s.startswith(f"[#{t.id}]") for s in subjects), t.id


def test_concurrent_deliveries_make_one_storm_that_shows_every_ticket(database_url: str) -> None:
    """Eight notifications at once from eight connections: one storm, its count exact, and
    its summary (refreshed while they commit) ends up listing every ticket it holds."""
    env = {"TICKETBOT_ALERT_STORM_THRESHOLD": str(THRESHOLD)}
    with alert_stack(database_url, **env) as stack:
        stack.emu.enforce_rate_limits = True
        bodies = []
        for batch in range(8):
            alerts = [
                am_alert(f"host{batch}-{i}:9100", alertname=f"Concurrent{batch * 5 + i}")
                for i in range(5)
            ]
            bodies.append(am_body(*alerts))
        answers: list[int] = []
        start = threading.Barrier(len(bodies))

        def deliver(body: dict[str, object]) -> None:
            start.wait(10)
            answers.append(post(stack, "/alerts/alertmanager", body).status)

        threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert answers == [200] * len(bodies)
        opened = {t.id for t in tickets(stack)}
        assert len(opened) == 40
        with stack.rt.sessions() as s:
            storms = s.scalars(select(AlertStorm)).all()
            assert len(storms) == 1, "concurrent deliveries each started a storm"
            held = set(s.scalars(select(AlertStormTicket.ticket_id)))
            assert storms[0].ticket_count == len(held), "a concurrent count was lost"
        assert held <= opened and len(held) >= len(opened) - THRESHOLD

        def summary_lists_all() -> bool:
            found = storm_summaries(stack)
            return len(found) == 1 and listed(found[0]) == held

        stack.emu.wait_for(summary_lists_all, 30, description="the summary lists the storm")
        assert stack.emu.stats.ratelimited == 0
