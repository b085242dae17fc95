"""Tests for bot/alerts/grafana.py: unified alerting (Grafana's own example) and legacy bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.alerts.grafana import parse_grafana
from bot.alerts.model import AlertPayloadError, AlertStatus
from tests.alerts.payloads import load


def unified(**alert_changes: Any) -> dict[str, Any]:
    body = load("grafana_unified")
    body["alerts"][0].update(alert_changes)
    return body


def legacy(**changes: Any) -> dict[str, Any]:
    body = load("grafana_legacy")
    body.update(changes)
    return body


def error_of(body: object) -> str:
    with pytest.raises(AlertPayloadError) as info:
        parse_grafana(body)
    return str(info.value)


# --- unified alerting ---------------------------------------------------------------------------


def test_unified_body_gives_one_alert_per_entry_in_grafanas_group() -> None:
    memory, cpu = parse_grafana(load("grafana_unified"))

    assert (memory.source, memory.status) == ("grafana", AlertStatus.FIRING)
    assert memory.group_key == cpu.group_key == "grafana:{}:{}"  # groupKey "{}:{}": one group
    assert (memory.fingerprint, cpu.fingerprint) == ("c6eadffa33fcdf37", "bc97ff14869b13e3")
    assert memory.title == "This alert was triggered for zone us-1"
    assert memory.description == (
        "The system has high memory usage\n\n"
        "runbook_url: https://myrunbook.com/runbook/1234\n"
        "Values: B=44.23943737541908, C=1"
    )
    assert memory.link == "https://play.grafana.org/alerting/1afz29v7z/edit"  # panel/dashboard ""
    assert memory.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert memory.ends_at is None
    assert memory.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert memory.severity is None


def test_grafana_groups_split_by_each_alerts_group_label_values() -> None:
    body = load("grafana_unified")
    body["groupLabels"] = {"alertname": "High memory usage"}
    body["groupKey"] = '{}/{__grafana_receiver__="hook"}:{alertname="High memory usage"}'

    memory, cpu = parse_grafana(body)

    assert memory.group_key == (
        'grafana:{}/{__grafana_receiver__="hook"}:{alertname="High memory usage"}'
    )
    assert cpu.group_key == 'grafana:{}/{__grafana_receiver__="hook"}:{alertname="High CPU usage"}'


def test_fingerprint_dedup() -> None:
    memory, _ = parse_grafana(load("grafana_unified"), dedup="fingerprint")

    assert memory.group_key == "grafana:fp:c6eadffa33fcdf37"


@pytest.mark.parametrize(
    ("urls", "link"),
    [
        (
            {
                "panelURL": "https://g.example/d/1?viewPanel=2",
                "dashboardURL": "https://g.example/d/1",
            },
            "https://g.example/d/1?viewPanel=2",
        ),
        ({"panelURL": "", "dashboardURL": "https://g.example/d/1"}, "https://g.example/d/1"),
        (
            {"panelURL": None, "dashboardURL": None, "generatorURL": "https://g.example/rule"},
            "https://g.example/rule",
        ),
        ({"panelURL": "", "dashboardURL": "", "generatorURL": ""}, "https://play.grafana.org/"),
    ],
)
def test_link_prefers_panel_then_dashboard_then_rule_then_grafana(
    urls: dict[str, str | None], link: str
) -> None:
    (alert, _) = parse_grafana(unified(**urls))

    assert alert.link == link


def test_resolved_alert_keeps_its_group_and_fingerprint() -> None:
    body = load("grafana_unified")
    body["status"], body["state"] = "resolved", "ok"
    body["alerts"][0].update(status="resolved", endsAt="2021-10-12T10:01:03.157076+02:00")

    resolved, _ = parse_grafana(body)
    fired, _ = parse_grafana(load("grafana_unified"))

    assert resolved.status is AlertStatus.RESOLVED
    assert (resolved.group_key, resolved.fingerprint) == (fired.group_key, fired.fingerprint)
    assert resolved.ends_at == datetime(2021, 10, 12, 8, 1, 3, 157076, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ({"B": 0, "C": None}, "Values: B=0"),
        ({"A": "NaN"}, "Values: A=NaN"),
        ({}, None),
        (None, None),
    ],
)
def test_values_are_shown_in_the_description(values: object, shown: str | None) -> None:
    (alert, _) = parse_grafana(unified(values=values, annotations={}))

    assert alert.description == (shown or "")


@pytest.mark.parametrize("values", [[1, 2], {"B": [1]}, {"B": True}, "B=1"])
def test_values_must_be_an_object_of_numbers(values: object) -> None:
    assert error_of(unified(values=values)) == "alerts[0].values must be an object of numbers"


def test_unified_body_errors_name_the_field() -> None:
    assert error_of(unified(panelURL=7)) == "alerts[0].panelURL must be a string"
    assert error_of({"orgId": 1, "version": "1"}) == "alerts must be a list"


# --- legacy (Grafana 8 and older) -------------------------------------------------------------


def test_legacy_alerting_notification_is_one_firing_alert_keyed_by_its_rule() -> None:
    (alert,) = parse_grafana(load("grafana_legacy"))

    assert (alert.source, alert.status) == ("grafana", AlertStatus.FIRING)
    assert alert.group_key == "grafana:rule:0"
    assert alert.title == "Test notification"
    assert alert.description == (
        "Someone is testing the alert notification within grafana.\n\n"
        "High value: 100\nHigher Value: 200"
    )
    assert alert.link == "https://localhost:3000/"
    assert len(alert.fingerprint) == 16


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("alerting", AlertStatus.FIRING),
        ("no_data", AlertStatus.FIRING),
        ("ok", AlertStatus.RESOLVED),
    ],
)
def test_legacy_states(state: str, status: AlertStatus) -> None:
    (alert,) = parse_grafana(legacy(state=state))
    (fired,) = parse_grafana(legacy())

    assert alert.status is status
    assert (alert.group_key, alert.fingerprint) == (fired.group_key, fired.fingerprint)


@pytest.mark.parametrize("state", ["paused", "pending"])
def test_legacy_paused_and_pending_are_nothing_to_do(state: str) -> None:
    assert parse_grafana(legacy(state=state)) == []


def test_legacy_rule_name_keys_an_alert_without_rule_id() -> None:
    body = legacy(ruleName="  VPN latency ", title="[Alerting] VPN latency")
    del body["ruleId"]

    (alert,) = parse_grafana(body)

    assert alert.group_key == "grafana:rule:VPN latency"
    assert alert.title == "VPN latency"


def test_legacy_title_without_rule_name_loses_its_state_prefix() -> None:
    (alert,) = parse_grafana(legacy(ruleId=7, ruleName=None, title="[Alerting] Load peaking!"))

    assert (alert.title, alert.group_key) == ("Load peaking!", "grafana:rule:7")


def test_legacy_tags_are_labels_and_give_the_severity() -> None:
    (alert,) = parse_grafana(legacy(tags={"severity": "Warning", "client": "acme"}))

    assert alert.labels == {"severity": "Warning", "client": "acme"}
    assert alert.severity == "warning"


def test_legacy_long_match_lists_are_cut_in_the_description() -> None:
    matches = [{"metric": f"m{i}", "value": i} for i in range(60)]

    (alert,) = parse_grafana(legacy(evalMatches=matches, message=None))

    lines = alert.description.splitlines()
    assert lines[0] == "m0: 0" and lines[-1] == "… and 10 more" and len(lines) == 51


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"state": "broken"}, "state must be one of alerting, no_data, ok, paused, pending"),
        ({"state": None}, "state must be one of"),
        ({"ruleId": None, "ruleName": " "}, "ruleId or ruleName is required"),
        ({"ruleId": True}, "ruleId must be a whole number or a string"),
        ({"ruleId": 1.5}, "ruleId must be a whole number or a string"),
        ({"ruleId": 2**70}, "ruleId must be a whole number or a string"),
        ({"ruleUrl": 3}, "ruleUrl must be a string"),
        ({"evalMatches": {"value": 1}}, "evalMatches must be a list"),
        ({"evalMatches": [1]}, "evalMatches[0] must be a JSON object"),
        ({"evalMatches": [{"value": "high"}]}, "evalMatches[0].value must be a number"),
        ({"evalMatches": [{"metric": 5}]}, "evalMatches[0].metric must be a string"),
        ({"tags": {"a": 1}}, "tags must be an object of strings"),
    ],
)
def test_malformed_legacy_bodies_name_the_field(changes: dict[str, Any], message: str) -> None:
    assert error_of(legacy(**changes)).startswith(message)
