"""The text parsers several sections share: durations, local times, time zones, business hours,
URLs, email addresses, GUIDs. Each takes stripped text and raises a plain `ValueError`."""

from __future__ import annotations

import ipaddress
import re
from datetime import time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.problems import shown
from bot.domain.business_hours import parse_hours

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = re.compile(rf"[^@\s<>()\[\]\\,;:\"]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*")
LOOPBACK_NAMES = "127.0.0.1, another 127.x.x.x address, ::1 or localhost"
_DURATION = re.compile(r"([0-9]{1,15})([smhd])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_CLOCK_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_HTTP_URL = re.compile(r"https?://[^/?#\s]+(/\S*)?", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """`"90s"`, `"5m"`, `"2h"`, `"1d"` → a positive `timedelta`; else a plain `ValueError`."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"not a duration: {shown(text)} (expected a whole number and a unit s, m, h or d, "
            "such as 90s, 5m, 2h or 1d)"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"not a positive duration: {shown(text)}")
    try:
        return timedelta(**{_DURATION_UNITS[match.group(2)]: amount})
    except OverflowError:
        raise ValueError(f"duration too large: {shown(text)}") from None


def parse_delay(text: str) -> timedelta:
    """A duration as `parse_duration` reads it, or `"0"` → `timedelta(0)` (turned off)."""
    if text.strip() == "0":
        return timedelta(0)
    return parse_duration(text)


def parse_clock_time(text: str) -> time:
    """`"8:30"` or `"08:30"` → a local time of day."""
    match = _CLOCK_TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2)))


def parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(text) from None
    return text


def parse_business_hours(text: str) -> str:
    """Opening hours as `bot.domain.business_hours.parse_hours` reads them, kept as text."""
    parse_hours(text)
    return text


def parse_http_url(text: str) -> str:
    if not _HTTP_URL.fullmatch(text) or not urlsplit(text).hostname:
        raise ValueError(text)
    return text


def https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or is_loopback(parts.hostname or "")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a connection that never leaves this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def parse_guid(text: str) -> str:
    """A GUID (Microsoft App, tenant or object id), lower-cased."""
    if not GUID.fullmatch(text):
        raise ValueError(text)
    return text.lower()
