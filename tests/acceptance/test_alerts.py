"""Monitoring alerts through the real HTTP endpoints: tickets, dedup, recovery, bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text, update

from bot.sandbox.stack import CAST, Stack
from storage.models import AlertInstance, Ticket, TicketEvent
from tests.acceptance.alert_helpers import (
    alert_root,
    alert_stack,
    am_alert,
    am_body,
    group_notifications,
    post,
    tickets,
)
from tests.acceptance.helpers import (
    assign,
    block_text,
    bot_messages,
    card,
    mails_to,
    replies,
)

TECH_EMAILS = {"maya@msp.example", "tom@msp.example", "tara@msp.example"}
CONTACT = "carl@acme.example"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with alert_stack(database_url) as s:
        yield s


def mrkdwn_texts(value: object) -> list[str]:
    """Every mrkdwn text object in a Block Kit structure (the ones Slack parses for links)."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return [str(value.get("text", ""))]
        return [t for v in value.values() for t in mrkdwn_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    if isinstance(value, str) and value.startswith("["):
        import json

        try:
            return mrkdwn_texts(json.loads(value))
        except ValueError:
            return [value]
    return []


def accepted(answer: object) -> dict[str, object]:
    status = getattr(answer, "status", None)
    assert status == 200, getattr(answer, "text", answer)
    data = getattr(answer, "json", None)
    assert isinstance(data, dict)
    return data


# ---- Alertmanager -------------------------------------------------------------------------------
def test_a_firing_group_opens_one_critical_ticket_with_the_critical_workflow(stack: Stack) -> None:
    data = accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100"))))
    assert data["created"] == [1]
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert (t.source, t.priority, t.state, t.client_id) == ("monitoring", "critical", "new", 1)
    assert t.title == "Disk 95% full on db1"
    assert t.source_link == "http://prom.example/graph?g0.expr=disk"
    c = card(stack, 1)
    shown = block_text(c.blocks)
    assert "Raised by monitoring" in shown and "prom.example" in shown
    assert "<!here>" in c.text + shown  # the configured critical mention, once, on the card
    root = alert_root(stack, 1)
    assert "Monitoring raised ticket #1" in root.text
    for address in TECH_EMAILS:
        assert any(
            "Critical" in m["Subject"] or "#1" in m["Subject"] for m in mails_to(stack, address)
        )
    assert mails_to(stack, CONTACT), "the client's primary contact is told by email"
    assert any("#1" in m.text for m in stack.emu.dms(CAST.manager))


def test_repeats_add_no_noise_and_a_joining_alert_is_one_update(stack: Stack) -> None:
    body = am_body(am_alert("db1:9100"))
    accepted(post(stack, "/alerts/alertmanager", body))
    stack.wait_delivered()
    thread_before = len(replies(stack, CAST.tech_channel, card(stack, 1).ts))
    calls_before = len(stack.emu.calls_to("chat.postMessage"))
    for _ in range(3):  # Alertmanager's repeat_interval resends the same group
        assert accepted(post(stack, "/alerts/alertmanager", body))["created"] == []
    stack.wait_delivered()
    assert len(tickets(stack)) == 1
    assert group_notifications(stack) == 4
    assert len(stack.emu.calls_to("chat.postMessage")) == calls_before
    status = stack.emu.slash_command(CAST.tech1, CAST.tech_channel, "status 1")
    assert "1 of 1 alert(s) firing · 4 notification(s)" in block_text(status.json)
    grown = am_body(am_alert("db1:9100"), am_alert("db2:9100", summary="Disk 97% full on db2"))
    data = accepted(post(stack, "/alerts/alertmanager", grown))
    assert (data["created"], data["updated"]) == ([], [1])
    stack.wait_delivered()
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    new = thread[thread_before:]
    assert len(new) == 1 and "joined" in new[0].text
    assert "db2" in block_text(new[0].blocks)
    assert len(tickets(stack)) == 1


def test_recovery_is_an_update_and_the_ticket_waits_for_confirmation(stack: Stack) -> None:
    accepted(
        post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100"), am_alert("db2:9100")))
    )
    stack.wait_delivered()
    assign(stack, 1, CAST.tech1)
    partly = am_body(am_alert("db1:9100", status="resolved"), am_alert("db2:9100"))
    accepted(post(stack, "/alerts/alertmanager", partly))
    stack.wait_delivered()
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert "still firing" in thread[-1].text
    mails_before = len(mails_to(stack, CONTACT))
    done = am_body(am_alert("db2:9100", status="resolved"))
    accepted(post(stack, "/alerts/alertmanager", done))
    stack.wait_delivered()
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert "recovered" in thread[-1].text and "stays open" in thread[-1].text
    client_thread = replies(stack, CAST.client_channel, alert_root(stack, 1).ts)
    assert "recovered" in client_thread[-1].text
    assert len(mails_to(stack, CONTACT)) == mails_before + 1
    assert any("verify" in m.text for m in stack.emu.dms(CAST.tech1))
    (t,) = tickets(stack)
    assert t.state == "assigned"  # monitoring never closes a ticket
    with stack.rt.sessions() as s:
        kinds = list(s.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == 1)))
    assert "alert_recovered" in kinds


