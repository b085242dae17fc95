"""Block Kit validation as Slack does it: messages' blocks and modal / Home tab views."""

from __future__ import annotations

from typing import Any, Literal

_BLOCK_TYPES = frozenset(
    {
        "section",
        "header",
        "context",
        "actions",
        "input",
        "divider",
        "image",
        "rich_text",
        "file",
        "video",
        "markdown",
        "call",
        "table",
        "context_actions",
    }
)
_OPTION_ELEMENTS = frozenset(
    {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"}
)


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _text_errors(obj: Any, pointer: str, limit: int, errors: list[str]) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"must be a text object [json-pointer:{pointer}]")
        return
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(_too_long(limit, f"{pointer}/text"))


def _option_errors(options: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(options, list):
        errors.append(f"must be an array [json-pointer:{pointer}]")
        return
    if len(options) > 100:
        errors.append(f"no more than 100 items allowed [json-pointer:{pointer}]")
    for j, option in enumerate(options):
        p = f"{pointer}/{j}"
        if not isinstance(option, dict):
            errors.append(f"must be an object [json-pointer:{p}]")
            continue
        _text_errors(option.get("text"), f"{p}/text", 75, errors)
        value = option.get("value")
        if isinstance(value, str) and len(value) > 150:
            errors.append(_too_long(150, f"{p}/value"))


def _element_errors(element: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        errors.append(f"missing required field: type [json-pointer:{pointer}]")
        return
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(_too_long(255, f"{pointer}/action_id"))
    kind = element["type"]
    if kind == "button":
        _text_errors(element.get("text"), f"{pointer}/text", 75, errors)
        value = element.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(_too_long(2000, f"{pointer}/value"))
        url = element.get("url")
        if isinstance(url, str) and len(url) > 3000:
            errors.append(_too_long(3000, f"{pointer}/url"))
    elif kind in _OPTION_ELEMENTS:
        if "options" in element:
            _option_errors(element["options"], f"{pointer}/options", errors)
        for g, group in enumerate(element.get("option_groups") or []):
            if isinstance(group, dict):
                _option_errors(group.get("options"), f"{pointer}/option_groups/{g}/options", errors)
        if "options" not in element and "option_groups" not in element:
            errors.append(f"missing required field: options [json-pointer:{pointer}]")


def block_errors(blocks: Any, *, pointer: str = "/blocks", max_blocks: int = 50) -> list[str]:
    """Slack-style validation messages (each ending in a json-pointer); empty when valid."""
    errors: list[str] = []
    if blocks is None:
        return errors
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{p}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
                errors.append(_too_long(255, f"{p}/block_id"))
            elif block_id in seen:
                errors.append(f"duplicate block_id {block_id!r} [json-pointer:{p}/block_id]")
            else:
                seen.add(block_id)
        kind = block["type"]
        if kind not in _BLOCK_TYPES:
            errors.append(f"unsupported block type {kind!r} [json-pointer:{p}/type]")
        elif kind == "section":
            if "text" in block:
                _text_errors(block["text"], f"{p}/text", 3000, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"no more than 10 items allowed [json-pointer:{p}/fields]")
                else:
                    for j, item in enumerate(fields):
                        _text_errors(item, f"{p}/fields/{j}", 2000, errors)
            if "text" not in block and not fields:
                errors.append(f"must provide text or fields [json-pointer:{p}]")
            if "accessory" in block:
                _element_errors(block["accessory"], f"{p}/accessory", errors)
        elif kind == "header":
            _text_errors(block.get("text"), f"{p}/text", 150, errors)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                errors.append(f"must have 1 to 10 items [json-pointer:{p}/elements]")
            else:
                for j, item in enumerate(elements):
                    if isinstance(item, dict) and item.get("type") in ("plain_text", "mrkdwn"):
                        _text_errors(item, f"{p}/elements/{j}", 3000, errors)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                errors.append(f"must have at least 1 item [json-pointer:{p}/elements]")
            else:
                if len(elements) > 25:
                    errors.append(f"no more than 25 items allowed [json-pointer:{p}/elements]")
                action_ids: set[str] = set()
                for j, element in enumerate(elements):
                    _element_errors(element, f"{p}/elements/{j}", errors)
                    action_id = element.get("action_id") if isinstance(element, dict) else None
                    if isinstance(action_id, str):
                        # Slack: unique among the action_ids of the containing block.
                        if action_id in action_ids:
                            errors.append(
                                f"duplicate action_id {action_id!r} "
                                f"[json-pointer:{p}/elements/{j}/action_id]"
                            )
                        action_ids.add(action_id)
        elif kind == "input":
            _text_errors(block.get("label"), f"{p}/label", 2000, errors)
            if "hint" in block:
                _text_errors(block["hint"], f"{p}/hint", 2000, errors)
            _element_errors(block.get("element"), f"{p}/element", errors)
    return errors


def view_errors(view: Any, *, surface: Literal["modal", "home"] = "modal") -> list[str]:
    """Validation messages for the `view` of views.open/push/update or views.publish (home)."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    if view.get("type") != surface:
        errors.append(f"must be {surface!r} [json-pointer:/view/type]")
    if surface == "modal":
        if "title" not in view:
            errors.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if key in view and view[key] is not None:
                obj = view[key]
                text = obj.get("text") if isinstance(obj, dict) else None
                if not isinstance(text, str) or not text:
                    errors.append(f"must be more than 0 characters [json-pointer:/view/{key}/text]")
                elif len(text) > 24:
                    errors.append(
                        f"must be less than 25 characters [json-pointer:/view/{key}/text]"
                    )
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and not view.get("submit"):
            errors.append("must provide submit when using input blocks [json-pointer:/view/submit]")
    else:
        # A Home tab has blocks and identifiers only: no title bar, no submit or close buttons.
        for key in (
            "title",
            "submit",
            "close",
            "submit_disabled",
            "clear_on_close",
            "notify_on_close",
        ):
            if key in view:
                errors.append(f"not allowed for a home view [json-pointer:/view/{key}]")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append(_too_long(limit, f"/view/{key}"))
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    errors.extend(block_errors(view.get("blocks"), pointer="/view/blocks", max_blocks=100))
    return errors
