"""Severity → priority: the default table per tool and TICKETBOT_ALERT_SEVERITY_MAP's precedence."""

from __future__ import annotations

import pytest

from bot.alerts.severity import priority_for


@pytest.mark.parametrize(
    ("tool", "severity", "priority"),
    [
        ("zabbix", "Disaster", "critical"),
        ("zabbix", "High", "high"),
        ("zabbix", "Average", "medium"),
        ("zabbix", "Warning", "medium"),
        ("zabbix", "Information", "low"),
        ("zabbix", "Not  classified", "low"),
        ("nagios", "CRITICAL", "critical"),
        ("icinga", "WARNING", "high"),
        ("icinga", "UNKNOWN", "medium"),
        ("checkmk", "DOWN", "critical"),
        ("checkmk", "UNREACHABLE", "high"),
        ("datadog", "P1", "critical"),
        ("datadog", "P3", "medium"),
        ("datadog", "P5", "low"),
        ("uptime-kuma", None, "critical"),
        ("alertmanager", "warning", "high"),
        ("grafana", "info", "medium"),
        ("generic", "critical", "critical"),
        (None, "warning", "high"),
        (None, "sev-unknown", "critical"),
        (None, None, "critical"),
    ],
)
def test_defaults_per_tool(tool: str | None, severity: str | None, priority: str) -> None:
    assert priority_for(tool, severity) == priority


def test_the_map_overrides_tool_first_then_any_tool() -> None:
    overrides = {"zabbix:high": "critical", "high": "medium", "warning": "low"}
    assert priority_for("zabbix", "High", overrides) == "critical"
    assert priority_for("nagios", "high", overrides) == "medium"
    assert priority_for("zabbix", "Warning", overrides) == "low"  # over Zabbix's own default
    assert priority_for("zabbix", "Average", overrides) == "medium"  # untouched default
