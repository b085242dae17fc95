"""What a person's slash commands, clicks, picks and modal submissions make Slack send the bot.

Each builder checks the action is possible in the current UI, returns the payload; hold `ws.cond`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.slack import response_url
from bot.sandbox.slack.blocks import view_errors
from bot.sandbox.slack.elements import block_elements, is_empty_state, selection, state_values
from bot.sandbox.slack.records import JSON, Channel, Delivery, Ephemeral, Message, User, View
from bot.sandbox.slack.workspace import VIEW_STACK_MAX, Workspace


def slash_command(ws: Workspace, user: str, channel: str, text: str, command: str) -> JSON:
    """The slash_commands payload, with a fresh trigger_id and response_url."""
    who, where = ws.user_or_raise(user), ws.channel_or_raise(channel)
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": where.id,
        "channel_name": _channel_name(where),
        "user_id": who.id,
        "user_name": who.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url.issue(ws, who.id, where.id, None),
        "trigger_id": ws.issue_trigger(who.id),
    }


def click(
    ws: Workspace, user: str, channel: str, ts: str, action_id: str, value: str | None
) -> JSON:
    """block_actions for a button click on message `ts` (the button must be on it)."""
    who = ws.user_or_raise(user)
    where, target = _target(ws, user, channel, ts)
    block, button = _find_element(
        target.blocks, action_id, ("button",), f"message {where.id}/{ts}", value
    )
    action: JSON = {
        "action_id": action_id,
        "block_id": block["block_id"],
        "text": copy.deepcopy(button.get("text")),
    }
    if "value" in button:
        action["value"] = button["value"]
    if "style" in button:
        action["style"] = button["style"]
    action.update(type="button", action_ts=_action_ts(ws))
    return _block_actions(ws, who, where, target, action, block)


def select(
    ws: Workspace, user: str, channel: str, ts: str, action_id: str, option_value: str
) -> JSON:
    """block_actions for picking `option_value` in a select (or overflow) on message `ts`."""
    who = ws.user_or_raise(user)
    where, target = _target(ws, user, channel, ts)
    block, element = _find_element(target.blocks, action_id, None, f"message {where.id}/{ts}")
    kind = str(element.get("type"))
    action: JSON = {"type": kind, "action_id": action_id, "block_id": block["block_id"]}
    if kind == "users_select":
        ws.user_or_raise(option_value)
        action["selected_user"] = option_value
    elif kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        action[key] = option_value
    elif kind in ("static_select", "radio_buttons", "overflow", "external_select"):
        state = selection(
            element if kind != "overflow" else {**element, "type": "static_select"},
            option_value,
            f"select {action_id!r} on {where.id}/{ts}",
        )
        action["selected_option"] = state["selected_option"]
    else:
        raise AssertionError(f"element {action_id!r} is a {kind}, not a select")
    if isinstance(element.get("placeholder"), dict):
        action["placeholder"] = copy.deepcopy(element["placeholder"])
    action["action_ts"] = _action_ts(ws)
    return _block_actions(ws, who, where, target, action, block)


def view_submission(
    ws: Workspace, user: str, view_id: str | None, values: Mapping[str, Any] | None
) -> tuple[View, JSON]:
    """The submitted view (its state now filled in) and the view_submission payload.

    See `SlackEmulator.submit_view` for `values`; what Slack's client would refuse to submit
    raises AssertionError.
    """
    who = ws.user_or_raise(user)
    view = _view_for(ws, user, view_id)
    state = copy.deepcopy(view.state)
    inputs = {str(b.get("block_id")): b for b in view.blocks if b.get("type") == "input"}
    for block_id, given in (values or {}).items():
        block = next((b for b in view.blocks if b.get("block_id") == block_id), None)
        elements = {e.get("action_id"): e for e in block_elements(block or {})}
        if block is None or not elements:
            raise AssertionError(
                f"view {view.id} ({view.callback_id}) has no input block {block_id!r}; "
                f"inputs: {sorted(str(k) for k in inputs)}"
            )
        if isinstance(given, dict) and given and set(given) <= set(elements):
            pairs = list(given.items())
        elif len(elements) == 1:
            pairs = [(next(iter(elements)), given)]
        else:
            raise AssertionError(f"block {block_id!r} has several elements; name one")
        for action_id, raw in pairs:
            where = f"view {view.id} {block_id}/{action_id}"
            state.setdefault(block_id, {})[action_id] = selection(elements[action_id], raw, where)
    for input_id, block in inputs.items():
        element = block.get("element") or {}
        entry = state.get(input_id, {}).get(element.get("action_id"), {})
        if not block.get("optional") and is_empty_state(entry):
            raise AssertionError(
                f"required input {input_id!r} of view {view.id} is empty; "
                "Slack would not submit the form"
            )
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, str):
            max_length, min_length = element.get("max_length"), element.get("min_length")
            if isinstance(max_length, int) and len(value) > max_length:
                raise AssertionError(f"{input_id!r} is longer than max_length {max_length}")
            if isinstance(min_length, int) and len(value) < min_length:
                raise AssertionError(f"{input_id!r} is shorter than min_length {min_length}")
    view.state = state
    payload = {
        "type": "view_submission",
        "team": _team_obj(ws),
        "user": _user_obj(ws, who),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "trigger_id": ws.issue_trigger(who.id),
        "view": ws.api_view(view),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return view, payload


def apply_view_response(ws: Workspace, view: View, delivery: Delivery) -> None:
    """What Slack does with the bot's answer to a view_submission (errors, update, push, …)."""
    answer = delivery.json or {}
    action = answer.get("response_action")
    if action == "errors":
        errors = answer.get("errors") or {}
        input_ids = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
        unknown = set(errors) - input_ids
        if unknown:
            raise AssertionError(
                f"bot answered response_action=errors for non-input block ids {sorted(unknown)}"
                " (Slack rejects the whole response)"
            )
        view.errors = dict(errors)
    elif action in ("update", "push"):
        errors = view_errors(answer.get("view"))
        if errors:
            raise AssertionError(f"bot's response_action={action} view is invalid: {errors}")
        definition = copy.deepcopy(answer["view"])
        if action == "update":
            ws.replace_view(view, definition)
        elif len(ws.stack(view)) >= VIEW_STACK_MAX:
            raise AssertionError("response_action=push beyond the 3-view stack")
        else:
            ws.open_view(view.user, definition, view)
    elif action == "clear":
        for member in ws.stack(view):
            member.is_open = False
    else:
        view.is_open = False


