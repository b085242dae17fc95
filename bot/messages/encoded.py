"""Slack-encoded text (our chat messages' text: `<@U…>`, `<#C…|name>`, `<url|label>`, `<!here>`,
`&lt;`) read into its parts, once; each surface's escaping writes the parts its own way
(bot/messages/escape.py for mrkdwn and plain text, bot/teams/text.py for Teams). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Anything Slack treats as a control sequence: `<...>` without nested angle brackets.
_SEQUENCE = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|([^<>]*))?")
_CHANNEL = re.compile(r"#([CG][A-Z0-9]+)(?:\|([^<>]*))?")
_LINK = re.compile(r"((?:https?|mailto|tel|ftp):[^|<>\s]+)(?:\|([^<>]*))?", re.IGNORECASE)
_SPECIAL = re.compile(r"!([a-z]+)(\^[^|<>]*)?(?:\|([^<>]*))?", re.IGNORECASE)


# Every value below is as the encoded text has it (entities not decoded); a missing label is "".
@dataclass(frozen=True)
class Text:
    """The text between two sequences."""

    text: str


@dataclass(frozen=True)
class _Reference:
    target: str  # the user id, channel id or address
    label: str


class User(_Reference):
    """`<@U123|label>`: a user mention."""


class Channel(_Reference):
    """`<#C123|name>`: a channel reference."""


class Link(_Reference):
    """`<https://…|label>` (also mailto:, tel:, ftp:)."""


@dataclass(frozen=True)
class Special:
    """`<!here>`, `<!subteam^S1|@group>`, `<!date^…|fallback>`: `kind` lower-case, `arg` with
    its `^`."""

    kind: str
    arg: str
    label: str


@dataclass(frozen=True)
class Unknown:
    """A `<…>` that is none of the above: shown as typed."""

    inner: str


Part = Text | User | Channel | Link | Special | Unknown


def parts(text: str) -> Iterator[Part]:
    """`text` (already cleaned of control characters) as its parts, in order."""
    pos = 0
    for match in _SEQUENCE.finditer(text):
        yield Text(text[pos : match.start()])
        yield _sequence(match.group(1))
        pos = match.end()
    yield Text(text[pos:])


def _sequence(inner: str) -> Part:
    if m := _USER.fullmatch(inner):
        return User(m.group(1), m.group(2) or "")
    if m := _CHANNEL.fullmatch(inner):
        return Channel(m.group(1), m.group(2) or "")
    if m := _LINK.fullmatch(inner):
        return Link(m.group(1), m.group(2) or "")
    if m := _SPECIAL.fullmatch(inner):
        return Special(m.group(1).lower(), m.group(2) or "", m.group(3) or "")
    return Unknown(inner)


def decode(text: str) -> str:
    """Slack's three entities back to their characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link_text(url: str, label: str) -> str:
    """A link (decoded) as words that always show where it goes: `label (url)`, or the bare
    address when the label says nothing more."""
    if url.lower().startswith("mailto:") and (not label or label == url[7:]):
        return url[7:]
    if not label or label in (url, url.split("://", 1)[-1]):
        return url
    return f"{label} ({url})"
