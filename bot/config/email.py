"""The email section: the SMTP server (`SMTP_URL`, read into `SmtpSettings`) and the sender."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BeforeValidator, Field

from bot.config.fields import Section, parsed
from bot.config.parsers import CONTROL, EMAIL, LOOPBACK_NAMES, is_loopback
from bot.config.problems import refuse
from bot.config.secret import Secret

_SMTP_FORMAT = "smtp://[user:pass@]host:port[?starttls=true] or smtps://[user:pass@]host:port"
_NAMED_EMAIL = re.compile(r"(?P<name>[^<>]*)<(?P<address>[^<>]*)>")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: Secret | None = None
    starttls: bool = False
    ssl: bool = False  # smtps:// (implicit TLS, smtplib.SMTP_SSL)

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse `SMTP_URL`; its `ValueError` never quotes the URL (it may hold a password)."""
        smtp, problems = parse_smtp_url(url)
        if smtp is None:
            raise ValueError("; ".join(problems))
        return smtp


def parse_smtp_url(url: str) -> tuple[SmtpSettings | None, list[str]]:
    """The settings, or None and every problem (phrased to follow "SMTP_URL ", never quoting it)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None, [f"must look like {_SMTP_FORMAT}"]
    if parts.scheme not in ("smtp", "smtps"):
        return None, [f"must start with smtp:// or smtps:// ({_SMTP_FORMAT})"]
    problems: list[str] = []
    host = parts.hostname
    if not host:
        problems.append(f"has no host ({_SMTP_FORMAT})")
    try:
        port = parts.port
    except ValueError:
        port = None
        problems.append("has a port that is not a whole number from 1 to 65535")
    else:
        if port == 0:
            problems.append("has a port that is not a whole number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment or "#" in url:
        # Usually an unencoded "/" or "#" in the password: the rest of the URL shifted silently.
        problems.append(
            "must not have a path or fragment (percent-encode '/', '#', '?', '@' and ':' "
            "in the user name and password)"
        )
    ssl = parts.scheme == "smtps"
    starttls = False
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name != "starttls":
            problems.append("has an unknown option (only ?starttls=true is understood)")
        elif value.lower() in _TRUE:
            starttls = True
        elif value.lower() not in _FALSE:
            problems.append("has a starttls option that is neither true nor false")
    if ssl and starttls:
        problems.append("cannot combine smtps:// (TLS from the start) with starttls=true")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if (username is None) != (password is None):
        problems.append("must give both a user name and a password, or neither")
    if password is not None and not (ssl or starttls) and host and not is_loopback(host):
        problems.append(
            "has a password but no TLS, so the password would cross the network in clear: use "
            f"smtps:// or ?starttls=true (plain smtp:// with a password only to {LOOPBACK_NAMES})"
        )
    if problems or host is None:
        return None, list(dict.fromkeys(problems))
    return SmtpSettings(
        host=host,
        port=port or (465 if ssl else 25),
        username=username,
        password=Secret(password) if password is not None else None,
        starttls=starttls,
        ssl=ssl,
    ), []


def _smtp(value: object) -> object:
    if not isinstance(value, str):
        return value
    smtp, problems = parse_smtp_url(value)
    if smtp is None:
        raise refuse(*problems)
    return smtp


def _parse_email_from(value: str) -> str:
    if CONTROL.search(value):  # CR/LF would inject headers into every email sent
        raise ValueError(value)
    named = _NAMED_EMAIL.fullmatch(value)
    address = named.group("address").strip() if named else value
    if not EMAIL.fullmatch(address):
        raise ValueError(value)
    return value


EmailFrom = Annotated[
    str,
    parsed(
        _parse_email_from,
        "must be one email address such as helpdesk@msp.example or "
        "'MSP Helpdesk <helpdesk@msp.example>', on one line",
    ),
]


class EmailSection(Section):
    """Email out: the SMTP server and the sender (`EMAIL_FROM` is required with `SMTP_URL`)."""

    smtp: Annotated[SmtpSettings, BeforeValidator(_smtp)] | None = Field(
        default=None, validation_alias="SMTP_URL"
    )
    email_from: EmailFrom | None = Field(default=None, validation_alias="EMAIL_FROM")

    @property
    def email_from_address(self) -> str | None:
        """The bare address of `email_from` (which may be `Display Name <address>`)."""
        if self.email_from is None:
            return None
        named = _NAMED_EMAIL.fullmatch(self.email_from)
        return named.group("address").strip() if named else self.email_from
