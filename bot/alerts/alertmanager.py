"""Prometheus Alertmanager webhook bodies (version "4") → `Alert`s; Grafana reuses the internals.

Imports only the standard library, `bot.alerts.*` and `bot.config.alerts` (the dedup modes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.alerts.model import Alert, AlertPayloadError, AlertStatus
from bot.alerts.payload import (
    DESCRIPTION_MAX,
    FINGERPRINT_MAX,
    SEVERITY_MAX,
    as_list,
    as_object,
    clean,
    clip,
    field_name,
    http_url,
    is_number,
    one_line,
    optional_text,
    stable_hash,
    string_map,
    timestamp,
)
from bot.config.alerts import DEDUP_MODES

MAX_ALERTS = 5_000
_STATUSES = {status.value: status for status in AlertStatus}
_TITLE_ANNOTATIONS = ("summary", "title")
_TEXT_ANNOTATIONS = ("description", "message")
_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def parse_alertmanager(body: object, *, dedup: str = "group") -> list[Alert]:
    """The alerts of one Alertmanager notification, in body order.

    `dedup="group"` keys each alert by its Alertmanager group (route + this alert's values of the
    `groupLabels` names), `"fingerprint"` by the alert itself. Label and annotation values longer
    than 10,000 characters are truncated; anything malformed raises `AlertPayloadError`.
    """
    return parse_notification(body, source="alertmanager", dedup=dedup, link_keys=("generatorURL",))


def parse_notification(
    body: object,
    *,
    source: str,
    dedup: str,
    link_keys: Sequence[str],
    read_values: bool = False,
) -> list[Alert]:
    """An Alertmanager-shaped notification (Alertmanager, Grafana unified alerting).

    `link_keys` are the per-alert URL fields to try in order before `externalURL`;
    `read_values` adds Grafana's per-alert `values` to the description.
    """
    check_dedup(dedup)
    root = as_object(body, "")
    status = root.get("status")
    if status is not None and (not isinstance(status, str) or status not in _STATUSES):
        raise AlertPayloadError('status must be "firing" or "resolved"')
    truncated = root.get("truncatedAlerts")
    if truncated is not None and (
        not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0
    ):
        raise AlertPayloadError("truncatedAlerts must be a whole number, 0 or more")
    group_key = optional_text(root, "groupKey", "")
    route = group_key.split(":{", 1)[0] if group_key and ":{" in group_key else None
    group_names = list(string_map(root, "groupLabels", ""))
    external = http_url(optional_text(root, "externalURL", ""))
    raw_alerts = as_list(root.get("alerts"), "alerts", limit=MAX_ALERTS)
    notification = _Notification(
        source, dedup, route, group_names, external, tuple(link_keys), read_values
    )
    return [notification.alert(raw, f"alerts[{i}]") for i, raw in enumerate(raw_alerts)]


def check_dedup(dedup: str) -> None:
    """A programming error, not a payload error: the setting is validated at start-up."""
    if dedup not in DEDUP_MODES:
        raise ValueError(f"dedup must be 'group' or 'fingerprint', got {dedup!r}")


@dataclass(frozen=True)
class _Notification:
    """What the notification says about all its alerts, and how to read each one."""

    source: str
    dedup: str
    route: str | None  # groupKey's route part; None without a usable groupKey
    group_names: list[str]
    external: str | None
    link_keys: tuple[str, ...]
    read_values: bool

    def alert(self, raw: object, path: str) -> Alert:
        obj = as_object(raw, path)
        status = obj.get("status")
        if not isinstance(status, str) or status not in _STATUSES:
            raise AlertPayloadError(f'{field_name(path, "status")} must be "firing" or "resolved"')
        if "labels" not in obj or obj["labels"] is None:
            raise AlertPayloadError(f"{field_name(path, 'labels')} must be an object of strings")
        labels = string_map(obj, "labels", path)
        annotations = string_map(obj, "annotations", path)
        fingerprint = optional_text(obj, "fingerprint", path)
        if fingerprint is not None and len(fingerprint) > FINGERPRINT_MAX:
            raise AlertPayloadError(
                f"{field_name(path, 'fingerprint')} must be at most {FINGERPRINT_MAX} characters"
            )
        fingerprint = (fingerprint or "").strip() or stable_hash(sorted(labels.items()))
        links = [http_url(optional_text(obj, key, path)) for key in self.link_keys]
        extra = self._values(obj, path) if self.read_values else []
        severity = one_line(labels.get("severity", ""), SEVERITY_MAX).lower()
        return Alert(
            source=self.source,
            status=_STATUSES[status],
            group_key=self._group_key(labels, fingerprint),
            fingerprint=fingerprint,
            title=self._title(labels, annotations, fingerprint),
            description=_description(annotations, extra),
            severity=severity or None,
            labels=labels,
            annotations=annotations,
            link=next((link for link in links if link), self.external),
            starts_at=timestamp(obj, "startsAt", path),
            ends_at=timestamp(obj, "endsAt", path),
        )

    def _group_key(self, labels: Mapping[str, str], fingerprint: str) -> str:
        if self.dedup == "fingerprint":
            return f"{self.source}:fp:{fingerprint}"
        if self.route is not None:
            return f"{self.source}:{self.route}:{label_set(labels, self.group_names)}"
        return f"{self.source}:{label_set(labels, self.group_names or labels)}"

    def _title(
        self, labels: Mapping[str, str], annotations: Mapping[str, str], fingerprint: str
    ) -> str:
        for key in _TITLE_ANNOTATIONS:
            title = one_line(annotations.get(key, ""))
            if title:
                return title
        name = one_line(labels.get("alertname", ""))
        others = [f"{k}={labels[k]}" for k in self.group_names if k != "alertname" and k in labels]
        if name:
            return one_line(f"{name} ({', '.join(others)})" if others else name)
        shown = others or [f"{k}={v}" for k, v in sorted(labels.items())]
        return one_line(", ".join(shown) or f"{self.source.capitalize()} alert {fingerprint}")

    def _values(self, obj: Mapping[str, object], path: str) -> list[str]:
        values = obj.get("values")
        if values is None:
            return []
        if not isinstance(values, dict) or not all(
            v is None or isinstance(v, str) or is_number(v) for v in values.values()
        ):
            raise AlertPayloadError(f"{field_name(path, 'values')} must be an object of numbers")
        shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items()) if v is not None)
        return [one_line(clean(f"Values: {shown}"), 2_000)] if shown else []


def label_set(labels: Mapping[str, str], names: Collection[str]) -> str:
    """`{alertname="DiskFull", service="db"}`: Alertmanager's (Go) rendering of a label set."""
    pairs = sorted(f"{name}={_go_quote(labels[name])}" for name in names if name in labels)
    return "{" + ", ".join(pairs) + "}"


def _go_quote(value: str) -> str:
    """Go's `%q`, which Alertmanager uses for label values in `groupKey`."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _description(annotations: Mapping[str, str], extra: list[str]) -> str:
    """The description (or message) annotation, then the other annotations as `name: value`."""
    main_key = next((k for k in _TEXT_ANNOTATIONS if annotations.get(k, "").strip()), None)
    main = annotations[main_key].strip() if main_key else ""
    used = {*_TITLE_ANNOTATIONS, main_key}
    rest = [
        f"{k}: {v.strip()}"
        for k, v in sorted(annotations.items())
        if k not in used and not k.startswith("__") and v.strip()
    ]
    parts = [part for part in (main, "\n".join(rest + extra)) if part]
    return clip("\n\n".join(parts), DESCRIPTION_MAX)
