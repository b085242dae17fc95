"""Host names an alert mentions (labels, URLs, its text), matched to client domains by suffix.

The longest matching domain wins; IP addresses are never matched. Imports only the standard
library and `bot.alerts.*`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.alerts.model import Alert
from bot.alerts.payload import clip

T = TypeVar("T")
HINTS_MAX = 50
SHOWN_MAX = 80
# Labels (and alerts-channel fields) that name the machine or site an alert is about, in order.
HOST_LABELS = (
    "instance",
    "host",
    "hostname",
    "host_name",
    "fqdn",
    "server",
    "node",
    "target",
    "url",
    "address",
    "domain",
    "exported_instance",
)
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]{0,15}://[^\s<>|\"'`]+", re.IGNORECASE)
_HOSTNAME = re.compile(
    r"(?<![\w@.\-/])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9\-]{0,61})"
    r"(?::\d{1,5})?(?![\w@\-]|\.[a-z0-9])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HostHint:
    """A host name found in an alert: `where` it was (a label name, "URL" or "host"), the text
    it was found as (`shown`, clipped) and the lower-cased `host`."""

    where: str
    shown: str
    host: str

    def describe(self) -> str:
        """`matched host fs01.acme.test`, `matched instance fs01.acme.test:9100`."""
        return f"matched {self.where} {self.shown}"


def host_hints(alert: Alert) -> list[HostHint]:
    """Host names of `alert`: host-like labels first, then the title, the description and the
    other labels; each host once, at most HINTS_MAX."""
    seen: dict[str, HostHint] = {}
    labels = {k.casefold(): v for k, v in alert.labels.items()}
    sources: list[tuple[str | None, str]] = [
        (name, labels[name]) for name in HOST_LABELS if name in labels
    ]
    sources += [(None, alert.title), (None, alert.description)]
    sources += [(None, v) for k, v in sorted(labels.items()) if k not in HOST_LABELS]
    for where, text in sources:
        for hint in _hints(where, text):
            seen.setdefault(hint.host, hint)
            if len(seen) >= HINTS_MAX:
                return list(seen.values())
    return list(seen.values())


def match_domain(hints: list[HostHint], domains: Mapping[str, T]) -> tuple[HostHint, T] | None:
    """The first hint under one of `domains` (lower-case, without a trailing dot) and the value
    of the longest domain it is under: `fs01.eu.acme.test` is under `eu.acme.test` before
    `acme.test`."""
    for hint in hints:
        parts = hint.host.split(".")
        for i in range(len(parts) - 1):
            value = domains.get(".".join(parts[i:]))
            if value is not None:
                return hint, value
    return None


def _hints(where: str | None, text: str) -> Iterator[HostHint]:
    for match in _URL.finditer(text):
        host = _url_host(match[0])
        if host:
            yield HostHint(where or "URL", _shown(_without_secrets(match[0])), host)
    rest = _URL.sub(" ", text)
    for match in _HOSTNAME.finditer(rest):
        host = _host(match[1])
        if host:
            yield HostHint(where or "host", _shown(match[0]), host)


def _url_host(url: str) -> str | None:
    authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    authority = authority.rsplit("@", 1)[-1]
    if authority.startswith("["):  # an IPv6 literal
        return None
    return _host(authority.split(":", 1)[0])


def _without_secrets(url: str) -> str:
    """The URL without user info, query and fragment (they may carry credentials)."""
    scheme, rest = url.split("://", 1)
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rsplit('@', 1)[-1]}{slash}{path}"


def _host(name: str) -> str | None:
    host = name.strip().rstrip(".").casefold()
    if not host or "." not in host or len(host) > 253:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host if _HOSTNAME.fullmatch(host) else None
    return None


def _shown(text: str) -> str:
    return clip(text.rstrip(".,;:)]}"), SHOWN_MAX)