def view_click(
    ws: Workspace, user: str, action_id: str, value: str | None, view_id: str | None
) -> JSON:
    """block_actions for a button click in the top open modal (or `view_id`)."""
    who = ws.user_or_raise(user)
    view = _view_for(ws, user, view_id)
    block, button = _find_element(view.blocks, action_id, ("button",), f"view {view.id}", value)
    action: JSON = {
        "action_id": action_id,
        "block_id": block["block_id"],
        "text": copy.deepcopy(button.get("text")),
    }
    if "value" in button:
        action["value"] = button["value"]
    action.update(type="button", action_ts=_action_ts(ws))
    return {
        "type": "block_actions",
        "user": _user_obj(ws, who),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "container": {"type": "view", "view_id": view.id},
        "trigger_id": ws.issue_trigger(who.id),
        "team": _team_obj(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": ws.api_view(view),
        "actions": [action],
    }


# -- helpers ----------------------------------------------------------------------------------


def _user_obj(ws: Workspace, user: User) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def _team_obj(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.team_domain}


def _channel_name(channel: Channel) -> str:
    return "directmessage" if channel.is_im else channel.name


def _action_ts(ws: Workspace) -> str:
    return f"{ws.wall():.6f}"


def _target(ws: Workspace, user: str, channel: str, ts: str) -> tuple[Channel, Message | Ephemeral]:
    """The message (or `user`'s ephemeral) `ts` in `channel`, as `user` can see it."""
    where = ws.channel_or_raise(channel)
    if where.is_private and not where.is_im and user not in where.members:
        raise AssertionError(f"{user} is not a member of private channel {where.id}")
    found: Message | Ephemeral | None = ws.by_key.get((where.id, ts))
    if found is None:
        found = next(
            (
                e
                for e in ws.ephemerals
                if e.channel == where.id and e.user == user and e.message_ts == ts
            ),
            None,
        )
    if found is None or found.deleted:
        raise AssertionError(f"no message {ts} in {where.id} visible to {user}")
    return where, found


def _find_element(
    blocks: list[JSON],
    action_id: str,
    kinds: Iterable[str] | None,
    where: str,
    value: str | None = None,
) -> tuple[JSON, JSON]:
    seen: list[str] = []
    allowed = set(kinds) if kinds is not None else None
    for block in blocks:
        for element in block_elements(block):
            seen.append(f"{element.get('type')}:{element.get('action_id')}")
            if element.get("action_id") != action_id:
                continue
            if allowed is not None and element.get("type") not in allowed:
                continue
            if value is not None and element.get("value") != value:
                continue
            return block, element
    wanted = f"{action_id!r}" + (f" with value {value!r}" if value is not None else "")
    raise AssertionError(
        f"no element {wanted} in the current blocks of {where}; it has {seen or 'none'}"
    )


def _block_actions(
    ws: Workspace,
    who: User,
    where: Channel,
    target: Message | Ephemeral,
    action: JSON,
    block: JSON,
) -> JSON:
    ephemeral = isinstance(target, Ephemeral)
    ts = target.message_ts if isinstance(target, Ephemeral) else target.ts
    state = state_values(target.blocks)
    if action.get("type") != "button" and action.get("action_id"):
        entry = {k: v for k, v in action.items() if k not in ("action_id", "block_id")}
        entry.pop("action_ts", None)
        state.setdefault(str(block.get("block_id")), {})[action["action_id"]] = entry
    payload: JSON = {
        "type": "block_actions",
        "user": _user_obj(ws, who),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": where.id,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": ws.issue_trigger(who.id),
        "team": _team_obj(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": where.id, "name": _channel_name(where)},
    }
    if isinstance(target, Message):
        payload["message"] = target.to_api(ws.team_id)
    payload["state"] = {"values": state}
    payload["response_url"] = response_url.issue(ws, who.id, where.id, ts, ephemeral)
    payload["actions"] = [action]
    return payload


def _view_for(ws: Workspace, user: str, view_id: str | None) -> View:
    if view_id is not None:
        view = ws.views.get(view_id) or next(
            (h for h in ws.homes.values() if h.id == view_id), None
        )
        if view is None or view.user != user:
            raise AssertionError(f"no view {view_id!r} open for {user}")
    else:
        top = ws.top_view(user)
        if top is None:
            raise AssertionError(f"no modal is open for {user}")
        view = top
    if not view.is_open:
        raise AssertionError(f"view {view.id} of {user} is closed")
    return view