def test_firing_again_while_open_is_an_update_and_after_close_a_new_linked_ticket(
    stack: Stack,
) -> None:
    accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100"))))
    accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100", status="resolved"))))
    data = accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100"))))
    assert (data["created"], data["updated"]) == ([], [1])
    stack.wait_delivered()
    client_thread = replies(stack, CAST.client_channel, alert_root(stack, 1).ts)
    assert "Firing again" in client_thread[-1].text
    with stack.rt.sessions.begin() as s:  # the client confirmed the fix
        s.execute(update(Ticket).where(Ticket.id == 1).values(state="closed"))
    data = accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100"))))
    assert data["created"] == [2]
    stack.wait_delivered()
    second = tickets(stack)[1]
    assert "#1" in second.description
    assert "#1" in block_text(alert_root(stack, 2).blocks)


def test_severity_map_and_an_alert_without_a_client(stack: Stack) -> None:
    body = am_body(am_alert("web1:9100", severity="warning", client=None, alertname="HighLoad"))
    accepted(post(stack, "/alerts/alertmanager", body))
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert (t.priority, t.client_id, t.client_unknown) == ("high", None, True)
    assert "<!here>" not in card(stack, 1).text
    dms = stack.emu.dms(CAST.manager)
    assert any("matched no client" in m.text for m in dms)
    assert not mails_to(stack, "tom@msp.example")  # not critical: no all-technician email


def test_alert_text_cannot_ping_anyone(stack: Stack) -> None:
    evil = "<!channel> @here disk full <!subteam^S1|@all> <https://evil.example|click>"
    accepted(post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100", summary=evil))))
    stack.wait_delivered()
    for call in stack.emu.calls:
        if call.method.startswith("chat."):
            sent = str(call.params.get("text", "")) + str(call.params.get("blocks", ""))
            assert "<!channel>" not in sent and "<!subteam" not in sent
            parsed = [str(call.params.get("text", "")), *mrkdwn_texts(call.params.get("blocks"))]
            assert not any("<https://evil" in t for t in parsed)  # plain_text shows it literally


# ---- Grafana and generic ------------------------------------------------------------------------
GRAFANA = {
    "receiver": "ticketbot",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Internet down", "client": "acme", "site": "HQ"},
            "annotations": {"summary": "WAN link at HQ is down"},
            "startsAt": "2026-11-26T09:10:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example/alerting/grafana/abc/view",
            "fingerprint": "a1b2c3d4e5f60718",
            "silenceURL": "https://grafana.example/alerting/silence/new",
            "dashboardURL": "https://grafana.example/d/wan",
            "panelURL": "https://grafana.example/d/wan?viewPanel=2",
            "values": {"B": 0, "C": 1},
        }
    ],
    "groupLabels": {"alertname": "Internet down"},
    "commonLabels": {"alertname": "Internet down", "client": "acme", "site": "HQ"},
    "commonAnnotations": {"summary": "WAN link at HQ is down"},
    "externalURL": "https://grafana.example/",
    "version": "1",
    "groupKey": '{}/{client="acme"}:{alertname="Internet down"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] Internet down (acme HQ)",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=0, C=1",
}


