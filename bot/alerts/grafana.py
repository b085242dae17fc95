"""Grafana webhook bodies → `Alert`s: unified alerting (Alertmanager shape) and legacy (≤ 8) alerts.

Imports only the standard library and `bot.alerts.*`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.alerts.alertmanager import MAX_ALERTS, check_dedup, parse_notification
from bot.alerts.model import Alert, AlertPayloadError, AlertStatus
from bot.alerts.payload import (
    DESCRIPTION_MAX,
    SEVERITY_MAX,
    as_list,
    as_object,
    clean,
    clip,
    http_url,
    is_number,
    one_line,
    optional_text,
    stable_hash,
    string_map,
)

_LINK_KEYS = ("panelURL", "dashboardURL", "generatorURL")
_LEGACY_KEYS = ("ruleId", "ruleName", "ruleUrl", "evalMatches")
# Legacy states; None: nothing to act on (the rule is paused, or not yet firing).
_LEGACY_STATES: dict[str, AlertStatus | None] = {
    "alerting": AlertStatus.FIRING,
    "no_data": AlertStatus.FIRING,
    "ok": AlertStatus.RESOLVED,
    "paused": None,
    "pending": None,
}
_TITLE_PREFIX = re.compile(r"\A\[[^\]\n]{1,20}\]\s*")  # "[Alerting] ", "[OK] "
_MATCHES_SHOWN = 50


def parse_grafana(body: object, *, dedup: str = "group") -> list[Alert]:
    """The alerts of one Grafana notification; [] for a legacy `paused`/`pending` state.

    Unified alerting bodies are read like Alertmanager's (see `parse_alertmanager`), with the
    link taken from `panelURL`, `dashboardURL`, then `generatorURL`. A body without `alerts` but
    with `ruleId`/`ruleName` is a legacy alert, keyed by its rule. Raises `AlertPayloadError`.
    """
    check_dedup(dedup)
    root = as_object(body, "")
    if "alerts" not in root and any(key in root for key in _LEGACY_KEYS):
        return _parse_legacy(root)
    return parse_notification(
        root, source="grafana", dedup=dedup, link_keys=_LINK_KEYS, read_values=True
    )


def _parse_legacy(root: Mapping[str, object]) -> list[Alert]:
    state = root.get("state")
    if not isinstance(state, str) or state not in _LEGACY_STATES:
        raise AlertPayloadError("state must be one of " + ", ".join(_LEGACY_STATES))
    status = _LEGACY_STATES[state]
    rule = _rule(root)
    if status is None:
        return []
    tags = string_map(root, "tags", "")
    name = one_line(optional_text(root, "ruleName", "") or "")
    title = _TITLE_PREFIX.sub("", one_line(optional_text(root, "title", "") or ""), count=1)
    severity = one_line(tags.get("severity", ""), SEVERITY_MAX).lower()
    return [
        Alert(
            source="grafana",
            status=status,
            group_key=f"grafana:rule:{rule}",
            fingerprint=stable_hash(["grafana-rule", rule]),
            title=name or title or one_line(f"Grafana rule {rule}"),
            description=_legacy_description(root),
            severity=severity or None,
            labels=tags,
            link=http_url(optional_text(root, "ruleUrl", "")),
        )
    ]


def _rule(root: Mapping[str, object]) -> str:
    """The rule's id, else its name; one of them is required."""
    rule_id = root.get("ruleId")
    if rule_id is not None:
        if not isinstance(rule_id, str) and (not is_number(rule_id) or isinstance(rule_id, float)):
            raise AlertPayloadError("ruleId must be a whole number or a string")
        shown = one_line(clean(str(rule_id)))
        if shown:
            return shown
    name = one_line(optional_text(root, "ruleName", "") or "")
    if not name:
        raise AlertPayloadError("ruleId or ruleName is required (a legacy Grafana alert)")
    return name


def _legacy_description(root: Mapping[str, object]) -> str:
    """The message, then one `metric: value` line per evaluation match."""
    message = (optional_text(root, "message", "") or "").strip()
    raw = root.get("evalMatches")
    matches = [] if raw is None else as_list(raw, "evalMatches", limit=MAX_ALERTS)
    lines = [_match_line(match, f"evalMatches[{i}]") for i, match in enumerate(matches)]
    if len(lines) > _MATCHES_SHOWN:
        lines = [*lines[:_MATCHES_SHOWN], f"… and {len(lines) - _MATCHES_SHOWN} more"]
    return clip("\n\n".join(part for part in (message, "\n".join(lines)) if part), DESCRIPTION_MAX)


def _match_line(raw: object, path: str) -> str:
    match = as_object(raw, path)
    metric = optional_text(match, "metric", path) or "value"
    value = match.get("value")
    if value is not None and not is_number(value):
        raise AlertPayloadError(f"{path}.value must be a number")
    return one_line(f"{metric}: {value}", 500)
