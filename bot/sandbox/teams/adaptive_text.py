"""Adaptive Cards read as plain text, for transcripts: TextBlocks and RichTextBlocks as lines,
FactSets as `title: value`, inputs by label, the buttons by title; and finding a card's actions."""

from __future__ import annotations

from typing import Any

from bot.sandbox.teams.records import JSON

_CONTAINERS = ("items", "columns", "body")


def card_lines(card: JSON) -> list[str]:
    """What the card shows, one entry per line of text (buttons not included)."""
    lines: list[str] = []
    for element in card.get("body") or []:
        _element(element, lines)
    return lines


def buttons(card: JSON) -> list[str]:
    """The titles of every button, in the order Teams shows them: those in the body first, then
    the card's own row (ShowCard sub-cards not opened)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key in _CONTAINERS:
            for child in node.get(key) or []:
                walk(child)
        for action in node.get("actions") or []:
            if isinstance(action, dict) and action.get("title"):
                found.append(str(action["title"]))

    walk(card)
    return found


def actions(cards: list[JSON]) -> list[JSON]:
    """Every action on the cards, ShowCard sub-cards included."""
    found: list[JSON] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cards)
    return found


def _element(node: Any, lines: list[str]) -> None:
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "TextBlock":
        lines.extend(str(node.get("text") or "").splitlines())
    elif kind == "RichTextBlock":
        runs = node.get("inlines") or []
        text = "".join(r.get("text", "") if isinstance(r, dict) else str(r) for r in runs)
        lines.extend(text.splitlines())
    elif kind == "FactSet":
        for fact in node.get("facts") or []:
            lines.append(f"{fact.get('title', '')}: {fact.get('value', '')}")
    elif kind == "Image":
        lines.append(f"[image: {node.get('altText') or 'picture'}]")
    elif isinstance(kind, str) and kind.startswith("Input."):
        lines.append(f"[{node.get('label') or node.get('id')}: ____]")
    for key in _CONTAINERS:
        for child in node.get(key) or []:
            _element(child, lines)
