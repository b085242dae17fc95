"""Tests for bot/alerts/chat.py: monitoring-bot messages in the alerts channel."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.alerts.chat import classify_message
from bot.alerts.model import Alert, AlertStatus
from bot.config.alerts import ChatAlertRules
from tests.alerts.payloads import load

RULES = ChatAlertRules()


def bot_message(
    attachments: list[dict[str, Any]] | None = None,
    *,
    text: str = "",
    ts: str = "1767227000.000600",
    **fields: Any,
) -> dict[str, Any]:
    """A classic incoming-webhook message (subtype bot_message) in the alerts channel."""
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "username": "Alertmanager",
        "bot_id": "B0PROM0001",
        "ts": ts,
        "channel": "C0ALERTS01",
        "event_ts": ts,
        "channel_type": "channel",
    }
    if attachments is not None:
        event["attachments"] = attachments
    event.update(fields)
    return event


def edited(original: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A `message_changed` event: the edited message inside, with the original's ts."""
    message = {k: v for k, v in new.items() if k not in ("channel", "event_ts", "channel_type")}
    message["ts"] = original["ts"]
    message["edited"] = {"user": original.get("user", ""), "ts": "1767227900.000000"}
    previous = {k: v for k, v in original.items() if k not in ("channel", "event_ts")}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C0ALERTS01",
        "channel_type": "channel",
        "ts": "1767227900.001500",
        "event_ts": "1767227900.001500",
        "message": message,
        "previous_message": previous,
    }


def classified(event: dict[str, Any], rules: ChatAlertRules = RULES) -> Alert:
    alert = classify_message(event, rules)
    assert alert is not None
    return alert


# --- Alertmanager slack_configs -----------------------------------------------------------------


