"""Text for Teams cards: raw text made inert, and our Slack mrkdwn translated to Teams markdown.

Pure string functions; imports only `bot.messages.escape`. Teams creates a mention only from an
entity we attach, but markdown in a TextBlock can still make links and images: user text never keeps
the syntax for them, and `<at>` in user text is broken up so that no entity could ever bind to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.messages.escape import TRUNCATION_MARKER, ZWSP, clean

# A zero-width space after `<` (autolinks, `<at>`) and `]` (inline and reference links, images)
# keeps the characters visible and the markup dead; `${` would start an Adaptive Card template.
_INERT = re.compile(r"([<\]])|\$(?=\{)")
_SEQUENCE = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|([^<>]*))?")
_CHANNEL = re.compile(r"#([CG][A-Z0-9]+)(?:\|([^<>]*))?")
_LINK = re.compile(r"((?:https?|mailto|tel|ftp):[^|<>\s]+)(?:\|([^<>]*))?", re.IGNORECASE)
_SPECIAL = re.compile(r"!([a-z]+)(\^[^|<>]*)?(?:\|([^<>]*))?", re.IGNORECASE)
# Slack's `*bold*` and `~strike~`: the marker hugs non-space text and is not inside a word.
_BOLD = re.compile(r"(?<![\w*])\*(?![\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?![\s~])([^~\n]*?[^\s~])~(?![\w~])")


def teams_md(raw: str) -> str:
    """Raw user or alert text → Teams markdown that cannot link, show an image or mention."""
    return _INERT.sub(lambda m: (m.group(1) or "$") + ZWSP, clean(raw))


def _decode(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_to_teams(slack_text: str, names: Mapping[str, str]) -> str:
    """Our Slack mrkdwn (as messages.py and alerts.py write it) → Teams markdown.

    `names` maps Slack user ids to display names; unknown users become "someone". Links show their
    address (`label (url)`): a markdown link could disguise where a user's link goes. Broadcasts
    (`<!here>`, `<!channel>`, `<!subteam^…>`) are dropped; `<!date^…|fallback>` keeps its fallback.
    """
    text = clean(slack_text)
    out: list[str] = []
    pos = 0
    for match in _SEQUENCE.finditer(text):
        out.append(teams_md(_decode(text[pos : match.start()])))
        out.append(_sequence(match.group(1), names))
        pos = match.end()
    out.append(teams_md(_decode(text[pos:])))
    translated = _BOLD.sub(r"**\1**", "".join(out))
    return _STRIKE.sub(r"\1", translated)


def _sequence(inner: str, names: Mapping[str, str]) -> str:
    if m := _USER.fullmatch(inner):
        return teams_md(names.get(m.group(1)) or "someone")
    if m := _CHANNEL.fullmatch(inner):
        label = _decode(m.group(2) or "") or names.get(m.group(1)) or "channel"
        return "#" + teams_md(label)
    if m := _LINK.fullmatch(inner):
        url = _decode(m.group(1))
        label = _decode(m.group(2) or "")
        if url.lower().startswith("mailto:") and (not label or label == url[7:]):
            return teams_md(url[7:])
        if not label or label in (url, url.split("://", 1)[-1]):
            return teams_md(url)
        return f"{teams_md(label)} ({teams_md(url)})"
    if m := _SPECIAL.fullmatch(inner):
        if m.group(1).lower() == "date":
            return teams_md(_decode(m.group(3) or ""))
        return ""  # here / channel / everyone / subteam: nobody is pinged from a translation
    return teams_md(_decode(f"<{inner}>"))


def paragraphs(text: str) -> str:
    """Teams TextBlocks break lines only at blank lines outside lists: `\\n` → `\\n\\n`."""
    return re.sub(r"\n+", "\n\n", text.strip("\n"))


def clip(text: str, limit: int) -> str:
    """`text` if it fits, else cut and ending in `… (truncated)`; ≤ limit characters.

    Unlike escape.truncate this knows no Slack sequences: a cut inside our inert markup leaves
    it inert (`<` or `]` followed by the marker).
    """
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATION_MARKER), 0)].rstrip() + TRUNCATION_MARKER
