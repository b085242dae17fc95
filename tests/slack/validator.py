"""A small checker of Block Kit limits (docs.slack.dev/reference/block-kit) and of ping safety."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block as SdkBlock
from slack_sdk.models.views import View as SdkView

from bot.messages.view import SlackMessage

BROADCAST = re.compile(r"<!(?:here|channel|everyone)\b|<!subteam\^")
LITERAL_BROADCAST = re.compile(r"@(?:here|channel|everyone)", re.IGNORECASE)


class LimitError(AssertionError):
    pass


def _check(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise LimitError(f"{where}: {what}")


def _text(obj: Any, where: str, limit: int = 3000, *, plain: bool = False) -> None:
    _check(isinstance(obj, dict), where, "text object must be a dict")
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    _check(obj.get("type") in kinds, where, f"text type {obj.get('type')!r}")
    text = obj.get("text")
    _check(isinstance(text, str) and text.strip() != "", where, "empty text")
    _check(len(text) <= limit, where, f"text is {len(text)} chars > {limit}")


def _options(options: Any, where: str) -> list[dict[str, Any]]:
    _check(isinstance(options, list) and 1 <= len(options) <= 100, where, "1–100 options")
    values = []
    for i, opt in enumerate(options):
        _text(opt["text"], f"{where}/options/{i}/text", 75, plain=True)
        _check(0 < len(opt["value"]) <= 150, f"{where}/options/{i}/value", "value 1–150")
        if "description" in opt:
            _text(opt["description"], f"{where}/options/{i}/description", 75, plain=True)
        values.append(opt["value"])
    _check(len(set(values)) == len(values), where, "duplicate option values")
    return list(options)


def _element(el: dict[str, Any], where: str) -> None:
    kind = el.get("type")
    if "action_id" in el:
        _check(0 < len(el["action_id"]) <= 255, where, "action_id 1–255")
    if "placeholder" in el:
        _text(el["placeholder"], f"{where}/placeholder", 150, plain=True)
    if kind == "button":
        _text(el["text"], f"{where}/text", 75, plain=True)
        _check(len(el.get("value", "")) <= 2000, where, "button value > 2000")
        _check(el.get("style") in (None, "primary", "danger"), where, "button style")
    elif kind in ("static_select", "radio_buttons"):
        options = _options(el.get("options"), where)
        if "initial_option" in el:
            _check(el["initial_option"] in options, where, "initial_option not among options")
    elif kind == "plain_text_input":
        max_length = el.get("max_length", 3000)
        _check(0 < max_length <= 3000, where, "max_length 1–3000")
        _check(len(el.get("initial_value", "")) <= max_length, where, "initial_value too long")
    else:
        raise LimitError(f"{where}: unexpected element type {kind!r}")


def _block(block: dict[str, Any], where: str) -> None:
    kind = block.get("type")
    if "block_id" in block:
        _check(0 < len(block["block_id"]) <= 255, where, "block_id 1–255")
    if kind == "section":
        _check("text" in block or "fields" in block, where, "section needs text or fields")
        if "text" in block:
            _text(block["text"], f"{where}/text", 3000)
        if "fields" in block:
            _check(1 <= len(block["fields"]) <= 10, where, "1–10 fields")
            for i, field in enumerate(block["fields"]):
                _text(field, f"{where}/fields/{i}", 2000)
        if "accessory" in block:
            _element(block["accessory"], f"{where}/accessory")
    elif kind == "header":
        _text(block["text"], f"{where}/text", 150, plain=True)
    elif kind == "context":
        _check(1 <= len(block["elements"]) <= 10, where, "1–10 context elements")
        for i, el in enumerate(block["elements"]):
            _text(el, f"{where}/elements/{i}", 3000)
    elif kind == "actions":
        _check(1 <= len(block["elements"]) <= 25, where, "1–25 action elements")
        action_ids = [el["action_id"] for el in block["elements"]]
        _check(len(set(action_ids)) == len(action_ids), where, "duplicate action_ids")
        for i, el in enumerate(block["elements"]):
            _element(el, f"{where}/elements/{i}")
    elif kind == "input":
        _text(block["label"], f"{where}/label", 2000, plain=True)
        if "hint" in block:
            _text(block["hint"], f"{where}/hint", 2000, plain=True)
        _element(block["element"], f"{where}/element")
    elif kind != "divider":
        raise LimitError(f"{where}: unexpected block type {kind!r}")


def _blocks(blocks: list[dict[str, Any]], max_blocks: int, where: str) -> None:
    _check(len(blocks) <= max_blocks, where, f"{len(blocks)} blocks > {max_blocks}")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    _check(len(set(block_ids)) == len(block_ids), where, "duplicate block_ids")
    for i, block in enumerate(blocks):
        _block(block, f"{where}/blocks/{i}")
        SdkBlock.parse(block).to_dict()  # type: ignore[union-attr]  # slack-sdk's own validation


def text_size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else text_size(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(text_size(v) for v in value)
    return 0


def validate_message(message: SlackMessage) -> None:
    _check(0 < len(message.text) <= 3000, "text", f"fallback text is {len(message.text)} chars")
    _check(message.text.strip() != "", "text", "empty fallback text")
    _blocks(message.blocks, 50, "message")
    size = text_size(message.blocks)
    _check(size <= 12000, "message", f"{size} chars of block text (msg_blocks_too_long)")


def validate_view(view: dict[str, Any]) -> None:
    _check(view.get("type") == "modal", "view", "type modal")
    _check(0 < len(view.get("callback_id", "")) <= 255, "view", "callback_id")
    _check(len(view.get("private_metadata", "")) <= 3000, "view", "private_metadata > 3000")
    for key in ("title", "submit", "close"):
        if key in view or key == "title":
            _text(view[key], f"view/{key}", 24, plain=True)
    _check(len(view["blocks"]) >= 1, "view", "no blocks")
    _blocks(view["blocks"], 100, "view")
    SdkView(**view).to_dict()


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        # An input's initial_value is the user's own raw text, never rendered as a message.
        return [s for k, v in value.items() if k != "initial_value" for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def assert_no_pings(value: Any) -> None:
    """No live broadcast (`<!here>`…, `<!subteam^…>`) nor literal `@here`-style text anywhere."""
    for s in strings(value):
        assert not BROADCAST.search(s), f"live broadcast in {s[:200]!r}"
        assert not LITERAL_BROADCAST.search(s), f"literal broadcast in {s[:200]!r}"
