"""Alert severity → ticket priority: the default table per monitoring tool, and its precedence.

`TICKETBOT_ALERT_SEVERITY_MAP` entries win: `tool:severity=priority` first, then `severity=priority`
(any tool), then the tool's row below, then the common row; anything else is critical.
Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping

PRIORITIES = ("low", "medium", "high", "critical")
UNMAPPED = "critical"  # an alert whose severity nobody mapped still pages

# Severity names Alertmanager/Grafana rules, the generic format and most scripts use.
COMMON: Mapping[str, str] = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "error": "high",
    "major": "high",
    "warning": "high",
    "warn": "high",
    "minor": "medium",
    "info": "medium",
    "information": "medium",
    "informational": "medium",
    "none": "low",
}
_NAGIOS = {
    "critical": "critical",
    "down": "critical",
    "unreachable": "high",
    "warning": "high",
    "unknown": "medium",
}
# Tools are named as `bot.alerts.tools` recognises them; the README shows this table.
BY_TOOL: Mapping[str, Mapping[str, str]] = {
    "zabbix": {
        "disaster": "critical",
        "high": "high",
        "average": "medium",
        "warning": "medium",
        "information": "low",
        "not classified": "low",
    },
    "nagios": _NAGIOS,
    "icinga": _NAGIOS,
    "checkmk": _NAGIOS,
    "datadog": {"p1": "critical", "p2": "high", "p3": "medium", "p4": "low", "p5": "low"},
    "uptime-kuma": {},  # no severities: a monitor that is down is critical
}


def priority_for(
    tool: str | None, severity: str | None, overrides: Mapping[str, str] | None = None
) -> str:
    """The ticket priority for an alert of `tool` with `severity` (case and spaces ignored)."""
    name = " ".join((severity or "").split()).casefold()
    overrides = overrides or {}
    candidates = (
        overrides.get(f"{tool}:{name}") if tool else None,
        overrides.get(name),
        BY_TOOL.get(tool or "", {}).get(name),
        COMMON.get(name),
    )
    return next((p for p in candidates if p in PRIORITIES), UNMAPPED)
