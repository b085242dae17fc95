"""Reading untrusted JSON alert payloads: typed field access whose errors name the field, and caps.

Imports only the standard library and `bot.alerts.model`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

from bot.alerts.model import AlertPayloadError

KEY_MAX = 200  # label/annotation names; longer is an error
VALUE_MAX = 10_000  # label/annotation and other text values; longer is truncated with "…"
TITLE_MAX = 300
DESCRIPTION_MAX = 20_000
FINGERPRINT_MAX = 200
SEVERITY_MAX = 100

# Lone surrogates (json.loads accepts "\ud800") and NUL cannot be stored or encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
# RFC 3339 as Alertmanager and Grafana write it (Go time.Time; nanoseconds).
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def field_name(path: str, key: str) -> str:
    """`alerts[3]` + `labels` → `alerts[3].labels`; the body's own fields go unprefixed."""
    return f"{path}.{key}" if path else key


def as_object(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise AlertPayloadError(f"{name or 'the body'} must be a JSON object")
    return value


def as_list(value: object, name: str, *, limit: int) -> list[object]:
    if not isinstance(value, list):
        raise AlertPayloadError(f"{name} must be a list")
    if len(value) > limit:
        raise AlertPayloadError(
            f"{name} has {len(value)} entries; at most {limit:,} are accepted per request"
        )
    return value


def optional_text(obj: Mapping[str, object], key: str, path: str) -> str | None:
    """The string at `key` (cleaned, truncated to VALUE_MAX), or None when missing or null."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AlertPayloadError(f"{field_name(path, key)} must be a string")
    return clip(clean(value), VALUE_MAX)


def string_map(obj: Mapping[str, object], key: str, path: str) -> dict[str, str]:
    """An object of strings at `key` ({} when missing or null); values truncated to VALUE_MAX."""
    value = obj.get(key)
    if value is None:
        return {}
    name = field_name(path, key)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AlertPayloadError(f"{name} must be an object of strings")
    too_long = next((k for k in value if len(k) > KEY_MAX), None)
    if too_long is not None:
        raise AlertPayloadError(
            f"{name} has a name longer than {KEY_MAX} characters ({clip(clean(too_long), 40)!r})"
        )
    return {clean(k): clip(clean(v), VALUE_MAX) for k, v in value.items()}


def timestamp(obj: Mapping[str, object], key: str, path: str) -> datetime | None:
    """An RFC 3339 time as an aware UTC datetime; None when missing, null or Go's zero time."""
    value = obj.get(key)
    if value is None:
        return None
    name = field_name(path, key)
    if not isinstance(value, str):
        raise AlertPayloadError(f"{name} must be an RFC 3339 time string")
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise AlertPayloadError(
            f"{name} must be an RFC 3339 time such as 2026-11-26T17:22:43.749Z, "
            f"got {clip(clean(value), 40)!r}"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if year == "0001" and month == day == "01":  # Go's zero time.Time: "no end (yet)"
        return None
    try:
        zone = UTC
        if not zulu:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)
        micros = int((fraction or "0").ljust(6, "0")[:6])
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, zone
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise AlertPayloadError(f"{name} is not a valid time: {clip(clean(value), 40)!r}") from None


def http_url(value: str | None) -> str | None:
    """`value` if it is an absolute http(s) URL without spaces, else None."""
    if value is None or len(value) > VALUE_MAX:
        return None
    value = value.strip()
    return value if _HTTP_URL.fullmatch(value) else None


def is_number(value: object) -> bool:
    """A JSON number (not a boolean); integers beyond 64 bits do not come from real senders."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def clean(text: str) -> str:
    return _UNSTORABLE.sub("\ufffd", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = TITLE_MAX) -> str:
    return clip(_WHITESPACE.sub(" ", text).strip(), limit)


def stable_hash(value: object) -> str:
    """The first 16 hex digits of the sha256 of `value` as canonical JSON."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]
