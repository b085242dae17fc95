"""Monitoring tools' own Slack messages and webhooks: the title, priority, client and dedup a
technician sees (issue 13). Messages come from tests/acceptance/monitoring_messages.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.alerts.legacy_key import legacy_key_text
from bot.alerts.payload import stable_hash
from bot.alerts.slack_message import read_message
from bot.sandbox.stack import CAST, Stack
from storage.models import AlertGroup, AlertInstance, Client, ClientDomain, Ticket
from tests.acceptance import monitoring_messages as mm
from tests.acceptance.alert_helpers import (
    ALERTS_CHANNEL,
    alert_stack,
    am_alert,
    am_body,
    post,
    tickets,
)
from tests.acceptance.helpers import card, replies

EU = 2  # the second client, "Acme Europe", whose domain eu.acme.test lies inside acme.test


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with alert_stack(database_url) as s:
        with s.rt.sessions.begin() as session:
            session.add(ClientDomain(domain="acme.test", client_id=1))
            europe = Client(name="Acme Europe", created_at=datetime(2026, 1, 1, tzinfo=UTC))
            europe.domains = [ClientDomain(domain="eu.acme.test")]
            session.add(europe)
        yield s


def delivered(delivery: object) -> None:
    assert getattr(delivery, "status", None) == 200, getattr(delivery, "body", delivery)


def bot_post(stack: Stack, username: str, **message: Any) -> str:
    ts, delivery = stack.emu.post_bot_message(
        ALERTS_CHANNEL, username=username, bot_id="B" + username.upper()[:8], **message
    )
    delivered(delivery)
    stack.wait_delivered()
    return ts


def only_ticket(stack: Stack) -> Ticket:
    (t,) = tickets(stack)
    return t


def seen(t: Ticket) -> tuple[str, str, int | None, str | None]:
    return t.title, t.priority, t.client_id, t.client_match


def recovered_in_thread(stack: Stack, ticket_id: int = 1) -> bool:
    thread = replies(stack, CAST.tech_channel, card(stack, ticket_id).ts)
    return "recovered" in thread[-1].text


def card_client(stack: Stack, ticket_id: int = 1) -> str:
    fields = [f["text"] for b in card(stack, ticket_id).blocks for f in b.get("fields", [])]
    (client,) = [f.removeprefix("*Client*\n") for f in fields if f.startswith("*Client*\n")]
    return str(client)


# ---- the alerts channel -------------------------------------------------------------------------


def test_zabbix_problem_then_edited_to_resolved(stack: Stack) -> None:
    ts = bot_post(stack, "Zabbix", attachments=mm.zabbix(resolved=False), subtype=None)
    t = only_ticket(stack)
    assert seen(t) == (
        "High CPU utilization (over 90% for 5m)",
        "high",  # Zabbix "High" is high, not critical
        1,
        "matched host fs01.acme.test",
    )
    assert card_client(stack) == "Acme Corp (matched host fs01.acme.test)"
    delivered(stack.emu.edit_bot_message(ALERTS_CHANNEL, ts, attachments=mm.zabbix(resolved=True)))
    stack.wait_delivered()
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)


@pytest.mark.parametrize(
    ("severity", "priority"),
    [
        ("Disaster", "critical"),
        ("Average", "medium"),
        ("Warning", "medium"),
        ("Information", "low"),
    ],
)
def test_zabbix_severities_have_defaults(stack: Stack, severity: str, priority: str) -> None:
    bot_post(stack, "Zabbix", attachments=mm.zabbix(resolved=False, severity=severity))
    assert only_ticket(stack).priority == priority


@pytest.mark.parametrize("mention_first", [False, True])
def test_uptime_kuma_down_then_up(stack: Stack, mention_first: bool) -> None:
    text, attachments = mm.uptime_kuma(up=False, mention_first=mention_first)
    bot_post(stack, "Uptime Kuma", text=text, attachments=attachments)
    t = only_ticket(stack)
    assert seen(t) == ("Acme shop: 503 Service Unavailable", "critical", None, None)
    assert t.client_unknown
    text, attachments = mm.uptime_kuma(up=True, mention_first=mention_first)
    bot_post(stack, "Uptime Kuma", text=text, attachments=attachments)
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)
    with stack.rt.sessions() as s:
        (key,) = s.scalars(select(AlertGroup.key))
    assert key == "slack:uptime-kuma acme shop"


def test_icinga_problem_then_recovery_and_a_warning(stack: Stack) -> None:
    bot_post(stack, "icinga2", text=mm.icinga(state="CRITICAL"))
    assert seen(only_ticket(stack)) == (
        "fs01.acme.test - Disk /data",
        "critical",
        1,
        "matched host fs01.acme.test",
    )
    bot_post(stack, "icinga2", text=mm.icinga(state="OK", kind="RECOVERY"))
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)
    bot_post(stack, "Nagios", text="PROBLEM - web01.eu.acme.test - HTTP is WARNING")
    second = tickets(stack)[1]
    assert seen(second) == (
        "web01.eu.acme.test - HTTP",
        "high",
        EU,
        "matched host web01.eu.acme.test",
    )


def test_checkmk_service_problem_then_recovery(stack: Stack) -> None:
    bot_post(stack, "checkmk", attachments=mm.checkmk(state="WARNING"))
    assert seen(only_ticket(stack)) == (
        "fs01.eu.acme.test: Filesystem /srv",
        "high",
        EU,  # eu.acme.test is a longer suffix than acme.test
        "matched host fs01.eu.acme.test",
    )
    bot_post(stack, "checkmk", attachments=mm.checkmk(state="OK", kind="RECOVERY"))
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)


def test_checkmk_recognised_by_its_shape_without_a_name(stack: Stack) -> None:
    bot_post(stack, "monitoring", attachments=mm.checkmk(state="CRITICAL"))
    assert only_ticket(stack).title == "fs01.eu.acme.test: Filesystem /srv"


def test_datadog_triggered_then_recovered(stack: Stack) -> None:
    text, blocks = mm.datadog(recovered=False)
    bot_post(stack, "Datadog", text=text, blocks=blocks, subtype=None)
    assert seen(only_ticket(stack)) == (
        "SQL CPU > 90% on sql01.acme.test",
        "high",  # P2
        1,
        "matched host sql01.acme.test",
    )
    text, blocks = mm.datadog(recovered=True)
    bot_post(stack, "Datadog", text=text, blocks=blocks, subtype=None)
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)


def test_grafana_slack_integration_firing_then_resolved(stack: Stack) -> None:
    bot_post(stack, "Grafana", attachments=mm.grafana(resolved=False))
    assert seen(only_ticket(stack)) == (
        "HighMemory (fs01.eu.acme.test:9100 warning)",
        "high",  # severity = warning
        EU,
        "matched instance fs01.eu.acme.test:9100",
    )
    bot_post(stack, "Grafana", attachments=mm.grafana(resolved=True))
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)


def test_severity_map_overrides_a_tool_default(database_url: str) -> None:
    env = {"TICKETBOT_ALERT_SEVERITY_MAP": "zabbix:high=critical,average=low"}
    with alert_stack(database_url, **env) as stack:
        bot_post(stack, "Zabbix", attachments=mm.zabbix(resolved=False))
        bot_post(stack, "Zabbix", text="Problem: Backup failed", attachments=[])
        priorities = [t.priority for t in tickets(stack)]
    assert priorities == ["critical", "critical"]  # tool:severity wins; no severity is critical


def test_an_open_ticket_keyed_by_an_older_release_is_kept(stack: Stack) -> None:
    firing = {"text": "Problem: Backup failed on fs01.acme.test <!here>", "attachments": []}
    ts = bot_post(stack, "Zabbix", **firing)
    old_event = {"type": "message", "subtype": "bot_message", "bot_id": "BZABBIX", **firing}
    message = read_message(old_event, legacy=True)
    assert message is not None
    old_key = legacy_key_text(message)
    assert old_key == "backup failed on fs01.acme.test here"
    old_hash = hashlib.sha256(f"slack:{old_key}".encode()).hexdigest()
    with stack.rt.sessions.begin() as s:  # what the previous release stored for this alert
        s.execute(update(AlertGroup).values(key=f"slack:{old_key}", key_hash=old_hash))
        s.execute(update(AlertInstance).values(fingerprint=stable_hash(["slack", old_key])))
    recovered = {"text": "Resolved: Backup failed on fs01.acme.test <!here>", "attachments": []}
    delivered(stack.emu.edit_bot_message(ALERTS_CHANNEL, ts, **recovered))
    stack.wait_delivered()
    assert len(tickets(stack)) == 1 and recovered_in_thread(stack)
    with stack.rt.sessions() as s:
        (key,) = s.scalars(select(AlertGroup.key))
    assert key == "slack:backup failed on fs01.acme.test"


# ---- webhooks without a client label ------------------------------------------------------------


def test_alertmanager_alert_matched_by_its_instance(stack: Stack) -> None:
    body = am_body(am_alert("fs01.eu.acme.test:9100", client=None, summary="Disk 95% full"))
    assert post(stack, "/alerts/alertmanager", body).status == 200
    stack.wait_delivered()
    assert seen(only_ticket(stack)) == (
        "Disk 95% full",
        "critical",
        EU,
        "matched instance fs01.eu.acme.test:9100",
    )
    assert card_client(stack) == "Acme Europe (matched instance fs01.eu.acme.test:9100)"


def test_grafana_webhook_matched_by_a_url_label(stack: Stack) -> None:
    alert = {
        "status": "firing",
        "labels": {"alertname": "Shop probe failed", "url": "https://shop.acme.test/cart?x=1"},
        "annotations": {"summary": "[FIRING:1] <!channel> Shop probe failed"},
        "startsAt": "2026-12-03T09:10:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "ab12",
    }
    body = {"status": "firing", "alerts": [alert], "groupLabels": {}, "version": "1"}
    assert post(stack, "/alerts/grafana", body).status == 200
    stack.wait_delivered()
    assert seen(only_ticket(stack)) == (
        "Shop probe failed",
        "critical",
        1,
        "matched url https://shop.acme.test/cart",  # no query string: it may hold a secret
    )


def test_generic_alert_matched_by_its_text_and_an_ip_never(stack: Stack) -> None:
    ip_only = {"title": "10.20.0.5 unreachable", "labels": {"host": "10.20.0.5"}}
    by_text = {"title": "Backup failed on nas01.acme.test", "severity": "warning"}
    assert post(stack, "/alerts/generic", [ip_only, by_text]).status == 200
    stack.wait_delivered()
    first, second = tickets(stack)
    assert (first.client_id, first.client_unknown, first.client_match) == (None, True, None)
    assert seen(second) == (
        "Backup failed on nas01.acme.test",
        "high",
        1,
        "matched host nas01.acme.test",
    )


def test_an_explicit_label_still_wins_and_says_so(stack: Stack) -> None:
    body = am_body(am_alert("fs01.eu.acme.test:9100", client="acme"))
    assert post(stack, "/alerts/alertmanager", body).status == 200
    stack.wait_delivered()
    t = only_ticket(stack)
    assert (t.client_id, t.client_match) == (1, "label client=acme")


def test_the_card_escapes_how_the_client_was_found(stack: Stack) -> None:
    alert = {"title": "Backup job failed", "description": "see https://nas01.acme.test/j/a&b<c"}
    assert post(stack, "/alerts/generic", alert).status == 200
    stack.wait_delivered()
    assert only_ticket(stack).client_match == "matched URL https://nas01.acme.test/j/a&b"
    assert card_client(stack) == "Acme Corp (matched URL https://nas01.acme.test/j/a&amp;b)"
