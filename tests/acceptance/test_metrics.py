"""GET /metrics after a scripted workflow, parsed with prometheus_client's own parser: the
figures match the database (open tickets, created and closed by source, the outbox)."""

from __future__ import annotations

import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.domain.tickets import OPEN_STATES
from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from storage.models import OutboxRow, Ticket
from tests.acceptance.alert_helpers import alert_stack, am_alert, am_body, post
from tests.acceptance.helpers import actions_in, assign, card, client_root, ok, open_critical

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with alert_stack(database_url) as s:
        yield s


def scrape(stack: Stack) -> Samples:
    with urllib.request.urlopen(f"{stack.base_url}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def by_label(samples: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    found = {}
    for (sample, pairs), value in samples.items():
        if sample == name:
            named = dict(pairs)
            found[tuple(named[label] for label in labels)] = value
    return found


def _close(stack: Stack, tid: int) -> None:
    ok(stack.emu.click(CAST.tech1, CAST.tech_channel, card(stack, tid).ts, ids.RESOLVE))
    ok(stack.emu.submit_view(CAST.tech1, values={"verification": "printer prints again"}))
    stack.wait_delivered()
    thread = stack.emu.replies(CAST.client_channel, client_root(stack, tid).ts)
    confirm = [m for m in thread if ids.CONFIRM in actions_in(m.blocks)][-1]
    ok(stack.emu.click(CAST.employee, CAST.client_channel, confirm.ts, ids.CONFIRM))
    stack.wait_delivered()


def test_metrics_after_a_workflow_match_the_database(stack: Stack) -> None:
    ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, "printer on floor 3 jammed"))
    critical = open_critical(stack)
    quick = critical - 1
    answer = post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100")))
    assert answer.status == 200 and len(answer.json["created"]) == 1
    # Slack refuses the DM to the assignee for good: the row is parked, the error counted.
    stack.emu.faults.add("chat.postMessage", "account_inactive", channel=CAST.tech1)
    assign(stack, quick)
    _close(stack, quick)
    assign(stack, critical, CAST.tech2)
    stack.wait_delivered()

    samples = scrape(stack)

    with stack.rt.sessions() as s:
        open_rows = s.execute(
            select(Ticket.priority, Ticket.state, func.count())
            .where(Ticket.state.in_([st.value for st in OPEN_STATES]))
            .group_by(Ticket.priority, Ticket.state)
        ).all()
        sources = Counter(s.scalars(select(Ticket.source)))
        closed = Counter(s.scalars(select(Ticket.source).where(Ticket.state == "closed")))
        waiting = s.execute(
            select(OutboxRow.channel, OutboxRow.status, func.count())
            .where(OutboxRow.status.in_(("pending", "sending", "parked")))
            .group_by(OutboxRow.channel, OutboxRow.status)
        ).all()
    expected_open = {(p, st): float(n) for p, st, n in open_rows}
    assert expected_open == {
        ("critical", "assigned"): 1.0,
        ("critical", "new"): 1.0,  # the alert's ticket
    }
    assert by_label(samples, "ticketbot_open_tickets", "priority", "state") == expected_open
    assert sources == {"slack": 2, "monitoring": 1}
    created = by_label(samples, "ticketbot_tickets_created_total", "source")
    assert created == {(k,): float(v) for k, v in sources.items()}
    assert by_label(samples, "ticketbot_tickets_closed_total", "source") == {("slack",): 1.0}
    assert closed == {"slack": 1}
    assert {(c, st): float(n) for c, st, n in waiting} == {("slack", "parked"): 1.0}
    rows = by_label(samples, "ticketbot_outbox_rows", "channel", "status")
    assert rows == {("slack", "parked"): 1.0}
    assert by_label(samples, "ticketbot_outbox_parked_total", "channel") == {("slack",): 1.0}
    errors = by_label(samples, "ticketbot_api_errors_total", "surface", "kind")
    assert errors == {("slack", "account_inactive"): 1.0}

    assert by_label(samples, "ticketbot_time_to_assign_seconds_count", "priority") == {
        ("medium",): 1.0,
        ("critical",): 1.0,
    }
    assert by_label(samples, "ticketbot_time_to_resolve_seconds_count", "priority") == {
        ("medium",): 1.0
    }
    acks = by_label(samples, "ticketbot_ack_seconds_count", "surface")
    assert acks[("alerts",)] == 1.0
    assert acks[("slack",)] == float(len(stack.emu.deliveries))
    assert acks[("teams",)] == 0.0
    statuses = by_label(samples, "ticketbot_alert_requests_total", "source", "status")
    assert statuses == {("alertmanager", "200"): 1.0}
    assert samples[("ticketbot_alerts_total", ())] == 1.0
    assert samples[("ticketbot_timers_overdue", ())] == 0.0
