"""Monitoring bots posting in the alerts channel: three real-world styles, firing and recovery."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.stack import CAST, Stack
from tests.acceptance.alert_helpers import ALERTS_CHANNEL, alert_stack, tickets
from tests.acceptance.helpers import card, replies


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with alert_stack(database_url) as s:
        yield s


def delivered(delivery: object) -> None:
    assert getattr(delivery, "status", None) == 200, getattr(delivery, "body", delivery)


def am_slack_attachment(status: str) -> list[dict[str, object]]:
    """Alertmanager's `slack_configs` defaults: colour danger/good, `[FIRING:n]` title."""
    firing = status == "firing"
    title = (
        "[FIRING:1] DiskFull db (acme critical)"
        if firing
        else "[RESOLVED] DiskFull db (acme critical)"
    )
    return [
        {
            "fallback": title + " | http://prom.example/#/alerts?receiver=slack",
            "color": "danger" if firing else "good",
            "title": title,
            "title_link": "http://prom.example/#/alerts?receiver=slack",
            "text": "*Alert:* Disk 95% full on db1 - `critical`\n*Description:* /var is 95% full",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ]


def grafana_attachment(status: str) -> list[dict[str, object]]:
    firing = status == "firing"
    return [
        {
            "color": "#D63232" if firing else "#36a64f",
            "title": ("[FIRING:1] " if firing else "[RESOLVED] ") + "Internet down (HQ)",
            "title_link": "https://grafana.example/alerting/list",
            "text": "**Firing**\n\nValue: B=0\nLabels:\n - alertname = Internet down\n - site = HQ",
            "fields": [{"title": "Site", "value": "HQ", "short": True}],
            "footer": "Grafana v10.4.2",
            "footer_icon": "https://grafana.com/static/assets/img/fav32.png",
            "ts": 1764148200,
        }
    ]


def zabbix_attachment(resolved: bool) -> list[dict[str, object]]:
    title = (
        "Resolved in 4m 12s: High CPU load on web1"
        if resolved
        else "Problem: High CPU load on web1"
    )
    return [
        {
            "fallback": title,
            "title": title,
            "color": "#009900" if resolved else "#E45959",
            "fields": [
                {"title": "Host", "value": "web1 [10.0.0.21]", "short": True},
                {"title": "Severity", "value": "Disaster", "short": True},
                {"title": "Event time", "value": "2026.11.26 09:12:33", "short": True},
            ],
            "actions": [
                {
                    "type": "button",
                    "text": "Open in Zabbix",
                    "url": "https://zabbix.example/tr_events.php?triggerid=1&eventid=2",
                }
            ],
        }
    ]


def test_alertmanager_slack_attachments_open_and_recover(stack: Stack) -> None:
    _, d = stack.emu.post_bot_message(ALERTS_CHANNEL, attachments=am_slack_attachment("firing"))
    delivered(d)
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert (t.source, t.priority) == ("monitoring", "critical")
    assert "DiskFull" in t.title
    _, d = stack.emu.post_bot_message(ALERTS_CHANNEL, attachments=am_slack_attachment("resolved"))
    delivered(d)
    stack.wait_delivered()
    assert len(tickets(stack)) == 1
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert "recovered" in thread[-1].text


def test_grafana_attachment_with_fields_open_and_recover(stack: Stack) -> None:
    _, d = stack.emu.post_bot_message(
        ALERTS_CHANNEL, attachments=grafana_attachment("firing"), username="Grafana", bot_id="BGRAF"
    )
    delivered(d)
    _, d = stack.emu.post_bot_message(
        ALERTS_CHANNEL,
        attachments=grafana_attachment("resolved"),
        username="Grafana",
        bot_id="BGRAF",
    )
    delivered(d)
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert "Internet down" in t.title and t.state == "new"
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert "recovered" in thread[-1].text


def test_zabbix_problem_edited_to_resolved(stack: Stack) -> None:
    ts, d = stack.emu.post_bot_message(
        ALERTS_CHANNEL,
        attachments=zabbix_attachment(resolved=False),
        username="Zabbix",
        bot_id="BZBX",
        subtype=None,  # a modern app posting with its bot token
    )
    delivered(d)
    stack.wait_delivered()
    (t,) = tickets(stack)
    assert "High CPU load on web1" in t.title
    assert t.source_link and t.source_link.startswith("https://zabbix.example/")
    delivered(stack.emu.edit_bot_message(ALERTS_CHANNEL, ts, attachments=zabbix_attachment(True)))
    stack.wait_delivered()
    assert len(tickets(stack)) == 1
    thread = replies(stack, CAST.tech_channel, card(stack, 1).ts)
    assert "recovered" in thread[-1].text


def test_people_and_our_own_posts_in_the_alerts_channel_make_no_ticket(stack: Stack) -> None:
    _, d = stack.emu.post_message(
        CAST.tech1, ALERTS_CHANNEL, "Problem: is the VPN DOWN for anyone?"
    )
    delivered(d)
    _, d = stack.emu.post_bot_message(ALERTS_CHANNEL, text="Weekly report: all systems nominal")
    delivered(d)
    _, d = stack.emu.post_bot_message(
        ALERTS_CHANNEL,
        attachments=am_slack_attachment("firing"),
        bot_id=stack.emu.bot_id,
        username="ticketbot",
    )
    delivered(d)
    stack.wait_delivered()
    assert tickets(stack) == []
