"""Text safety for Slack mrkdwn, plain text and email headers: escaping, neutralising, truncation.

Pure string functions; imports nothing from the rest of the project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ZWSP = "\u200b"
ELLIPSIS = "…"
TRUNCATION_MARKER = "… (truncated)"

# C0/C1 controls except tab and newline, plus bidi overrides/isolates (they can disguise text).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BROADCAST_WORD = re.compile(r"@(?=(?:here|channel|everyone))", re.IGNORECASE)
# Anything Slack treats as a control sequence: `<...>` without nested angle brackets.
_SEQUENCE = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|([^<>]*))?")
_CHANNEL = re.compile(r"#([CG][A-Z0-9]+)(?:\|([^<>]*))?")
_LINK = re.compile(r"((?:https?|mailto|tel|ftp):[^|<>\s]+)(?:\|([^<>]*))?", re.IGNORECASE)
_SPECIAL = re.compile(r"!([a-z]+)(\^[^|<>]*)?(?:\|([^<>]*))?", re.IGNORECASE)
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
    text = clean(slack_text)
    out: list[str] = []
    pos = 0
    for match in _SEQUENCE.finditer(text):
        out.append(_escape_loose(text[pos : match.start()]))
        out.append(_neutralise_sequence(match.group(1)))
        pos = match.end()
    out.append(_escape_loose(text[pos:]))
    return "".join(out)


def _escape_loose(text: str) -> str:
    """Escape stray `<`, `>` and bare `&` in already-encoded text; entities stay as they are."""
    text = _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_broadcasts(text)


def _label(label: str) -> str:
    return neutralise_broadcasts(label.replace("|", "¦"))


def _neutralise_sequence(inner: str) -> str:
    if m := _USER.fullmatch(inner):
        return f"<@{m.group(1)}>"
    if m := _CHANNEL.fullmatch(inner):
        return f"<#{m.group(1)}|{_label(m.group(2))}>" if m.group(2) else f"<#{m.group(1)}>"
    if m := _LINK.fullmatch(inner):
        return f"<{m.group(1)}|{_label(m.group(2))}>" if m.group(2) else f"<{m.group(1)}>"
    if m := _SPECIAL.fullmatch(inner):
        kind, arg, label = m.group(1).lower(), m.group(2), m.group(3)
        if kind == "date" and arg:
            return f"<!date{arg}|{_label(label)}>" if label else f"<!date{arg}>"
        if kind == "subteam":
            name = (label or "").lstrip("@") or "group"
            return _inert_broadcast(_escape_loose(name))
        return _inert_broadcast(_escape_loose(label.lstrip("@") if label else kind))
    return _escape_loose(f"<{inner}>")


def slack_to_plain(slack_text: str, names: Mapping[str, str]) -> str:
    """Slack-encoded text → plain text for email (mentions by name, links as `label (url)`)."""
    text = clean(slack_text)
    out: list[str] = []
    pos = 0
    for match in _SEQUENCE.finditer(text):
        out.append(_decode(text[pos : match.start()]))
        out.append(_plain_sequence(match.group(1), names))
        pos = match.end()
    out.append(_decode(text[pos:]))
    return "".join(out)


def _decode(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_sequence(inner: str, names: Mapping[str, str]) -> str:
    if m := _USER.fullmatch(inner):
        return "@" + (names.get(m.group(1)) or _decode(m.group(2) or "") or m.group(1))
    if m := _CHANNEL.fullmatch(inner):
        return "#" + (_decode(m.group(2) or "") or names.get(m.group(1)) or m.group(1))
    if m := _LINK.fullmatch(inner):
        url = _decode(m.group(1))
        label = _decode(m.group(2) or "")
        if url.lower().startswith("mailto:") and (not label or label == url[7:]):
            return url[7:]
        if not label or label in (url, url.split("://", 1)[-1]):
            return url
        return f"{label} ({url})"
    if m := _SPECIAL.fullmatch(inner):
        kind, arg, label = m.group(1).lower(), m.group(2) or "", _decode(m.group(3) or "")
        if kind == "date":
            return label
        if kind == "subteam":
            group_id = arg.lstrip("^")
            return "@" + (label.lstrip("@") or names.get(group_id) or "group")
        return "@" + (label.lstrip("@") or kind)
    return _decode(f"<{inner}>")


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
