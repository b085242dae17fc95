"""Alerts-channel messages from monitoring bots → an `Alert`, or None when a message is no alert.

Words decide (attachment titles, then attachment bodies, blocks, the message text); the attachment
colour breaks ties and decides when no word does. Imports only the standard library, bot.alerts
and `bot.config.alerts` (the rules' settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.alerts.legacy_key import legacy_key_text
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
from bot.alerts.title import EMPHASIS, clean_title, key_text, strip_mentions
from bot.alerts.tools import recognise
from bot.config.alerts import ChatAlertRules

LABELS_MAX = 50
LABEL_VALUE_MAX = 1_000
# Grafana's and Alertmanager's default Slack text: " - instance = fs01.acme.test:9100" lines
# (__text_alert_list in grafana/alerting templates/default_template.go).
_TEMPLATE_LABEL_LINE = re.compile(r"\s*-\s+([A-Za-z_][\w.\-]{0,39})\s+=\s+(.*)")
_LABEL_LINE = re.compile(r"[\s•*_>-]*([A-Za-z][\w .\-]{0,39}?)[*_]*\s*:(?!//)[\s*_]*(.*)")
# Uptime Kuma: "[monitor name] [🔴 Down] message" (server/notification-providers/slack.js).
_UPTIME_KUMA_LINE = re.compile(
    r"\[(?P<name>[^\[\]\n]{1,200})\]\s*\[[^\[\]\n]*\b(?:Down|Up|Pending|Maintenance)\]"
)
_CHECKMK_ADDRESS = re.compile(r"\s*\(IP:[^)]*\)\s*\Z")
_PRIORITY_TAG = re.compile(r"\[\s*(P[0-5])\s*\]", re.IGNORECASE)
_STATE_WORD = re.compile(
    r"\b(?:is|are)\s+(CRITICAL|WARNING|UNKNOWN|DOWN|UNREACHABLE)\b", re.IGNORECASE
)
_SEVERITY_LABELS = ("severity", "priority", "state")


@dataclass(frozen=True)
class _Headline:
    raw: str  # as the tool wrote it (severity words are read from it)
    title: str  # cleaned: what the ticket is called
    key: str  # what names the problem across firing and recovery


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
    tool = recognise(message)
    labels = _labels(message)
    headline = _headline(message, tool, labels)
    key = f"slack:{key_text(headline.key)}"
    legacy = _legacy_key(event)
    return Alert(
        source="slack",
        status=status,
        group_key=key,
        fingerprint=stable_hash(["slack", key.removeprefix("slack:")]),
        title=headline.title,
        description=_description(message, headline.title),
        severity=_severity(labels, headline.raw),
        labels=labels,
        link=_link(message),
        message_ts=message.ts,
        tool=tool,
        legacy_group_key=f"slack:{legacy}" if legacy and f"slack:{legacy}" != key else None,
        legacy_fingerprint=stable_hash(["slack", legacy]) if legacy else None,
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


def _headline(message: SlackMessage, tool: str | None, labels: dict[str, str]) -> _Headline:
    if tool == "uptime-kuma":
        for text in _texts(message):
            for line in text.splitlines():
                match = _UPTIME_KUMA_LINE.search(line)
                if match:
                    title = clean_title(line[match.start() :]) or match["name"]
                    return _Headline(line, title, f"uptime-kuma {match['name'].strip()}")
    if tool == "checkmk" and labels.get("host"):
        host = _CHECKMK_ADDRESS.sub("", labels["host"]).strip()
        service = labels.get("service", "").strip()
        state = labels.get("state", "").strip()
        if service:
            return _Headline(state, clean_title(f"{host}: {service}"), f"checkmk {host}/{service}")
        return _Headline(state, clean_title(f"{host}: host {state.lower()}"), f"checkmk {host}")
    raw, title = _title(message)
    return _Headline(raw, title, title)


def _texts(message: SlackMessage) -> list[str]:
    texts = [t for a in message.attachments for t in (a.title, a.fallback, a.pretext, a.text)]
    return [*texts, *message.block_texts, message.text]


def _title(message: SlackMessage) -> tuple[str, str]:
    """The first headline left non-empty once cleaned, as written and cleaned."""
    candidates = [a.title for a in message.attachments]
    candidates += [a.fallback for a in message.attachments]
    candidates += [a.pretext for a in message.attachments]
    candidates += [a.text.strip().split("\n", 1)[0] for a in message.attachments]
    candidates += [text.strip().split("\n", 1)[0] for text in message.block_texts]
    candidates.append(message.text.strip().split("\n", 1)[0])
    for candidate in candidates:
        title = clean_title(candidate)
        if title:
            return candidate, title
    sender = message.senders[0] if message.senders else "a monitoring bot"
    return "", one_line(f"Alert from {strip_mentions(sender)}")


def _severity(labels: dict[str, str], raw_title: str) -> str | None:
    """A severity, priority or state label; else Datadog's `[P1]` or Nagios' `is CRITICAL`."""
    for name in _SEVERITY_LABELS:
        value = one_line(labels.get(name, ""), SEVERITY_MAX).strip(EMPHASIS).lower()
        if value:
            return value
    for pattern in (_PRIORITY_TAG, _STATE_WORD):
        match = pattern.search(raw_title)
        if match:
            return match[1].lower()
    return None


def _legacy_key(event: Mapping[str, object]) -> str | None:
    """The key releases before issue 13 gave this message, so their open tickets are found."""
    message = read_message(event, legacy=True)
    if message is None:
        return None
    return legacy_key_text(message)


def _labels(message: SlackMessage) -> dict[str, str]:
    """Attachment fields, then `Name: value` and ` - name = value` lines of attachment texts;
    names lower-cased, the first of each name kept."""
    labels: dict[str, str] = {}
    pairs = [pair for a in message.attachments for pair in a.fields]
    for attachment in message.attachments:
        for line in attachment.text.splitlines():
            match = _LABEL_LINE.fullmatch(line) or _TEMPLATE_LABEL_LINE.fullmatch(line)
            if match:
                pairs.append((match[1], match[2]))
    for name, value in pairs:
        name = one_line(name, KEY_MAX).strip(EMPHASIS).casefold()
        value = one_line(value.replace("`", ""), LABEL_VALUE_MAX).strip(EMPHASIS)
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
