"""Text safety for Slack mrkdwn, plain text and email headers: escaping, neutralising, truncation.

Pure string functions; imports only bot.messages.encoded (the parse of Slack-encoded text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.messages import encoded

ZWSP = "\u200b"
ELLIPSIS = "…"
TRUNCATION_MARKER = "… (truncated)"

# C0/C1 controls except tab and newline, plus bidi overrides/isolates (they can disguise text).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BROADCAST_WORD = re.compile(r"@(?=(?:here|channel|everyone))", re.IGNORECASE)
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
_WHITESPACE = re.compile(r"\s+")


def clean(raw: str) -> str:
    """Normalise line endings to `\\n` and drop control characters other than newline and tab."""
    return _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))


def neutralise_broadcasts(text: str) -> str:
    """Make literal `@here`, `@channel`, `@everyone` inert: a zero-width space after the `@`."""
    return _BROADCAST_WORD.sub("@" + ZWSP, text)


def mrkdwn(raw: str) -> str:
    """Raw user or alert text → safe mrkdwn: shows literally and cannot ping anyone."""
    text = clean(raw).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_broadcasts(text)


def _inert_broadcast(name: str) -> str:
    return "@" + ZWSP + name


def neutralise_encoded(slack_text: str) -> str:
    """Slack-encoded message text → mrkdwn that keeps user/channel mentions and links, pings nobody.

    `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>` become inert text; `<!date^…>` is kept.
    """
    return "".join(_neutralised(part) for part in encoded.parts(clean(slack_text)))


def _escape_loose(text: str) -> str:
    """Escape stray `<`, `>` and bare `&` in already-encoded text; entities stay as they are."""
    text = _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_broadcasts(text)


def _label(label: str) -> str:
    return neutralise_broadcasts(label.replace("|", "¦"))


def _neutralised(part: encoded.Part) -> str:
    match part:
        case encoded.Text(text):
            return _escape_loose(text)
        case encoded.User(user):
            return f"<@{user}>"
        case encoded.Channel(channel, label):
            return f"<#{channel}|{_label(label)}>" if label else f"<#{channel}>"
        case encoded.Link(url, label):
            return f"<{url}|{_label(label)}>" if label else f"<{url}>"
        case encoded.Special("date", arg, label) if arg:
            return f"<!date{arg}|{_label(label)}>" if label else f"<!date{arg}>"
        case encoded.Special("subteam", _, label):
            return _inert_broadcast(_escape_loose(label.lstrip("@") or "group"))
        case encoded.Special(kind, _, label):
            return _inert_broadcast(_escape_loose(label.lstrip("@") if label else kind))
        case encoded.Unknown(inner):
            return _escape_loose(f"<{inner}>")


def slack_to_plain(slack_text: str, names: Mapping[str, str]) -> str:
    """Slack-encoded text → plain text for email (mentions by name, links as `label (url)`)."""
    return "".join(_plain(part, names) for part in encoded.parts(clean(slack_text)))


def _plain(part: encoded.Part, names: Mapping[str, str]) -> str:
    match part:
        case encoded.Text(text):
            return encoded.decode(text)
        case encoded.User(user, label):
            return "@" + (names.get(user) or encoded.decode(label) or user)
        case encoded.Channel(channel, label):
            return "#" + (encoded.decode(label) or names.get(channel) or channel)
        case encoded.Link(url, label):
            return encoded.link_text(encoded.decode(url), encoded.decode(label))
        case encoded.Special("date", _, label):
            return encoded.decode(label)
        case encoded.Special("subteam", arg, label):
            return "@" + (
                encoded.decode(label).lstrip("@") or names.get(arg.lstrip("^")) or "group"
            )
        case encoded.Special(kind, _, label):
            return "@" + (encoded.decode(label).lstrip("@") or kind)
        case encoded.Unknown(inner):
            return encoded.decode(f"<{inner}>")


def one_line(raw: str, limit: int) -> str:
    """One header-safe line: no CR/LF or other control characters, whitespace collapsed, ≤ limit."""
    text = _CONTROL.sub(" ", raw)
    text = _WHITESPACE.sub(" ", text).strip()  # \s covers \r, \n, \v, \f, U+0085, U+2028, U+2029
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def safe_cut(text: str, cut: int) -> int:
    """The largest index ≤ cut that does not split an `&…;` entity or a `<…>` sequence."""
    cut = max(0, min(cut, len(text)))
    opening = text.rfind("<", 0, cut)
    if opening != -1 and text.find(">", opening, cut) == -1:
        cut = opening
    amp = text.rfind("&", max(0, cut - 9), cut)
    if amp != -1 and ";" not in text[amp:cut] and re.match(r"&#?\w{1,8};", text[amp:]):
        cut = amp
    return cut


def truncate(text: str, limit: int) -> str:
    """`text` if it fits, else cut at a safe point and ending in `… (truncated)`; ≤ limit."""
    if len(text) <= limit:
        return text
    if limit < len(TRUNCATION_MARKER):
        return ELLIPSIS[:limit] if limit > 0 else ""
    cut = safe_cut(text, limit - len(TRUNCATION_MARKER))
    return text[:cut].rstrip() + TRUNCATION_MARKER
