"""Block Kit builders that enforce Slack's limits, and the shared ticket vocabulary (priority, age).

Every builder truncates visibly instead of failing; none of them escapes: callers pass safe mrkdwn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.messages import limits
from bot.messages.escape import (
    ZWSP,
    clean,
    mrkdwn,
    neutralise_broadcasts,
    one_line,
    safe_cut,
    truncate,
)
from bot.messages.limits import Block
from bot.messages.view import AFFECTED_CHOICES, STATE_LABELS, PersonRef, TicketView

PRIORITY_EMOJI = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "⚪"}
FINAL_STATES = frozenset({"closed", "cancelled"})

_SEQUENCE_START = re.compile(r"<(?=[!@#])")
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_SAFE_URL = re.compile(r"https?://[^\s<>|\"]+", re.IGNORECASE)
_MENTION = re.compile(
    r"<!(?:here|channel|everyone)>|<!subteam\^S[A-Z0-9]+(?:\|@?[\w.-]+)?>|<@[UW][A-Z0-9]+>"
)


# --- text objects -------------------------------------------------------------------------------


def md(text: str, limit: int = limits.TEXT_OBJECT) -> dict[str, object]:
    """A mrkdwn text object. `verbatim` stops Slack's auto-parsing; explicit `<…>` still works."""
    return {"type": "mrkdwn", "text": truncate(text, limit) or "—", "verbatim": True}


def plain(raw: str, limit: int = limits.TEXT_OBJECT) -> dict[str, object]:
    """A plain_text object from raw text (shown literally, so not entity-escaped)."""
    # plain_text does not parse `<!channel>`; a zero-width space keeps it inert regardless.
    text = _SEQUENCE_START.sub("<" + ZWSP, neutralise_broadcasts(clean(raw))).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return {"type": "plain_text", "text": text or "—", "emoji": True}


def plain_line(raw: str, limit: int) -> dict[str, object]:
    """A single-line plain_text object (labels, titles, option texts)."""
    return plain(one_line(raw, limit) or "—", limit)


# --- blocks -------------------------------------------------------------------------------------


def _with_id(block: Block, block_id: str | None) -> Block:
    if block_id:
        block["block_id"] = block_id[: limits.BLOCK_ID]
    return block


def header(raw_text: str, block_id: str | None = None) -> Block:
    return _with_id({"type": "header", "text": plain_line(raw_text, limits.HEADER_TEXT)}, block_id)


