"""Debian's real `prometheus-alertmanager` sending its webhooks to the real bot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.sandbox.alertmanager import AlertmanagerProcess, alertmanager_binary
from bot.sandbox.stack import CAST, Stack, wait_until
from storage.models import AlertGroup, AlertInstance, Ticket
from tests.acceptance.alert_helpers import TOKEN, alert_root, alert_stack, tickets
from tests.acceptance.helpers import block_text, card, mails_to, replies

pytestmark = pytest.mark.skipif(
    alertmanager_binary() is None,
    reason="Debian's prometheus-alertmanager is not installed (.ci/run installs it)",
)

DISK = {"alertname": "DiskFull", "service": "db", "severity": "critical", "client": "acme"}
LOAD = {"alertname": "HighLoad", "service": "web", "severity": "critical", "client": "acme"}


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with alert_stack(database_url) as s:
        yield s


def scalar(stack: Stack, query: object) -> int:
    with stack.rt.sessions() as s:
        return int(s.scalar(query) or 0)  # type: ignore[call-overload]


def test_real_alertmanager_groups_repeats_and_recoveries(stack: Stack) -> None:
    url = f"{stack.base_url}/alerts/alertmanager"
    with AlertmanagerProcess(
        url, bearer_token=TOKEN, group_wait=0.5, group_interval=1, repeat_interval=2
    ) as am:
        am.fire(
            {**DISK, "instance": "db1:9100"},
            {"summary": "Disk 95% full on db1"},
            generator_url="http://prom.example/graph?g0.expr=disk",
        )
        wait_until(lambda: len(tickets(stack)) == 1, 20, am.log_tail)
        stack.wait_delivered()
        (first,) = tickets(stack)
        assert (first.source, first.priority, first.client_id) == ("monitoring", "critical", 1)
        assert "<!here>" in card(stack, 1).text + block_text(card(stack, 1).blocks)
        assert "Monitoring raised ticket #1" in alert_root(stack, 1).text
        assert all(mails_to(stack, a) for a in ("tom@msp.example", "tara@msp.example"))

        am.fire({**DISK, "instance": "db2:9100"}, {"summary": "Disk 97% full on db2"})
        am.fire({**LOAD, "instance": "web1:9100"}, {"summary": "Load 40 on web1"})
        wait_until(
            lambda: scalar(stack, select(func.count()).select_from(AlertInstance)) == 3,
            20,
            am.log_tail,
        )
        sent = scalar(stack, select(func.sum(AlertGroup.notifications)))
        # Alertmanager repeats both groups every repeat_interval: counted, never a new ticket.
        wait_until(
            lambda: scalar(stack, select(func.sum(AlertGroup.notifications))) >= sent + 2,
            20,
            am.log_tail,
        )
        stack.wait_delivered()
        assert [t.title for t in tickets(stack)] == ["Disk 95% full on db1", "Load 40 on web1"]
        thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
        joined = [m for m in thread if "joined" in m.text]
        assert len(joined) == 1 and "db2" in block_text(joined[0].blocks)

        am.resolve({**DISK, "instance": "db1:9100"})
        am.resolve({**DISK, "instance": "db2:9100"})
        wait_until(
            lambda: (
                scalar(
                    stack,
                    select(func.count())
                    .select_from(AlertGroup)
                    .where(AlertGroup.ticket_id == 1, AlertGroup.status == "resolved"),
                )
                == 1
            ),
            20,
            am.log_tail,
        )
    stack.wait_delivered()
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert any("recovered" in m.text and "stays open" in m.text for m in thread)
    client_thread = replies(stack, CAST.client_channel, alert_root(stack, 1).ts)
    assert "recovered" in client_thread[-1].text
    assert len(tickets(stack)) == 2
    with stack.rt.sessions() as s:
        states = dict(s.execute(select(Ticket.id, Ticket.state)).all())
    assert states == {1: "new", 2: "new"}  # recovery never closes: confirmation still needed
