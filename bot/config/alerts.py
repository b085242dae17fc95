"""How alerts become tickets and how alerts-channel messages are read (`ChatAlertRules`): the values
the settings check and the alerts package follows. Imports only the standard library."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEDUP_MODES = ("group", "fingerprint")
DEFAULT_FIRING_PATTERN = (
    r"\b(?:FIRING|Firing|firing|PROBLEM|Problem|CRITICAL|DOWN|Re-Triggered|Triggered"
    r"|WARN(?:ING)?|Warn(?:ing)?|NO DATA|No [Dd]ata|ALERTING|Alerting|alerting|UNREACHABLE)\b"
)
DEFAULT_RESOLVED_PATTERN = (
    r"\b(?:RESOLVED|Resolved|resolved|Problem (?:has been )?resolved|RECOVERY|RECOVERED"
    r"|Recovered|OK|ok|UP)\b"
)
# Alertmanager's slack_configs default, Grafana, Zabbix (by severity), Nagios/Icinga, Checkmk.
DEFAULT_FIRING_COLORS = frozenset(
    {"danger", "warning", "d63232", "e01e5a", "ff0000", "ee0000", "ff9900", "ffdd00"}
    | {"e45959", "e97659", "ffa059", "ffc859", "7499ff", "97aab3"}
)
DEFAULT_RESOLVED_COLORS = frozenset({"good", "36a64f", "2eb67d", "2eb886", "009900", "00cc00"})


@dataclass(frozen=True)
class ChatAlertRules:
    """How alerts-channel messages are read; the defaults suit Alertmanager, Grafana, Zabbix…"""

    firing: re.Pattern[str] = re.compile(DEFAULT_FIRING_PATTERN)
    resolved: re.Pattern[str] = re.compile(DEFAULT_RESOLVED_PATTERN)
    firing_colors: frozenset[str] = DEFAULT_FIRING_COLORS  # Slack names or hex, "#" optional
    resolved_colors: frozenset[str] = DEFAULT_RESOLVED_COLORS
    bots: frozenset[str] = frozenset()  # bot/app/bot-user ids or usernames; empty: any bot
    allow_humans: bool = False
