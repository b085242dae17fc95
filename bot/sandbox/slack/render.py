"""Readable plain text for messages and views (`render_text`); typed text as rich_text blocks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.slack.elements import block_elements
from bot.sandbox.slack.records import JSON, Ephemeral, Message

_MENTION = re.compile(r"<([@#!])([^|>]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def _plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """mrkdwn → readable text: mentions as @name / #channel, links as label (url), &amp; decoded."""
    names = names or {}

    def mention(m: re.Match[str]) -> str:
        sigil, ref, label = m.group(1), m.group(2), m.group(3)
        if sigil == "@":
            return "@" + (names.get(ref) or label or ref)
        if sigil == "#":
            return "#" + (label or names.get(ref) or ref)
        if ref.startswith("subteam^"):
            return label or "@" + ref.split("^", 1)[1]
        if ref.startswith("date^"):
            return label or ref
        return "@" + ref

    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _MENTION.sub(mention, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any, names: Mapping[str, str] | None) -> str:
    if isinstance(obj, dict):
        return _plain(str(obj.get("text", "")), names)
    return ""


def _rich_text(elements: Iterable[Any]) -> str:
    parts: list[str] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind == "text" or kind == "link":
            parts.append(str(element.get("text") or element.get("url") or ""))
        elif kind == "user":
            parts.append(f"@{element.get('user_id')}")
        elif kind == "channel":
            parts.append(f"#{element.get('channel_id')}")
        elif kind == "emoji":
            parts.append(f":{element.get('name')}:")
        elif "elements" in element:
            parts.append(_rich_text(element["elements"]))
    return "".join(parts)


def _render_element(element: Mapping[str, Any], names: Mapping[str, str] | None) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text_of(element.get('text'), names)}]"
    if kind == "users_select" and element.get("initial_user"):
        user = str(element["initial_user"])
        return f"[@{(names or {}).get(user, user)} ▾]"
    if kind in ("static_select", "radio_buttons") and element.get("initial_option"):
        return f"[{_text_of(element['initial_option'].get('text'), names)} ▾]"
    if "placeholder" in element:
        return f"[{_text_of(element.get('placeholder'), names)} ▾]"
    if kind == "overflow":
        return "[⋯]"
    return f"[{kind}]"


def _render_block(block: Mapping[str, Any], names: Mapping[str, str] | None) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"## {_text_of(block.get('text'), names)}"]
    if kind == "section":
        lines = [_text_of(block.get("text"), names)] if "text" in block else []
        # Fields show as Slack's two columns: one row per pair, each field on one line.
        fields = [" ".join(_text_of(f, names).split("\n")) for f in block.get("fields") or []]
        lines.extend(" | ".join(fields[i : i + 2]) for i in range(0, len(fields), 2))
        if isinstance(block.get("accessory"), dict) and block["accessory"].get("type") != "image":
            lines[-1 if lines else 0 :] = [
                ((lines[-1] + "  ") if lines else "") + _render_element(block["accessory"], names)
            ]
        return lines
    if kind == "context":
        parts = [
            _text_of(e, names) if e.get("type") != "image" else f"[{e.get('alt_text', 'image')}]"
            for e in block.get("elements") or []
            if isinstance(e, dict)
        ]
        return ["  " + " · ".join(parts)]
    if kind == "actions":
        return [" ".join(_render_element(e, names) for e in block_elements(block))]
    if kind == "divider":
        return ["----"]
    if kind == "input":
        element = block.get("element") or {}
        return [f"{_text_of(block.get('label'), names)}: {_render_element(element, names)}"]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return [_rich_text(block.get("elements") or [])]
    if kind == "markdown":
        return [_plain(str(block.get("text", "")), names)]
    return [f"[{kind}]"]


def _render_attachment(att: Mapping[str, Any], names: Mapping[str, str] | None) -> list[str]:
    lines = [_plain(str(att[k]), names) for k in ("pretext", "title", "text") if att.get(k)] or (
        [_plain(str(att["fallback"]), names)] if att.get("fallback") else []
    )
    for item in att.get("fields") or []:
        lines.append(f"{item.get('title', '')}: {item.get('value', '')}")
    if att.get("footer"):
        lines.append(str(att["footer"]))
    return ["| " + line for chunk in lines for line in chunk.splitlines() or [""]]


def render_text(
    message: Message | Ephemeral | Mapping[str, Any], *, names: Mapping[str, str] | None = None
) -> str:
    """Readable plain text for a message or view: blocks (else text), then attachments."""
    if isinstance(message, Mapping):
        text = str(message.get("text") or "")
        blocks = list(message.get("blocks") or [])
        attachments = list(message.get("attachments") or [])
        title = message.get("title")
        if isinstance(title, dict):
            blocks = [{"type": "header", "text": title}, *blocks]
    else:
        text, blocks, attachments = message.text, message.blocks, message.attachments
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, dict):
            lines.extend(_render_block(block, names))
    if not blocks and text:
        lines.append(_plain(text, names))
    for att in attachments:
        if isinstance(att, dict):
            lines.extend(_render_attachment(att, names))
    return "\n".join(lines)


def rich_text_blocks(text: str) -> list[JSON]:
    """The rich_text block a Slack client attaches to a typed message (mentions → user elements)."""
    elements: list[JSON] = []
    pos = 0
    for m in re.finditer(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", text):
        if m.start() > pos:
            elements.append({"type": "text", "text": _plain(text[pos : m.start()])})
        elements.append({"type": "user", "user_id": m.group(1)})
        pos = m.end()
    if pos < len(text):
        elements.append({"type": "text", "text": _plain(text[pos:])})
    block_id = hashlib.sha1(text.encode()).hexdigest()[:4]
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": block_id, "elements": [section]}]


# -- wire helpers -----------------------------------------------------------------------------
