"""Text for Teams cards: raw text made inert, and our Slack mrkdwn translated to Teams markdown.

Pure string functions over bot.messages.encoded's parse of Slack text. Teams creates a mention only
from an entity we attach, but markdown in a TextBlock can still make links and images: user text
never keeps the syntax for them, and `<at>` in user text is broken up so that no entity could ever
bind to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.messages import encoded
from bot.messages.escape import TRUNCATION_MARKER, ZWSP, clean

# A zero-width space after `<` (autolinks, `<at>`) and `]` (inline and reference links, images)
# keeps the characters visible and the markup dead; `${` would start an Adaptive Card template.
_INERT = re.compile(r"([<\]])|\$(?=\{)")
# Slack's `*bold*` and `~strike~`: the marker hugs non-space text and is not inside a word.
_BOLD = re.compile(r"(?<![\w*])\*(?![\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?![\s~])([^~\n]*?[^\s~])~(?![\w~])")


def teams_md(raw: str) -> str:
    """Raw user or alert text → Teams markdown that cannot link, show an image or mention."""
    return _INERT.sub(lambda m: (m.group(1) or "$") + ZWSP, clean(raw))


def slack_to_teams(slack_text: str, names: Mapping[str, str]) -> str:
    """Our Slack mrkdwn (as messages.py and alerts.py write it) → Teams markdown.

    `names` maps Slack user ids to display names; unknown users become "someone". Links show their
    address (`label (url)`): a markdown link could disguise where a user's link goes. Broadcasts
    (`<!here>`, `<!channel>`, `<!subteam^…>`) are dropped; `<!date^…|fallback>` keeps its fallback.
    """
    translated = "".join(_teams(part, names) for part in encoded.parts(clean(slack_text)))
    return _STRIKE.sub(r"\1", _BOLD.sub(r"**\1**", translated))


def _teams(part: encoded.Part, names: Mapping[str, str]) -> str:
    match part:
        case encoded.Text(text):
            return teams_md(encoded.decode(text))
        case encoded.User(user):
            return teams_md(names.get(user) or "someone")
        case encoded.Channel(channel, label):
            return "#" + teams_md(encoded.decode(label) or names.get(channel) or "channel")
        case encoded.Link(url, label):
            return teams_md(encoded.link_text(encoded.decode(url), encoded.decode(label)))
        case encoded.Special("date", _, label):
            return teams_md(encoded.decode(label))
        case encoded.Special():
            return ""  # here / channel / everyone / subteam: nobody is pinged from a translation
        case encoded.Unknown(inner):
            return teams_md(encoded.decode(f"<{inner}>"))


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
