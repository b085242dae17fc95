"""Normalized alerts: what every parser (webhooks, alerts-channel messages) turns its input into."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert instance, as a monitoring tool reported it.

    `group_key` names the problem (one open ticket per group); `fingerprint` names this instance
    within it and is stable between firing and resolved.
    """

    source: str  # "alertmanager" | "grafana" | "generic" | "slack"
    status: AlertStatus
    group_key: str
    fingerprint: str
    title: str
    description: str = ""
    severity: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    link: str | None = None  # generatorURL, dashboard, the tool's own page for this alert
    client: str | None = None  # an explicit client name (generic format); labels are tried too
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    message_ts: str | None = None  # alerts-channel source: the Slack message it came from
    tool: str | None = None  # the monitoring tool, as `bot.alerts.severity.BY_TOOL` names it
    # The group key and fingerprint an older release gave this alert, when they differ: an open
    # ticket keyed that way is found and re-keyed (bot.alerts.legacy_key).
    legacy_group_key: str | None = None
    legacy_fingerprint: str | None = None


class AlertPayloadError(ValueError):
    """The payload is not a valid alert; `str()` says what is wrong in plain words for a 4xx."""
