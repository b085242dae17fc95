"""Our own small alert format (`POST /alerts/generic`) → `Alert`s.

One JSON object, or a list of up to 1,000: `title` (required), `status` ("firing" | "resolved",
default firing), `severity`, `dedup_key` (default: the title), `client`, `description`, `link`
(http/https), `labels` ({str: str}). Unknown fields are rejected. Imports only the standard library
and `bot.alerts.*`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.alerts.model import Alert, AlertPayloadError, AlertStatus
from bot.alerts.payload import (
    DESCRIPTION_MAX,
    SEVERITY_MAX,
    as_list,
    as_object,
    clean,
    clip,
    field_name,
    http_url,
    one_line,
    optional_text,
    stable_hash,
    string_map,
)

MAX_ALERTS = 1_000
DEDUP_KEY_MAX = 1_000
CLIENT_MAX = 200
FIELDS = ("title", "status", "severity", "dedup_key", "client", "description", "link", "labels")
_STATUSES = {status.value: status for status in AlertStatus}


def parse_generic(body: object) -> list[Alert]:
    """The alerts of one generic-format request; raises `AlertPayloadError` naming the field."""
    if isinstance(body, list):
        items = as_list(body, "the body", limit=MAX_ALERTS)
        return [_alert(item, f"[{i}]") for i, item in enumerate(items)]
    return [_alert(body, "")]


def _alert(raw: object, path: str) -> Alert:
    obj = as_object(raw, path)
    unknown = sorted(key for key in obj if key not in FIELDS)
    if unknown:
        where = f" in {path}" if path else ""
        raise AlertPayloadError(
            f"unknown field {one_line(clean(unknown[0]), 60)!r}{where} (known: {', '.join(FIELDS)})"
        )
    raw_title = obj.get("title")
    if not isinstance(raw_title, str) or not raw_title.strip():
        raise AlertPayloadError(f"{field_name(path, 'title')} is required: a non-blank string")
    raw_title = clean(raw_title)
    status = obj.get("status")
    if status is not None and (not isinstance(status, str) or status not in _STATUSES):
        raise AlertPayloadError(f'{field_name(path, "status")} must be "firing" or "resolved"')
    dedup_key = _dedup_key(obj, path, raw_title)
    link_text = optional_text(obj, "link", path)
    link = http_url(link_text)
    if link_text is not None and link is None:
        raise AlertPayloadError(f"{field_name(path, 'link')} must be an http(s) URL")
    severity = one_line(optional_text(obj, "severity", path) or "", SEVERITY_MAX).lower()
    client = one_line(optional_text(obj, "client", path) or "", CLIENT_MAX)
    description = (optional_text(obj, "description", path) or "").strip()
    return Alert(
        source="generic",
        status=_STATUSES[status] if isinstance(status, str) else AlertStatus.FIRING,
        group_key=f"generic:{dedup_key}",
        fingerprint=stable_hash(["generic", dedup_key]),
        title=one_line(raw_title),
        description=clip(description, DESCRIPTION_MAX),
        severity=severity or None,
        labels=string_map(obj, "labels", path),
        link=link,
        client=client or None,
    )


def _dedup_key(obj: Mapping[str, object], path: str, title: str) -> str:
    given = optional_text(obj, "dedup_key", path)
    if given is None:
        return one_line(title, DEDUP_KEY_MAX)
    key = given.strip()
    if not key:
        raise AlertPayloadError(
            f"{field_name(path, 'dedup_key')} must not be blank (leave it out to use the title)"
        )
    if len(key) > DEDUP_KEY_MAX:
        raise AlertPayloadError(
            f"{field_name(path, 'dedup_key')} must be at most {DEDUP_KEY_MAX:,} characters"
        )
    return key