def alertmanager_attachment(status: str) -> list[dict[str, Any]]:
    """Alertmanager's slack_configs defaults: colour danger/good, `[FIRING:n]` title."""
    title = {
        "firing": "[FIRING:2] DiskFull db (acme critical)",
        "resolved": "[RESOLVED] DiskFull db (acme critical)",
    }[status]
    return [
        {
            "fallback": f"{title} | http://prom.example/#/alerts?receiver=slack",
            "color": "danger" if status == "firing" else "good",
            "title": title,
            "title_link": "http://prom.example/#/alerts?receiver=slack",
            "text": "*Alert:* Disk 95% full on db1 - `critical`\n*Description:* /var is 95% full",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ]


def test_alertmanager_firing_and_resolved_attachments_share_a_group() -> None:
    fired = classified(bot_message(alertmanager_attachment("firing")))
    resolved = classified(bot_message(alertmanager_attachment("resolved"), ts="1767230600.000700"))

    assert (fired.source, fired.status) == ("slack", AlertStatus.FIRING)
    assert resolved.status is AlertStatus.RESOLVED
    assert fired.group_key == resolved.group_key == "slack:diskfull db (acme critical)"
    assert fired.fingerprint == resolved.fingerprint
    assert fired.title == "DiskFull db (acme critical)"
    assert fired.link == "http://prom.example/#/alerts?receiver=slack"
    assert (fired.message_ts, resolved.message_ts) == ("1767227000.000600", "1767230600.000700")
    assert fired.description == (
        "*Alert:* Disk 95% full on db1 - `critical`\n*Description:* /var is 95% full"
    )


def test_reference_alertmanager_messages_with_hex_colours_without_hash() -> None:
    fired = classified(load("slack_alertmanager_firing"))
    resolved = classified(load("slack_alertmanager_resolved"))

    assert (fired.status, resolved.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert fired.group_key == resolved.group_key
    assert fired.title == "DiskAlmostFull northwind-fs01 (critical)"
    assert fired.severity == "critical"
    assert fired.labels["client"] == "northwind"
    assert fired.labels["instance"] == "northwind-fs01:9100"
    assert fired.link == "https://alertmanager.acme-msp.example/#/alerts?receiver=northwind"


# --- Grafana --------------------------------------------------------------------------------------


def grafana_attachment(status: str) -> list[dict[str, Any]]:
    firing = status == "firing"
    return [
        {
            "color": "#D63232" if firing else "#36a64f",
            "title": ("[FIRING:1] " if firing else "[RESOLVED] ") + "Internet down (HQ)",
            "title_link": "https://grafana.example/alerting/list",
            "text": "Value: B=0\nLabels:\n - alertname = Internet down\n - site = HQ",
            "fields": [
                {"title": "Site", "value": "HQ", "short": True},
                {"title": "Severity", "value": "Critical", "short": True},
            ],
            "footer": "Grafana v10.4.2",
            "footer_icon": "https://grafana.com/static/assets/img/fav32.png",
            "ts": 1764148200,
        }
    ]


def test_grafana_attachment_with_fields() -> None:
    event = bot_message(grafana_attachment("firing"), username="Grafana", bot_id="B0GRAF0001")
    fired = classified(event)
    resolved = classified({**event, "attachments": grafana_attachment("resolved")})

    assert (fired.status, resolved.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert fired.group_key == resolved.group_key == "slack:internet down (hq)"
    assert fired.title == "Internet down (HQ)"
    assert fired.severity == "critical"
    assert fired.labels == {
        "site": "HQ",
        "severity": "Critical",
        "value": "B=0",
        "alertname": "Internet down",  # Grafana's " - name = value" lines
    }
    assert fired.description == (
        "Value: B=0\nLabels:\n - alertname = Internet down\n - site = HQ\n"
        "Site: HQ\nSeverity: Critical"
    )
    assert fired.link == "https://grafana.example/alerting/list"


def test_legacy_grafana_alerting_title_and_fields() -> None:
    alert = classified(load("slack_grafana_legacy"))

    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Contoso VPN latency"
    assert (alert.severity, alert.labels["client"]) == ("warning", "contoso")


# --- Zabbix: a problem message edited into its recovery -----------------------------------------


def zabbix_attachment(title: str, color: str) -> list[dict[str, Any]]:
    return [
        {
            "fallback": title,
            "title": title,
            "color": color,
            "fields": [
                {"title": "Host", "value": "web1 [10.0.0.21]", "short": True},
                {"title": "Severity", "value": "High", "short": True},
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


def zabbix_problem() -> dict[str, Any]:
    """Zabbix's Slack media type posts with a bot token: no subtype, a bot_id and a bot user."""
    event = bot_message(
        zabbix_attachment("Problem: High CPU load on web1", "#E45959"),
        username="Zabbix",
        bot_id="B0ZBX00001",
        user="U0ZBXBOT01",
        ts="1767227400.000900",
    )
    del event["subtype"]
    return event


def test_zabbix_problem_then_its_edit_into_a_recovery() -> None:
    problem = zabbix_problem()
    recovery = {
        **problem,
        "attachments": zabbix_attachment("Resolved in 2m: High CPU load on web1", "#009900"),
    }

    fired = classified(problem)
    resolved = classified(edited(problem, recovery))

    assert (fired.status, resolved.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert fired.group_key == resolved.group_key == "slack:high cpu load on web1"
    assert fired.title == resolved.title == "High CPU load on web1"
    assert fired.message_ts == resolved.message_ts == "1767227400.000900"  # the original's ts
    assert fired.severity == "high"
    assert fired.labels == {
        "host": "web1 [10.0.0.21]",
        "severity": "High",
        "event time": "2026.11.26 09:12:33",
    }
    assert (
        fired.description
        == "Host: web1 [10.0.0.21]\nSeverity: High\nEvent time: 2026.11.26 09:12:33"
    )
    assert fired.link == "https://zabbix.example/tr_events.php?triggerid=1&eventid=2"


def test_script_message_without_a_title_uses_the_fallback() -> None:
    alert = classified(load("slack_script"))

    assert alert.status is AlertStatus.FIRING
    assert alert.title == "fabrikam-pos02 is unreachable"
    assert alert.severity == "high"
    assert alert.labels["event id"] == "884211"
    assert alert.labels["started"] == "2026-01-01 09:55:00"
    assert alert.description.startswith("PROBLEM: Host unreachable\nHost: fabrikam-pos02")


def test_app_message_with_blocks_and_no_subtype() -> None:
    alert = classified(load("slack_datadog"))

    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Adventure Works SQL CPU > 90%"  # Datadog's priority tag is severity
    assert (alert.tool, alert.severity) == ("datadog", "p1")
    assert alert.message_ts == "1767227500.001000"
    assert "host:aw-sql01" in alert.description


# --- what is not an alert -----------------------------------------------------------------------


def test_people_are_ignored_unless_the_rules_allow_them() -> None:
    event = {
        "type": "message",
        "user": "U0TECH0001",
        "text": "Problem: is the VPN DOWN for anyone?",
        "ts": "1767227600.000100",
        "channel": "C0ALERTS01",
    }

    assert classify_message(event, RULES) is None
    alert = classified(event, ChatAlertRules(allow_humans=True))
    assert (alert.status, alert.title) == (AlertStatus.FIRING, "is the VPN DOWN for anyone?")


def test_a_persons_edit_is_ignored() -> None:
    original = {"type": "message", "user": "U0TECH0001", "text": "fine", "ts": "1.000100"}

    assert classify_message(edited(original, {**original, "text": "Problem: DOWN"}), RULES) is None


@pytest.mark.parametrize(
    "event",
    [
        bot_message(text="Weekly report: all systems nominal"),
        bot_message([{"title": "Deploy finished", "color": "#439FE0"}]),
        bot_message([{"text": "Backup size 4 GB"}], text=""),
        bot_message([{"color": "danger"}, {"color": "good"}]),
    ],
)
def test_bot_messages_without_a_signal_are_ignored(event: dict[str, Any]) -> None:
    assert classify_message(event, RULES) is None


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "subtype": "channel_join", "user": "U1", "text": "DOWN", "ts": "1.0"},
        {"type": "message", "subtype": "message_deleted", "deleted_ts": "1.0", "ts": "2.0"},
        {"type": "message", "subtype": "message_changed", "message": "DOWN", "ts": "2.0"},
        {"type": "app_mention", "bot_id": "B1", "text": "FIRING", "ts": "1.0"},
        {**bot_message(text="FIRING"), "subtype": "thread_broadcast"},
    ],
)
def test_other_events_are_ignored(event: dict[str, Any]) -> None:
    assert classify_message(event, RULES) is None


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (frozenset(), True),
        (frozenset({"B0PROM0001"}), True),
        (frozenset({"alertmanager"}), True),  # usernames match case-insensitively
        (frozenset({"Grafana", "B0ZBX00001"}), False),
    ],
)
def test_bot_allowlist(allowed: frozenset[str], expected: bool) -> None:
    event = bot_message(alertmanager_attachment("firing"))

    assert (classify_message(event, ChatAlertRules(bots=allowed)) is not None) is expected


@pytest.mark.parametrize("name", ["Datadog", "A0DDOG0001", "U0DDOGBOT1", "B0DDOG0001"])
def test_app_bots_match_by_profile_name_app_id_bot_user_or_bot_id(name: str) -> None:
    rules = ChatAlertRules(bots=frozenset({name}))

    assert classify_message(load("slack_datadog"), rules) is not None


# --- words, then colours ------------------------------------------------------------------------


def test_the_title_decides_before_the_text() -> None:
    event = bot_message([{"title": "[RESOLVED] Disk full", "text": "was FIRING for 3h"}])

    assert classified(event).status is AlertStatus.RESOLVED


def test_the_colour_breaks_a_tie_between_words() -> None:
    attachment = {"title": "Problem: disk full is OK now", "color": "#36a64f"}

    assert classified(bot_message([attachment])).status is AlertStatus.RESOLVED


def test_without_a_colour_the_first_word_wins() -> None:
    event = bot_message([{"title": "Monitor is UP: shop (it was DOWN for 5 minutes)"}])

    assert classified(event).status is AlertStatus.RESOLVED


def test_problem_resolved_is_a_recovery() -> None:
    event = bot_message([{"title": "Problem has been resolved: High CPU on web1"}])

    alert = classified(event)

    assert alert.status is AlertStatus.RESOLVED
    assert alert.group_key == "slack:high cpu on web1"


@pytest.mark.parametrize(
    ("color", "status"),
    [
        ("danger", AlertStatus.FIRING),
        ("#E45959", AlertStatus.FIRING),
        ("d63232", AlertStatus.FIRING),
        ("good", AlertStatus.RESOLVED),
        ("#00CC00", AlertStatus.RESOLVED),
        ("009900", AlertStatus.RESOLVED),
    ],
)
def test_a_known_colour_alone_is_a_signal(color: str, status: AlertStatus) -> None:
    alert = classified(bot_message([{"title": "Backup job on fs01", "color": color}]))

    assert alert.status is status
    assert alert.title == "Backup job on fs01"


def test_words_are_looked_for_in_fields_blocks_and_the_message_text() -> None:
    field = bot_message([{"title": "Backup", "fields": [{"title": "State", "value": "CRITICAL"}]}])
    block = bot_message(
        blocks=[{"type": "header", "text": {"type": "plain_text", "text": "RESOLVED: x"}}]
    )
    text = bot_message(text="Recovered: queue length back to normal")

    assert classified(field).status is AlertStatus.FIRING
    assert classified(block).status is AlertStatus.RESOLVED
    assert classified(text).title == "queue length back to normal"


def test_custom_words_and_colours() -> None:
    rules = ChatAlertRules(
        firing=re.compile(r"(?i)\bstate=bad\b"),
        resolved=re.compile(r"(?i)\bstate=good\b"),
        firing_colors=frozenset({"#123456"}),
        resolved_colors=frozenset(),
    )

    assert classified(bot_message(text="check disk: STATE=BAD"), rules).status is AlertStatus.FIRING
    assert classify_message(bot_message(text="[FIRING:1] DiskFull"), rules) is None
    assert (
        classified(bot_message([{"title": "x", "color": "123456"}]), rules).status
        is AlertStatus.FIRING
    )
    assert classify_message(bot_message([{"title": "x", "color": "danger"}]), rules) is None


# --- group keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("firing", "resolved"),
    [
        ("[FIRING:2] DiskFull (db)", "[RESOLVED] DiskFull (db)"),
        ("Problem: High CPU on web1", "Resolved in 5m 3s: High CPU on web1"),
        ("Monitor is DOWN: shop", "Monitor is UP: shop"),
        (
            "** PROBLEM Service Alert: web1/HTTP is CRITICAL **",
            "** RECOVERY Service Alert: web1/HTTP is OK **",
        ),
        ("Triggered: [P1] SQL CPU > 90%", "Recovered: [P1] SQL CPU > 90%"),
        ("[Alerting] Contoso VPN latency", "[OK] Contoso VPN latency"),
        ("*[FIRING:1]  Internet down*", "[RESOLVED] Internet  down"),
    ],
)
def test_firing_and_resolved_wordings_give_the_same_key(firing: str, resolved: str) -> None:
    fired = classified(bot_message([{"title": firing}]))
    recovered = classified(bot_message([{"title": resolved}]))

    assert (fired.status, recovered.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert fired.group_key == recovered.group_key
    assert fired.fingerprint == recovered.fingerprint


def test_different_problems_get_different_keys() -> None:
    keys = {
        classified(bot_message([{"title": title}])).group_key
        for title in ("Problem: High CPU on web1", "Problem: High CPU on web2", "[FIRING:1] web1")
    }

    assert len(keys) == 3


def test_a_message_with_only_a_colour_is_named_after_its_sender() -> None:
    alert = classified(bot_message([{"color": "danger"}]))

    assert (alert.title, alert.group_key) == (
        "Alert from B0PROM0001",
        "slack:alert from b0prom0001",
    )


# --- content ------------------------------------------------------------------------------------


def test_slack_links_and_entities_become_plain_text() -> None:
    event = bot_message(
        [
            {
                "title": "Problem: <https://shop.example|shop> &lt;prod&gt; &amp; more",
                "text": "see <https://x.example>",
            }
        ]
    )

    alert = classified(event)

    assert alert.title == "shop <prod> & more"
    assert alert.description == "see https://x.example"


def test_link_falls_back_to_the_first_button() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*DOWN*: api"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": "https://mon.example/1",
                }
            ],
        },
    ]

    alert = classified(bot_message(blocks=blocks))

    assert alert.link == "https://mon.example/1"
    assert "Open" not in alert.description


def test_odd_shapes_are_skipped_not_fatal() -> None:
    event = bot_message() | {
        "attachments": [
            "x",
            {"title": 5, "fields": "nope", "color": 3},
            {"title": "FIRING: disk", "fields": [1]},
        ],
        "blocks": {"type": "section"},
        "text": None,
        "ts": 12,
    }

    alert = classified(event)

    assert (alert.title, alert.message_ts) == ("disk", None)
