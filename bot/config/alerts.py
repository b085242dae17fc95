"""The alerts section: the webhook token, how alerts become tickets (dedup, severities, storms),
and how alerts-channel messages are read (`ChatAlertRules`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, Field

from bot.config.fields import HeaderToken, Section, parsed
from bot.config.parsers import CONTROL
from bot.config.problems import refuse, shown

DEDUP_MODES = ("group", "fingerprint")
PRIORITIES = ("low", "medium", "high", "critical")
ALERT_STORM_THRESHOLD_MAX = 100_000
BOT_NAME_MAX = 80  # Slack's limit for a bot's username
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


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable `str → str` mapping, so that `Settings` stays frozen and hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


def _parse_alert_dedup(value: str) -> str:
    mode = value.lower()
    if mode not in DEDUP_MODES:
        raise ValueError(value)
    return mode


def _parse_severity_map(value: str) -> FrozenMap:
    pairs: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        severity, sep, priority = (part.strip().lower() for part in item.partition("="))
        if not sep or not severity or priority not in PRIORITIES or severity in pairs:
            raise ValueError(item)
        pairs[severity] = priority
    if not pairs:
        raise ValueError(value)
    return FrozenMap(pairs)


def _parse_storm_threshold(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ValueError(value)
    if not 1 <= int(value) <= ALERT_STORM_THRESHOLD_MAX:
        raise ValueError(value)
    return int(value)


def _parse_bot_names(value: str) -> frozenset[str]:
    names = [item.strip() for item in value.split(",") if item.strip()]
    if not names or any(CONTROL.search(n) or len(n) > BOT_NAME_MAX for n in names):
        raise ValueError(value)
    return frozenset(names)


def _pattern(value: object) -> object:
    """A compiled regular expression, never one that matches empty text."""
    if not isinstance(value, str):
        return value
    try:
        compiled = re.compile(value)
    except (re.error, OverflowError, RecursionError) as e:
        reason = "too deeply nested" if isinstance(e, RecursionError) else str(e)
        reason = "".join(ch if ch.isprintable() else "?" for ch in reason)
        problem = f"must be a valid Python regular expression ({reason})"
    else:
        if compiled.search("") is None:
            return compiled
        problem = "must not match empty text (every bot message would count)"
    raise refuse(f"{problem}, got {shown(value)}")


AlertPattern = Annotated[re.Pattern[str], BeforeValidator(_pattern)]
DedupMode = Annotated[
    str,
    parsed(
        _parse_alert_dedup,
        "must be group (one ticket per Alertmanager group) or fingerprint (one per alert)",
    ),
]
SeverityMap = Annotated[
    FrozenMap,
    parsed(
        _parse_severity_map,
        "must be comma-separated severity=priority pairs, each severity once, with a "
        "priority of low, medium, high or critical, such as warning=high,info=medium",
    ),
]
StormThreshold = Annotated[
    int,
    parsed(_parse_storm_threshold, f"must be a whole number from 1 to {ALERT_STORM_THRESHOLD_MAX}"),
]
BotNames = Annotated[
    frozenset[str],
    parsed(
        _parse_bot_names,
        "must be comma-separated bot IDs (B…), app IDs (A…), bot user IDs or bot user "
        f"names, each on one line and at most {BOT_NAME_MAX} characters",
    ),
]


class AlertsSection(Section):
    """Alerts: the webhook token, one ticket per group or alert, severities, storms, and which
    alerts-channel messages count (words, bots)."""

    alert_webhook_token: HeaderToken | None = Field(
        default=None, validation_alias="ALERT_WEBHOOK_TOKEN"
    )
    alert_dedup: DedupMode = Field(default="group", validation_alias="TICKETBOT_ALERT_DEDUP")
    # severity → priority: overrides of the alerts package's own severity table
    alert_severity_map: SeverityMap = Field(
        default=FrozenMap(), validation_alias="TICKETBOT_ALERT_SEVERITY_MAP"
    )
    # new alert tickets per minute
    alert_storm_threshold: StormThreshold = Field(
        default=10, validation_alias="TICKETBOT_ALERT_STORM_THRESHOLD"
    )
    alert_firing_pattern: AlertPattern = Field(
        default=ChatAlertRules.firing, validation_alias="TICKETBOT_ALERT_FIRING_PATTERN"
    )
    alert_resolved_pattern: AlertPattern = Field(
        default=ChatAlertRules.resolved, validation_alias="TICKETBOT_ALERT_RESOLVED_PATTERN"
    )
    # bot/app/bot-user ids or usernames; empty: any bot
    alert_bots: BotNames = Field(default=frozenset(), validation_alias="TICKETBOT_ALERT_BOTS")

    @property
    def alert_chat_rules(self) -> ChatAlertRules:
        return ChatAlertRules(
            firing=self.alert_firing_pattern,
            resolved=self.alert_resolved_pattern,
            bots=self.alert_bots,
        )
