"""Block Kit elements: finding them in blocks, and the `state.values` entries Slack sends."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.slack.records import JSON


def block_elements(block: Mapping[str, Any]) -> list[JSON]:
    kind = block.get("type")
    if kind == "actions":
        return [e for e in block.get("elements") or [] if isinstance(e, dict)]
    if kind == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    if kind == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    return []


def iter_options(element: Mapping[str, Any]) -> Iterable[JSON]:
    yield from element.get("options") or []
    for group in element.get("option_groups") or []:
        yield from group.get("options") or []


def find_option(element: Mapping[str, Any], wanted: Any) -> JSON | None:
    for option in iter_options(element):
        text = option.get("text", {}).get("text")
        if option.get("value") == wanted or text == wanted:
            return copy.deepcopy(option)
    return None


TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)


def initial_state(element: Mapping[str, Any]) -> JSON | None:
    """The `state.values[block][action]` entry of an untouched element (None if it has no state)."""
    kind = element.get("type")
    if kind in TEXT_INPUTS:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return {"type": kind, "selected_options": element.get("initial_options") or []}
    if kind == "users_select":
        return {"type": kind, "selected_user": element.get("initial_user")}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": element.get("initial_users") or []}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": element.get("initial_conversation")}
    if kind == "channels_select":
        return {"type": kind, "selected_channel": element.get("initial_channel")}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    if kind == "timepicker":
        return {"type": kind, "selected_time": element.get("initial_time")}
    return None


def state_values(blocks: Iterable[Mapping[str, Any]]) -> JSON:
    values: JSON = {}
    for block in blocks:
        for element in block_elements(block):
            state = initial_state(element)
            if state is not None and element.get("action_id"):
                values.setdefault(str(block.get("block_id")), {})[element["action_id"]] = state
    return values


def selection(element: Mapping[str, Any], raw: Any, where: str) -> JSON:
    """`raw` (a plain value) as the state entry Slack would send for `element`."""
    if isinstance(raw, dict) and "type" in raw:
        return dict(raw)
    kind = str(element.get("type"))
    if kind in TEXT_INPUTS:
        return {"type": kind, "value": None if raw is None or raw == "" else str(raw)}
    if kind in ("static_select", "radio_buttons", "external_select"):
        if raw is None:
            return {"type": kind, "selected_option": None}
        option = find_option(element, raw)
        if option is None and kind == "external_select":
            option = {"text": {"type": "plain_text", "text": str(raw)}, "value": str(raw)}
        if option is None:
            choices = [o.get("value") for o in iter_options(element)]
            raise AssertionError(f"{where}: no option {raw!r}; the view offers {choices}")
        return {"type": kind, "selected_option": option}
    if kind in ("multi_static_select", "checkboxes"):
        picked = []
        for item in raw or []:
            option = find_option(element, item)
            if option is None:
                raise AssertionError(f"{where}: no option {item!r}")
            picked.append(option)
        return {"type": kind, "selected_options": picked}
    key = {
        "users_select": "selected_user",
        "multi_users_select": "selected_users",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }.get(kind)
    if key is None:
        raise AssertionError(f"{where}: element type {kind!r} is not supported by submit_view")
    return {"type": kind, key: raw}


def is_empty_state(state: Mapping[str, Any]) -> bool:
    values = [v for k, v in state.items() if k != "type"]
    return all(v is None or v == "" or v == [] for v in values)


def with_block_ids(blocks: list[JSON], seed: str) -> list[JSON]:
    """A copy of `blocks` where each block lacking a block_id gets one derived from `seed`."""
    out = copy.deepcopy(blocks)
    for i, block in enumerate(out):
        if "block_id" not in block:
            block["block_id"] = hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:5]
    return out
