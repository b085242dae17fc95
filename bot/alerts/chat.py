"""Alerts-channel messages from monitoring bots → an `Alert`, or None when a message is no alert.

Words decide (attachment titles, then attachment bodies, blocks, the message text); the attachment
colour breaks ties and decides when no word does. Imports only the standard library and bot.alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.alerts.model import Alert, AlertStatus
from bot.alerts.payload import (
    DESCRIPTION_MAX,
    KEY_MAX,
    SEVERITY_MAX,
    clip,
    one_line,
    stable_hash,
)
from bot.alerts.slack_message import SlackMessage, read_message

DEFAULT_FIRING_PATTERN = (
    r"\b(?:FIRING|Firing|firing|PROBLEM|Problem|CRITICAL|DOWN|Re-Triggered|Triggered"
    r"|WARN(?:ING)?|Warn(?:ing)?|NO DATA|No [Dd]ata|ALERTING|Alerting|alerting|UNREACHABLE)\b"
)
DEFAULT_RESOLVED_PATTERN = (
    r"\b(?:RESOLVED|Resolved|resolved|Problem (?:has been )?resolved|RECOVERY|RECOVERED"
    r"|Recovered|OK|ok|UP)\b"
)
# Alertmanager's slack_configs default, Grafana, Zabbix (by severity), Nagios/Icinga, Checkmk.
DEFAULT_FIRING_COLORS = frozenset(
    {"danger", "warning", "d63232", "e01e5a", "ff0000", "ee0000", "ff9900", "ffdd00"}
    | {"e45959", "e97659", "ffa059", "ffc859", "7499ff", "97aab3"}
)
DEFAULT_RESOLVED_COLORS = frozenset({"good", "36a64f", "2eb67d", "009900", "00cc00"})

KEY_TEXT_MAX = 500
LABELS_MAX = 50
LABEL_VALUE_MAX = 1_000
_STATUS_WORDS = (
    r"FIRING|RESOLVED|ALERTING|OK|NO ?DATA|PROBLEM|RECOVERY|RECOVERED|RE-TRIGGERED|TRIGGERED"
    r"|WARN(?:ING)?|CRITICAL|DOWN|UP|PENDING"
)
# Status prefixes stripped from a title: "[FIRING:2] ", "Problem: ", "Resolved in 5m 3s: ",
# Nagios "** PROBLEM Service Alert: … **".
_PREFIXES = (
    re.compile(rf"\[\s*(?:{_STATUS_WORDS})(?:\s*:\s*\d+)?\s*\]\s*", re.IGNORECASE),
    re.compile(
        rf"(?:Problem(?: has been)? resolved|Resolved in [^:\n]{{1,40}}|{_STATUS_WORDS})\s*:\s*",
        re.IGNORECASE,
    ),
    re.compile(r"(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPINGSTART|FLAPPINGSTOP)\s+"),
)
_EMPHASIS = "*_~` "
# "Monitor is DOWN: shop" / "web1/HTTP is OK": the state inside a title, dropped from the key.
_STATE_IN_TITLE = re.compile(
    r"\s+is\s+(?:DOWN|UP|OK|CRITICAL|WARNING|UNKNOWN|UNREACHABLE|RECOVERED)\b", re.IGNORECASE
)
_KEY_NOISE = re.compile(r"[*`]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([:,.;)])")
_LABEL_LINE = re.compile(r"[\s•*_>-]*([A-Za-z][\w .\-]{0,39}?)[*_]*\s*:(?!//)[\s*_]*(.*)")


@dataclass(frozen=True)
class ChatAlertRules:
    """How alerts-channel messages are read; the defaults suit Alertmanager, Grafana, Zabbix…"""

    firing: re.Pattern[str] = re.compile(DEFAULT_FIRING_PATTERN)
    resolved: re.Pattern[str] = re.compile(DEFAULT_RESOLVED_PATTERN)
    firing_colors: frozenset[str] = DEFAULT_FIRING_COLORS  # Slack names or hex, "#" optional
    resolved_colors: frozenset[str] = DEFAULT_RESOLVED_COLORS
    bots: frozenset[str] = frozenset()  # bot/app/bot-user ids or usernames; empty: any bot
    allow_humans: bool = False


def classify_message(event: Mapping[str, object], rules: ChatAlertRules) -> Alert | None:
    """The alert a `message` event (or `message_changed` edit) reports, or None.

    None for other subtypes, people (unless `rules.allow_humans`), bots outside `rules.bots`,
    and messages with neither a firing/resolved word nor a firing/resolved colour.
    `message_ts` is the message's own ts (the edited message's for `message_changed`).
    """
    message = read_message(event)
    if message is None or not _allowed(message, rules):
        return None
    status = _status(message, rules)
    if status is None:
        return None
    title = _title(message)
    key = _key_text(title)
    labels = _labels(message)
    severity = labels.get("severity", "")
    return Alert(
        source="slack",
        status=status,
        group_key=f"slack:{key}",
        fingerprint=stable_hash(["slack", key]),
        title=title,
        description=_description(message, title),
        severity=one_line(severity, SEVERITY_MAX).strip(_EMPHASIS).lower() or None,
        labels=labels,
        link=_link(message),
        message_ts=message.ts,
    )


def _allowed(message: SlackMessage, rules: ChatAlertRules) -> bool:
    if not message.is_bot:
        return message.is_human and rules.allow_humans
    if not rules.bots:
        return True
    allowed = {bot.casefold() for bot in rules.bots}
    return any(sender.casefold() in allowed for sender in message.senders)


def _status(message: SlackMessage, rules: ChatAlertRules) -> AlertStatus | None:
    by_color = _color_status(message, rules)
    for text in _signal_texts(message):
        firing, resolved = rules.firing.search(text), rules.resolved.search(text)
        if firing and resolved:
            if by_color is not None:
                return by_color
            resolved_first = (resolved.start(), -len(resolved[0])) < (
                firing.start(),
                -len(firing[0]),
            )
            return AlertStatus.RESOLVED if resolved_first else AlertStatus.FIRING
        if firing:
            return AlertStatus.FIRING
        if resolved:
            return AlertStatus.RESOLVED
    return by_color


def _signal_texts(message: SlackMessage) -> Iterator[str]:
    for attachment in message.attachments:
        yield attachment.title
    for attachment in message.attachments:
        yield from (attachment.fallback, attachment.pretext, attachment.text)
        yield from (value for _, value in attachment.fields)
    yield from message.block_texts
    yield message.text


def _color_status(message: SlackMessage, rules: ChatAlertRules) -> AlertStatus | None:
    colors = {a.color for a in message.attachments if a.color}
    firing = colors & {_color(c) for c in rules.firing_colors}
    resolved = colors & {_color(c) for c in rules.resolved_colors}
    if firing and not resolved:
        return AlertStatus.FIRING
    if resolved and not firing:
        return AlertStatus.RESOLVED
    return None


def _color(color: str) -> str:
    return color.strip().lstrip("#").lower()


def _title(message: SlackMessage) -> str:
    """The first non-empty headline, its status prefixes stripped."""
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


def _key_text(title: str) -> str:
    """The title as a dedup key: firing and resolved wordings of one problem give the same key."""
    text = _STATE_IN_TITLE.sub("", _KEY_NOISE.sub("", title))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return clip(text.casefold(), KEY_TEXT_MAX) or clip(title.casefold(), KEY_TEXT_MAX)


def _labels(message: SlackMessage) -> dict[str, str]:
    """Attachment fields, then `Name: value` lines of attachment texts; names lower-cased."""
    labels: dict[str, str] = {}
    pairs = [pair for a in message.attachments for pair in a.fields]
    for attachment in message.attachments:
        for line in attachment.text.splitlines():
            match = _LABEL_LINE.fullmatch(line)
            if match:
                pairs.append((match[1], match[2]))
    for name, value in pairs:
        name = one_line(name, KEY_MAX).strip(_EMPHASIS).casefold()
        value = one_line(value.replace("`", ""), LABEL_VALUE_MAX).strip(_EMPHASIS)
        if name and value and len(labels) < LABELS_MAX:
            labels.setdefault(name, value)
    return labels


def _description(message: SlackMessage, title: str) -> str:
    """Everything the message says, fields as `Name: value` lines, each part once."""
    parts = [message.text]
    for attachment in message.attachments:
        parts += [attachment.pretext, attachment.text]
        parts += [f"{name}: {value}" if name else value for name, value in attachment.fields]
    parts += message.block_texts
    seen = {title, ""}
    shown = []
    for part in parts:
        part = part.strip()
        if part not in seen:
            seen.add(part)
            shown.append(part)
    return clip("\n".join(shown), DESCRIPTION_MAX)


def _link(message: SlackMessage) -> str | None:
    for attachment in message.attachments:
        if attachment.title_link:
            return attachment.title_link
    urls = [url for a in message.attachments for url in a.button_urls]
    return next(iter(urls + list(message.block_urls)), None)
