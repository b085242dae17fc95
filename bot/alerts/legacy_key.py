"""The dedup key alerts-channel messages had before titles lost mentions and status tags.

Kept unchanged so that an alert group opened by an older release is found by its next repeat or
recovery and re-keyed (see `AlertService`); change nothing here. Imports only the standard
library and `bot.alerts.*`.
"""

from __future__ import annotations

import re

from bot.alerts.payload import clip, one_line
from bot.alerts.slack_message import SlackMessage

_KEY_TEXT_MAX = 500
_STATUS_WORDS = (
    r"FIRING|RESOLVED|ALERTING|OK|NO ?DATA|PROBLEM|RECOVERY|RECOVERED|RE-TRIGGERED|TRIGGERED"
    r"|WARN(?:ING)?|CRITICAL|DOWN|UP|PENDING"
)
_PREFIXES = (
    re.compile(rf"\[\s*(?:{_STATUS_WORDS})(?:\s*:\s*\d+)?\s*\]\s*", re.IGNORECASE),
    re.compile(
        rf"(?:Problem(?: has been)? resolved|Resolved in [^:\n]{{1,40}}|{_STATUS_WORDS})\s*:\s*",
        re.IGNORECASE,
    ),
    re.compile(r"(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPINGSTART|FLAPPINGSTOP)\s+"),
)
_EMPHASIS = "*_~` "
_STATE_IN_TITLE = re.compile(
    r"\s+is\s+(?:DOWN|UP|OK|CRITICAL|WARNING|UNKNOWN|UNREACHABLE|RECOVERED)\b", re.IGNORECASE
)
_KEY_NOISE = re.compile(r"[*`]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([:,.;)])")


def legacy_key_text(message: SlackMessage) -> str:
    """The old key of a message read with `read_message(..., legacy=True)`."""
    title = _title(message)
    text = _STATE_IN_TITLE.sub("", _KEY_NOISE.sub("", title))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return clip(text.casefold(), _KEY_TEXT_MAX) or clip(title.casefold(), _KEY_TEXT_MAX)


def _title(message: SlackMessage) -> str:
    candidates = [a.title for a in message.attachments]
    candidates += [a.fallback for a in message.attachments]
    candidates += [a.pretext for a in message.attachments]
    candidates += [a.text.strip().split("\n", 1)[0] for a in message.attachments]
    candidates += [text.strip().split("\n", 1)[0] for text in message.block_texts]
    candidates.append(message.text.strip().split("\n", 1)[0])
    for candidate in candidates:
        title = _strip_status(one_line(candidate).strip(_EMPHASIS))
        if title:
            return title
    sender = message.senders[0] if message.senders else "a monitoring bot"
    return one_line(f"Alert from {sender}")


def _strip_status(title: str) -> str:
    for _ in range(3):
        before = title
        for prefix in _PREFIXES:
            match = prefix.match(title)
            if match:
                title = title[match.end() :]
        title = title.strip(_EMPHASIS)
        if title == before:
            break
    return title