def section(text: str, block_id: str | None = None, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": md(text, limits.SECTION_TEXT)}
    if accessory is not None:
        block["accessory"] = accessory
    return _with_id(block, block_id)


def fields_section(fields: Sequence[str], block_id: str | None = None) -> Block:
    items = [md(f, limits.FIELD_TEXT) for f in fields[: limits.MAX_FIELDS]]
    return _with_id({"type": "section", "fields": items}, block_id)


def context(texts: Sequence[str], block_id: str | None = None) -> Block:
    elements = [md(t) for t in texts[: limits.CONTEXT_ELEMENTS]]
    return _with_id({"type": "context", "elements": elements}, block_id)


def divider() -> Block:
    return {"type": "divider"}


def actions(elements: Sequence[Block], block_id: str | None = None) -> Block:
    return _with_id(
        {"type": "actions", "elements": list(elements[: limits.ACTIONS_ELEMENTS])}, block_id
    )


def button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain_line(label, limits.BUTTON_TEXT),
        "value": value[: limits.BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def option(label: str, value: str, description: str | None = None) -> Block:
    opt: Block = {
        "text": plain_line(label, limits.OPTION_TEXT),
        "value": value[: limits.OPTION_VALUE],
    }
    if description:
        opt["description"] = plain_line(description, limits.OPTION_DESCRIPTION)
    return opt


def chunked_sections(text: str, block_prefix: str | None = None) -> list[Block]:
    """Long mrkdwn as several sections of ≤ 3000 chars, split at line ends or safe points."""
    parts: list[str] = []
    rest = text
    while len(rest) > limits.SECTION_TEXT:
        cut = rest.rfind("\n", 0, limits.SECTION_TEXT)
        if cut < limits.SECTION_TEXT // 2:
            cut = safe_cut(rest, limits.SECTION_TEXT)
            if cut == 0:  # a single giant sequence; truncate it instead of looping
                cut = limits.SECTION_TEXT
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    parts.append(rest)
    return [
        section(p, f"{block_prefix}-{i}" if block_prefix else None) for i, p in enumerate(parts)
    ]


def packed_lines(lines: Sequence[str], budget: int, *, more: str = "… and {n} more") -> list[Block]:
    """Lines packed into ≤ 3000-char sections, stopping visibly when `budget` chars are used."""
    blocks: list[Block] = []
    current: list[str] = []
    size = used = 0
    for index, line in enumerate(lines):
        line = truncate(line, limits.SECTION_TEXT // 2)
        if used + len(line) + 1 > budget:
            tail = more.format(n=len(lines) - index)
            if size + len(tail) + 1 > limits.SECTION_TEXT and current:
                blocks.append(section("\n".join(current)))
                current = []
            current.append(tail)
            break
        if size + len(line) + 1 > limits.SECTION_TEXT and current:
            blocks.append(section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
        used += len(line) + 1
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


# --- ticket vocabulary --------------------------------------------------------------------------


def priority_label(priority: str, escape: Callable[[str], str] = mrkdwn) -> str:
    """`🔴 Critical`; unknown values are shown escaped (mrkdwn unless said) without an emoji."""
    emoji = PRIORITY_EMOJI.get(priority)
    name = escape(one_line(priority, 30)).replace("_", " ").capitalize()
    return f"{emoji} {name}" if emoji else name


def priority_text(priority: str) -> str:
    """`🔴 critical` for running text."""
    emoji = PRIORITY_EMOJI.get(priority)
    name = mrkdwn(one_line(priority, 30))
    return f"{emoji} {name}" if emoji else name


def state_label(state: str, escape: Callable[[str], str] = mrkdwn) -> str:
    return STATE_LABELS.get(state) or escape(one_line(state, 30))


def affected_label(key: str | None, escape: Callable[[str], str] = mrkdwn) -> str:
    if not key:
        return "—"
    return AFFECTED_CHOICES.get(key) or escape(one_line(key, 60))


def who(person: PersonRef | None, *, default: str = "—") -> str:
    """A person in mrkdwn: a `<@U…>` mention when they have a Slack id, else their escaped name."""
    if person is None:
        return default
    if person.slack_id and _SLACK_USER_ID.fullmatch(person.slack_id):
        return f"<@{person.slack_id}>"
    return name_of(person)


def name_of(person: PersonRef) -> str:
    """A person's escaped display name, never a mention (for text that must not notify them)."""
    raw = person.name or person.email or person.slack_id or "someone"
    return mrkdwn(one_line(raw, 80))


def people(
    persons: Sequence[PersonRef],
    budget: int,
    *,
    default: str = "—",
    show: Callable[[PersonRef], str] = who,
) -> str:
    """Comma-separated people (mentions unless `show` says), ending in `+N more` when they do
    not fit in `budget` chars."""
    shown: list[str] = []
    size = 0
    for index, person in enumerate(persons):
        item = show(person)
        suffix = len(f", +{len(persons)} more")
        if size + len(item) + 2 + suffix > budget:
            shown.append(f"+{len(persons) - index} more")
            break
        shown.append(item)
        size += len(item) + 2
    return ", ".join(shown) or default


def age(created_at: datetime, now: datetime) -> str:
    """`12 min`, `3 h 5 min`, `2 d 4 h`; `< 1 min` for fresh (or future) timestamps."""
    return span(now - created_at)


def span(length: timedelta) -> str:
    """A duration as `age` shows it."""
    minutes = int(length.total_seconds() // 60)
    if minutes < 1:
        return "< 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def duration(length: timedelta | None) -> str:
    """`3 h 5 min`, `2 d 4 h`; `—` when there was nothing to average."""
    return "—" if length is None else span(length)


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a plain http(s) URL, else just the escaped label (label is safe mrkdwn)."""
    if not url or not _SAFE_URL.fullmatch(url):
        return label
    return f"<{url.replace('&', '&amp;')}|{label.replace('|', '¦')}>"


def ticket_ref(view: TicketView, limit: int = 200) -> str:
    """`*#12* Internet down at HQ` — id and escaped one-line title."""
    return f"*#{view.id}* {mrkdwn(one_line(view.title, limit))}"


def check_mention(mention: str) -> str:
    """`mention` if it is one or more Slack mention tokens (our own config), else ValueError."""
    tokens = mention.split()
    if not tokens or not all(_MENTION.fullmatch(t) for t in tokens):
        raise ValueError(f"not a Slack mention: {mention!r}")
    return " ".join(tokens)


def fallback(text: str) -> str:
    """A notification fallback `text` (safe mrkdwn) kept within FALLBACK_TEXT."""
    return truncate(" ".join(text.split()), limits.FALLBACK_TEXT) or " "