def test_grafana_firing_then_resolved(stack: Stack) -> None:
    assert accepted(post(stack, "/alerts/grafana", GRAFANA))["created"] == [1]
    resolved = {
        **GRAFANA,
        "status": "resolved",
        "state": "ok",
        "title": "[RESOLVED] Internet down (acme HQ)",
        "alerts": [
            {**GRAFANA["alerts"][0], "status": "resolved", "endsAt": "2026-11-26T09:40:00Z"}  # type: ignore[index]
        ],
    }
    assert accepted(post(stack, "/alerts/grafana", resolved))["updated"] == [1]
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert (t.title, t.client_id, t.state) == ("WAN link at HQ is down", 1, "new")
    client_thread = replies(stack, CAST.client_channel, alert_root(stack, 1).ts)
    assert "recovered" in client_thread[-1].text


def test_generic_firing_then_resolved_by_dedup_key(stack: Stack) -> None:
    firing = {
        "title": "Backup job failed on fileserver",
        "status": "firing",
        "severity": "critical",
        "dedup_key": "backup-fileserver",
        "client": "Acme Corp",
        "description": "Veeam job 'nightly' failed: disk quota exceeded",
        "link": "https://backup.example/jobs/42",
    }
    assert accepted(post(stack, "/alerts/generic", firing))["created"] == [1]
    assert accepted(post(stack, "/alerts/generic", firing))["created"] == []
    resolved = {**firing, "status": "resolved"}
    assert accepted(post(stack, "/alerts/generic", resolved))["updated"] == [1]
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert (t.client_id, t.source_link) == (1, "https://backup.example/jobs/42")
    assert "quota" in t.description


# ---- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "body", "status", "words"),
    [
        (None, {"title": "x"}, 401, "Bearer"),
        ("wrong-token", {"title": "x"}, 401, "Bearer"),
        ("TOKEN", b"{not json", 400, "not valid JSON"),
        ("TOKEN", b"[1, 2", 400, "not valid JSON"),
        ("TOKEN", {"title": ""}, 422, "title"),
        ("TOKEN", {"title": "x", "status": "maybe"}, 422, "status"),
        ("TOKEN", {"title": "x", "labels": {"a": 1}}, 422, "labels"),
        ("TOKEN", [], 200, "ok"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_store_nothing(
    stack: Stack, token: str | None, body: object, status: int, words: str
) -> None:
    from tests.acceptance.alert_helpers import TOKEN

    answer = post(stack, "/alerts/generic", body, token=TOKEN if token == "TOKEN" else token)
    assert answer.status == status, answer.text
    assert words in answer.text
    assert "Traceback" not in answer.text
    assert tickets(stack) == []


def test_oversized_and_malformed_alertmanager_bodies(stack: Stack) -> None:
    huge = b'{"alerts": ["' + b"x" * (5 * 1024 * 1024) + b'"]}'
    answer = post(stack, "/alerts/alertmanager", huge)
    assert answer.status == 413
    answer = post(stack, "/alerts/alertmanager", {"version": "4", "alerts": [{"labels": "x"}]})
    assert answer.status == 422 and "alerts[0]" in answer.text
    assert tickets(stack) == []


def test_our_own_failure_is_a_5xx_so_the_sender_retries(stack: Stack) -> None:
    with stack.rt.engine.begin() as conn:  # a broken database: the instances table is gone
        conn.execute(text("DROP TABLE alert_instances"))
    answer = post(stack, "/alerts/alertmanager", am_body(am_alert("db1:9100")))
    assert answer.status == 503 and "retry" in answer.text
    assert tickets(stack) == []  # nothing half-stored


def test_alerts_are_counted_in_the_database_once_each(stack: Stack) -> None:
    body = am_body(*(am_alert(f"db{i}:9100") for i in range(30)))
    assert accepted(post(stack, "/alerts/alertmanager", body))["alerts"] == 30
    stack.wait_delivered()
    with stack.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AlertInstance)) == 30
    assert bot_messages(stack, CAST.tech_channel)
