"""Teams and Adaptive Card limits, and fitting a finished card into them with visible truncation."""

from __future__ import annotations

import json
from collections.abc import Iterator

from bot.messages.escape import TRUNCATION_MARKER

Card = dict[str, object]

# Teams answers 413 MessageSizeTooBig above about 100 KB per bot message (older docs: 40 KB), and a
# Power Automate Workflows webhook takes about 28 KB per request (shared/reference/teams.md). One
# budget serves both: a card stays under it measured as `json.dumps` writes it by default
# (ASCII-escaped, so ≥ its UTF-8 size), leaving room for the activity or webhook envelope.
MAX_CARD_BYTES = 26_000
# Teams' host config shows at most 6 actions per action set and drops the rest
# (adaptivecards-designer hostConfigs/microsoft-teams-light.json: actions.maxActions).
MAX_ACTIONS = 6
# Choices in one ChoiceSet: the same cap as Slack's static_select (bot/messages/limits.py), which
# also keeps a dialog of long names inside MAX_CARD_BYTES.
MAX_CHOICES = 100
# Our own per-field caps, so a card is readable before MAX_CARD_BYTES is ever reached.
TITLE = 300
DESCRIPTION = 3000
SUMMARY = 1000  # the activity's notification text
NAME = 80
# What the titles of one ChoiceSet may take of MAX_CARD_BYTES (100 long names would not fit).
CHOICE_TITLES_BYTES = 14_000
# fit_card never cuts a text below this many characters.
_MIN_CUT = 24


def card_size(card: Card) -> int:
    """The size `MAX_CARD_BYTES` is measured in."""
    return len(json.dumps(card))


def encoded_size(text: str) -> int:
    """The size of `text` inside a card, as card_size counts it."""
    return len(json.dumps(text)) - 2


def _cuttable(value: object, parent_type: str = "") -> Iterator[tuple[dict[str, object], str]]:
    """(dict, key) of every display text that may be shortened: TextBlocks, facts, choice titles."""
    if isinstance(value, list):
        for item in value:
            yield from _cuttable(item, parent_type)
        return
    if not isinstance(value, dict):
        return
    kind = value.get("type")
    if kind == "TextBlock" and isinstance(value.get("text"), str):
        yield value, "text"
    elif parent_type == "FactSet" and kind is None:
        yield value, "title"
        yield value, "value"
    elif parent_type == "Input.ChoiceSet" and kind is None and "title" in value:
        yield value, "title"
    here = kind if isinstance(kind, str) else parent_type
    for key, item in value.items():
        if isinstance(item, dict | list) and key != "data":
            yield from _cuttable(item, here)


def cut_to(text: str, budget: int, marker: str = TRUNCATION_MARKER) -> str:
    """`text` if its encoded size is within `budget`, else shortened to it, ending in `marker`
    (at least one character of `text` is kept)."""
    if encoded_size(text) <= budget:
        return text
    room = budget - encoded_size(marker)
    used = end = 0
    for index, char in enumerate(text):
        used += encoded_size(char)
        if used > room:
            break
        end = index + 1
    end = max(end, 1)
    return text[:end].rstrip() + marker


def fit_card(card: Card, limit: int = MAX_CARD_BYTES) -> Card:
    """Shorten the longest texts of `card` (in place) until it is within `limit`; returns it.

    Raises ValueError if it cannot fit without cutting texts below a readable length (a card
    builder bug: builders cap their lists).
    """
    size = card_size(card)
    while size > limit:
        candidates = [
            (encoded_size(str(node[key])), node, key)
            for node, key in _cuttable(card)
            if isinstance(node.get(key), str)
            and len(str(node[key])) > _MIN_CUT + len(TRUNCATION_MARKER)
            and "<at>" not in str(node[key])  # our mention: its text must match its entity
        ]
        if not candidates:
            raise ValueError(f"card is {size} bytes, over {limit}, with nothing left to cut")
        enc, node, key = max(candidates, key=lambda c: c[0])
        text = str(node[key])
        target = max(enc - (size - limit) - 64, encoded_size(text[:_MIN_CUT]) + 1)
        shorter = cut_to(text, target)
        if len(shorter) >= len(text):
            shorter = text[:_MIN_CUT] + TRUNCATION_MARKER
        node[key] = shorter
        size -= enc - encoded_size(shorter)
    return card
