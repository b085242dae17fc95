"""Local Slack emulator: loopback Web API, signed HTTP / Socket Mode delivery, what Slack shows.

Used by `ticketbot demo` and the acceptance tests; stdlib + websockets; imports nothing of the bot.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import hashlib
import hmac
import http.client
import itertools
import json
import math
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.sandbox.socket_mode import SocketModeServer

JSON = dict[str, Any]
T = TypeVar("T")

PERMALINK_HOST = "https://emulator.slack.test"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
TRIGGER_TTL = 3.0  # seconds a trigger_id stays usable for views.open / views.push
RESPONSE_URL_MAX_USES = 5
VIEW_STACK_MAX = 3

DeliveryKind = Literal["events_api", "slash_commands", "interactive"]


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the emulator saw and answered it."""

    method: str
    params: JSON
    ok: bool
    error: str | None
    status: int
    at: float


@dataclass
class Delivery:
    """The bot's answer to one delivery: HTTP response or Socket Mode ack (status 0 = none)."""

    status: int
    body: str
    json: JSON | None
    headers: dict[str, str]
    kind: str = ""
    payload: JSON = field(default_factory=dict)
    event_id: str | None = None
    envelope_id: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Message:
    """A channel message in its current version; `updates` holds earlier versions, oldest first."""

    channel: str
    ts: str
    user: str | None
    text: str
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    username: str | None = None
    subtype: str | None = None
    reply_broadcast: bool = False
    updates: list[Message] = field(default_factory=list)
    deleted: bool = False
    edited_ts: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str = "T0EMU") -> JSON:
        """The message object as Slack puts it into API responses and event payloads."""
        out: JSON = {"type": "message"}
        if self.subtype:
            out["subtype"] = self.subtype
        out["text"] = self.text
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
        if self.app_id:
            out["app_id"] = self.app_id
        if self.username:
            out["username"] = self.username
        out["ts"] = self.ts
        out["team"] = team_id
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.edited_ts:
            out["edited"] = {"user": self.user or "", "ts": self.edited_ts}
        return out


@dataclass
class Ephemeral:
    """A message only `user` sees (chat.postEphemeral or a response_url reply)."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    deleted: bool = False
    updates: list[Ephemeral] = field(default_factory=list)


@dataclass
class View:
    """A modal or Home tab as Slack holds it; `view` is the definition last set by the bot."""

    id: str
    user: str
    view: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""
    is_open: bool = True
    errors: dict[str, str] = field(default_factory=dict)
    state: JSON = field(default_factory=dict)
    updates: list[JSON] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.view.get("type", "modal"))

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSON]:
        return list(self.view.get("blocks") or [])

    @property
    def title(self) -> str:
        title = self.view.get("title")
        return str(title.get("text", "")) if isinstance(title, dict) else ""

    def to_api(self, *, team_id: str, app_id: str, bot_id: str, with_state: bool = True) -> JSON:
        """The view as payloads carry it; Web API replies have empty state (`with_state=False`)."""
        v = self.view
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "blocks": copy.deepcopy(v.get("blocks") or []),
            "private_metadata": v.get("private_metadata", ""),
            "callback_id": v.get("callback_id", ""),
            "state": {"values": copy.deepcopy(self.state) if with_state else {}},
            "hash": self.hash,
            "title": copy.deepcopy(v.get("title")),
            "clear_on_close": bool(v.get("clear_on_close", False)),
            "notify_on_close": bool(v.get("notify_on_close", False)),
            "close": copy.deepcopy(v.get("close")),
            "submit": copy.deepcopy(v.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": self.external_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass(frozen=True)
class ResponsePost:
    """One POST the bot made to a `response_url` the emulator handed out."""

    url: str
    payload: JSON
    user: str
    channel: str
    message_ts: str | None
    status: int
    at: float


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "Europe/London"
    is_bot: bool = False

    def to_api(self, team_id: str) -> JSON:
        profile: JSON = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_offset": 0,
            "is_bot": self.is_bot,
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    im_user: str | None = None

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    @property
    def channel_type(self) -> str:
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"

    def to_api(self, bot_user_id: str) -> JSON:
        if self.im_user is not None:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_open": True}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }


@dataclass
class Stats:
    api_calls: int = 0
    ratelimited: int = 0
    server_errors: int = 0
    deliveries: int = 0


# -- faults -----------------------------------------------------------------------------------


@dataclass
class _Fault:
    method: str
    kind: str
    remaining: int
    retry_after: int
    channel: str | None


class Faults:
    """Failures the Web API serves instead of the real answer.

    Kinds: "ratelimited" (HTTP 429 + Retry-After), "server_error" (HTTP 500, JSON body),
    "unavailable" (HTTP 503, HTML body), "connection_reset" (socket closed, no response),
    or any Slack error string (HTTP 200 `{"ok": false, "error": kind}`).
    """

    _NEVER_RANDOM = ("auth.test", "apps.connections.open")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Fault] = []
        self._rng: random.Random | None = None
        self._probability = 0.0
        self._kinds: tuple[str, ...] = ()
        self._methods: tuple[str, ...] | None = None
        self._retry_after = 1

    def add(
        self,
        method: str,
        kind: str = "server_error",
        *,
        times: int = 1,
        retry_after: int = 1,
        channel: str | None = None,
    ) -> None:
        """Fail the next `times` calls of `method` ("*" = any), optionally only for `channel`."""
        with self._lock:
            self._queue.append(_Fault(method, kind, times, retry_after, channel))

    def random(
        self,
        probability: float = 0.3,
        kinds: Iterable[str] = ("ratelimited", "server_error"),
        seed: int = 1,
        methods: Iterable[str] | None = None,
        *,
        retry_after: int = 1,
    ) -> None:
        """Chaos: each call (of `methods`, default all but auth.test/apps.connections.open) fails
        with `probability`, kind chosen from `kinds`; reproducible for a given `seed`."""
        with self._lock:
            self._rng = random.Random(seed)
            self._probability = probability
            self._kinds = tuple(kinds)
            self._methods = tuple(methods) if methods is not None else None
            self._retry_after = retry_after

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rng = None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._queue)

    def _take(self, method: str, params: Mapping[str, Any]) -> _Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.method not in ("*", method):
                    continue
                if fault.channel is not None and params.get("channel") != fault.channel:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._queue.remove(fault)
                return fault
            if self._rng is None or not self._kinds:
                return None
            eligible = (
                method in self._methods if self._methods else method not in self._NEVER_RANDOM
            )
            if not eligible or self._rng.random() >= self._probability:
                return None
            kind = self._rng.choice(self._kinds)
            return _Fault(method, kind, 0, self._retry_after, None)


class _Pacer:
    """Token bucket per channel: `burst` messages at once, then `rate` per second."""

    def __init__(self, burst: int = 3, rate: float = 1.0) -> None:
        self.burst = burst
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> float:
        """0 if allowed (and consumed), else seconds until the next token."""
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


# -- Block Kit validation ---------------------------------------------------------------------

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
                for j, element in enumerate(elements):
                    _element_errors(element, f"{p}/elements/{j}", errors)
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
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append(_too_long(limit, f"/view/{key}"))
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    errors.extend(block_errors(view.get("blocks"), pointer="/view/blocks", max_blocks=100))
    return errors


# -- Block Kit helpers (state, elements, rendering) -------------------------------------------


def _block_elements(block: Mapping[str, Any]) -> list[JSON]:
    kind = block.get("type")
    if kind == "actions":
        return [e for e in block.get("elements") or [] if isinstance(e, dict)]
    if kind == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    if kind == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    return []


def _iter_options(element: Mapping[str, Any]) -> Iterable[JSON]:
    yield from element.get("options") or []
    for group in element.get("option_groups") or []:
        yield from group.get("options") or []


def _find_option(element: Mapping[str, Any], wanted: Any) -> JSON | None:
    for option in _iter_options(element):
        text = option.get("text", {}).get("text")
        if option.get("value") == wanted or text == wanted:
            return copy.deepcopy(option)
    return None


_TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)


def _initial_state(element: Mapping[str, Any]) -> JSON | None:
    """The `state.values[block][action]` entry of an untouched element (None if it has no state)."""
    kind = element.get("type")
    if kind in _TEXT_INPUTS:
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


def _state_values(blocks: Iterable[Mapping[str, Any]]) -> JSON:
    values: JSON = {}
    for block in blocks:
        for element in _block_elements(block):
            state = _initial_state(element)
            if state is not None and element.get("action_id"):
                values.setdefault(str(block.get("block_id")), {})[element["action_id"]] = state
    return values


def _selection(element: Mapping[str, Any], raw: Any, where: str) -> JSON:
    """`raw` (a plain value) as the state entry Slack would send for `element`."""
    if isinstance(raw, dict) and "type" in raw:
        return dict(raw)
    kind = str(element.get("type"))
    if kind in _TEXT_INPUTS:
        return {"type": kind, "value": None if raw is None or raw == "" else str(raw)}
    if kind in ("static_select", "radio_buttons", "external_select"):
        if raw is None:
            return {"type": kind, "selected_option": None}
        option = _find_option(element, raw)
        if option is None and kind == "external_select":
            option = {"text": {"type": "plain_text", "text": str(raw)}, "value": str(raw)}
        if option is None:
            choices = [o.get("value") for o in _iter_options(element)]
            raise AssertionError(f"{where}: no option {raw!r}; the view offers {choices}")
        return {"type": kind, "selected_option": option}
    if kind in ("multi_static_select", "checkboxes"):
        picked = []
        for item in raw or []:
            option = _find_option(element, item)
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


def _is_empty_state(state: Mapping[str, Any]) -> bool:
    values = [v for k, v in state.items() if k != "type"]
    return all(v is None or v == "" or v == [] for v in values)


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
        return [" ".join(_render_element(e, names) for e in _block_elements(block))]
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


def _rich_text_blocks(text: str) -> list[JSON]:
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


class _ApiError(Exception):
    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = extra


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    drop: bool = False

    @classmethod
    def of_json(cls, status: int, data: JSON, headers: Mapping[str, str] | None = None) -> _Reply:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(data).encode(), merged)


_JSON_FORM_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}


def _parse_params(content_type: str, raw: bytes, query: str) -> JSON:
    params: JSON = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype == "application/json":
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise _ApiError("invalid_json") from exc
        if not isinstance(body, dict):
            raise _ApiError("invalid_json")
        params.update(body)
        return params
    if ctype == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(header + raw)
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                params[name] = (
                    payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                )
    else:
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    for key, error in _JSON_FORM_FIELDS.items():
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                raise _ApiError(error) from exc
    return params


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _json_or_none(body: str) -> JSON | None:
    if not body.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature over `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, emulator: SlackEmulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackEmulator/1.0"

    def do_POST(self) -> None:
        emulator = cast(_HTTPServer, self.server).emulator
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query = self.path.partition("?")
        if path.startswith("/api/"):
            reply = emulator._handle_api(path[len("/api/") :], headers, raw, query)
        elif path.startswith("/response/"):
            reply = emulator._handle_response_url(path[len("/response/") :], raw)
        else:
            reply = _Reply(404, b"not found\n", {"Content-Type": "text/plain"})
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


@dataclass
class _Trigger:
    user: str
    issued_at: float
    used: bool = False


@dataclass
class _ResponseTarget:
    user: str
    channel: str
    message_ts: str | None
    ephemeral: bool
    uses: int = 0


# -- the emulator -----------------------------------------------------------------------------


class SlackEmulator:
    """A one-workspace Slack on 127.0.0.1: Web API for the bot, delivery methods for tests.

    `now` drives ts values, trigger expiry and rate pacing; request signatures always use the
    real time (`wall_clock`) because Bolt's verifier does.
    """

    def __init__(
        self,
        signing_secret: str,
        bot_token: str,
        *,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "ticketdesk",
        app_token: str | None = None,
        app_id: str = "A0EMU",
        team_id: str = "T0EMU",
        team_domain: str = "emulator",
        verification_token: str = "emulatorVerifTok",
        now: Callable[[], float] = time.time,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_id = team_id
        self.team_domain = team_domain
        self.verification_token = verification_token
        self._now = now
        self._wall = wall_clock

        self.bot_url: str | None = None
        self.delivery_mode: Literal["http", "socket"] = "http"
        self.delivery_timeout = 10.0  # HTTP: how long to wait for the bot's response
        self.socket_ack_timeout = 5.0  # Socket Mode: how long to wait for an ack frame
        self.enforce_rate_limits = False
        self.app_mention_events = True
        self.keep_events = 500
        self.faults = Faults()
        self.stats = Stats()

        self._cond = threading.Condition(threading.RLock())
        self._generation = 0  # bumped on every change; wait_for watches it
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket = SocketModeServer(app_id=app_id, on_change=self._notify)
        self._pacer = _Pacer()
        self._counter = itertools.count(1)
        self._last_ts = 0

        self._users: dict[str, User] = {}
        self._channels: dict[str, Channel] = {}
        self._dm_by_user: dict[str, str] = {}
        self._messages: dict[str, list[Message]] = {}
        self._by_key: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, View] = {}
        self._homes: dict[str, View] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._responses: list[ResponsePost] = []
        self._calls: list[ApiCall] = []
        self._deliveries: list[Delivery] = []
        self._events: OrderedDict[str, JSON] = OrderedDict()

        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._api_auth_test,
            "apps.connections.open": self._api_connections_open,
            "chat.postMessage": self._api_post_message,
            "chat.update": self._api_update,
            "chat.delete": self._api_delete,
            "chat.postEphemeral": self._api_post_ephemeral,
            "chat.getPermalink": self._api_permalink,
            "views.open": self._api_views_open,
            "views.push": self._api_views_push,
            "views.update": self._api_views_update,
            "views.publish": self._api_views_publish,
            "users.info": self._api_users_info,
            "users.lookupByEmail": self._api_users_lookup_by_email,
            "conversations.members": self._api_conversations_members,
            "conversations.open": self._api_conversations_open,
            "conversations.info": self._api_conversations_info,
        }
        self.add_user(bot_user_id, bot_name, is_bot=True)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # keeps stop() fast
            name="slack-emulator-http",
            daemon=True,
        )
        self._thread.start()
        if self.app_token:
            self._socket.start()
        return self

    def stop(self) -> None:
        self._socket.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """`base_url` for `WebClient` (trailing slash included)."""
        return f"{self.base_url}/api/"

    # -- workspace setup ------------------------------------------------------------------

    def add_user(
        self,
        id: str,  # noqa: A002 - mirrors Slack's field name
        name: str,
        email: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
        *,
        real_name: str | None = None,
    ) -> User:
        user = User(id, name, real_name or name, email, tz, is_bot)
        with self._cond:
            self._users[id] = user
        return user

    def add_channel(
        self,
        id: str,  # noqa: A002 - mirrors Slack's field name
        name: str,
        members: Iterable[str] = (),
        is_private: bool = False,
        *,
        bot_member: bool = True,
    ) -> Channel:
        member_list = list(dict.fromkeys(members))
        if bot_member and self.bot_user_id not in member_list:
            member_list.append(self.bot_user_id)
        channel = Channel(id, name, member_list, is_private)
        with self._cond:
            self._channels[id] = channel
            self._messages.setdefault(id, [])
        return channel

    # -- Web API --------------------------------------------------------------------------

    def _handle_api(
        self, method: str, headers: Mapping[str, str], raw: bytes, query: str
    ) -> _Reply:
        with self._cond:
            at = self._now()
            params: JSON = {}
            try:
                params = _parse_params(headers.get("content-type", ""), raw, query)
                token = _bearer(headers.get("authorization")) or params.pop("token", None)
                params.pop("token", None)
                self._check_token(method, token)
                handler = self._methods.get(method)
                if handler is None:
                    raise _ApiError("unknown_method", req_method=method)
                fault = self.faults._take(method, params)
                if fault is not None:
                    reply = self._fault_reply(fault)
                else:
                    self._pace(method, params, at)
                    reply = _Reply.of_json(200, {"ok": True, **handler(params)})
            except _ApiError as exc:
                reply = _Reply.of_json(
                    exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
                )
            except Exception as exc:  # server boundary: an emulator bug must not look like a hang
                detail = f"{type(exc).__name__}: {exc}"
                reply = _Reply.of_json(
                    500, {"ok": False, "error": "emulator_error", "detail": detail}
                )
            data = _json_or_none(reply.body.decode("utf-8", "replace"))
            ok = bool(data and data.get("ok")) and reply.status == 200 and not reply.drop
            error = None if ok else str((data or {}).get("error") or f"http_{reply.status}")
            self.stats.api_calls += 1
            if reply.status == 429:
                self.stats.ratelimited += 1
            if reply.status >= 500 or reply.drop:
                self.stats.server_errors += 1
            self._calls.append(ApiCall(method, params, ok, error, reply.status, at))
            self._changed()
            return reply

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if method == "apps.connections.open":
            if self.app_token and token == self.app_token:
                return
            if token == self.bot_token:
                raise _ApiError("not_allowed_token_type")
            raise _ApiError("invalid_auth")
        if token == self.bot_token:
            return
        if self.app_token and token == self.app_token:
            raise _ApiError("not_allowed_token_type")
        raise _ApiError("invalid_auth")

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.kind == "ratelimited":
            retry_after = str(max(1, fault.retry_after))
            return _Reply.of_json(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after}
            )
        if fault.kind == "server_error":
            return _Reply.of_json(500, {"ok": False, "error": "internal_error"})
        if fault.kind == "unavailable":
            page = b"<html><body><h1>503 Service Unavailable</h1></body></html>\n"
            return _Reply(503, page, {"Content-Type": "text/html"})
        if fault.kind == "connection_reset":
            return _Reply(0, b"", {}, drop=True)
        return _Reply.of_json(200, {"ok": False, "error": fault.kind})

    def _pace(self, method: str, params: JSON, now: float) -> None:
        if not self.enforce_rate_limits or method != "chat.postMessage":
            return
        wait = self._pacer.take(str(params.get("channel")), now)
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            raise _ApiError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _next_ts(self) -> str:
        micros = max(int(self._now() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0EMU{next(self._counter):05d}"

    def _dm_for(self, user: str) -> Channel:
        channel_id = self._dm_by_user.get(user)
        if channel_id is None:
            channel_id = self._next_id("D")
            self._channels[channel_id] = Channel(
                channel_id, user, [user, self.bot_user_id], is_private=True, im_user=user
            )
            self._messages[channel_id] = []
            self._dm_by_user[user] = channel_id
        return self._channels[channel_id]

    def _resolve(self, value: Any, *, allow_user: bool = True) -> Channel:
        if not isinstance(value, str) or not value:
            raise _ApiError("channel_not_found")
        if allow_user and value[0] in "UW" and value in self._users:
            return self._dm_for(value)
        if value.startswith("#"):
            for channel in self._channels.values():
                if channel.name == value[1:] and not channel.is_im:
                    return channel
        found = self._channels.get(value)
        if found is None:
            raise _ApiError("channel_not_found")
        return found

    def _content(self, params: JSON, *, required: bool = True) -> None:
        text, blocks, attachments = (
            params.get("text"),
            params.get("blocks"),
            params.get("attachments"),
        )
        if blocks is not None and not isinstance(blocks, list):
            raise _ApiError("invalid_blocks_format")
        if attachments is not None and not isinstance(attachments, list):
            raise _ApiError("invalid_attachments")
        if text is not None and len(str(text)) > 40_000:
            raise _ApiError("msg_too_long")
        if required and not text and not blocks and not attachments:
            raise _ApiError("no_text")
        errors = block_errors(blocks)
        if errors:
            raise _ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        if attachments is not None and len(attachments) > 100:
            raise _ApiError("too_many_attachments")

    def _with_block_ids(self, blocks: list[JSON], seed: str) -> list[JSON]:
        out = copy.deepcopy(blocks)
        for i, block in enumerate(out):
            if "block_id" not in block:
                block["block_id"] = hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:5]
        return out

    def _store(self, message: Message) -> Message:
        self._messages.setdefault(message.channel, []).append(message)
        self._by_key[(message.channel, message.ts)] = message
        return message

    def _own(self, message: Message) -> bool:
        return message.bot_id == self.bot_id or message.user == self.bot_user_id

    def _api_auth_test(self, params: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.test/",
            "team": "Emulator MSP",
            "user": self._users[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_connections_open(self, params: JSON) -> JSON:
        if not self._socket.running:
            self._socket.start()
        return {"url": self._socket.issue_url()}

    def _api_post_message(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"))
        if channel.is_private and not channel.is_im and self.bot_user_id not in channel.members:
            raise _ApiError("not_in_channel")
        self._content(params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None:
            parent = self._by_key.get((channel.id, str(thread_ts)))
            if parent is None or parent.deleted or parent.is_reply:
                raise _ApiError("thread_not_found")
        ts = self._next_ts()
        message = self._store(
            Message(
                channel=channel.id,
                ts=ts,
                user=self.bot_user_id,
                text=str(params.get("text") or ""),
                blocks=self._with_block_ids(params.get("blocks") or [], ts),
                attachments=copy.deepcopy(params.get("attachments") or []),
                thread_ts=str(thread_ts) if thread_ts else None,
                bot_id=self.bot_id,
                app_id=self.app_id,
                reply_broadcast=bool(thread_ts) and _flag(params.get("reply_broadcast")),
            )
        )
        return {"channel": channel.id, "ts": ts, "message": message.to_api(self.team_id)}

    def _existing(self, params: JSON, ts_key: str = "ts") -> Message:
        channel = self._resolve(params.get("channel"), allow_user=False)
        message = self._by_key.get((channel.id, str(params.get(ts_key))))
        if message is None or message.deleted:
            raise _ApiError("message_not_found")
        return message

    def _api_update(self, params: JSON) -> JSON:
        message = self._existing(params)
        if not self._own(message):
            raise _ApiError("cant_update_message")
        self._content(params, required=False)
        text = str(params["text"]) if "text" in params else message.text
        blocks = params.get("blocks", message.blocks)
        attachments = params.get("attachments", message.attachments)
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        message.updates.append(replace(message, updates=[]))
        message.text = text
        message.blocks = self._with_block_ids(blocks, f"{message.ts}:{len(message.updates)}")
        message.attachments = copy.deepcopy(attachments)
        message.edited_ts = self._next_ts()
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(self.team_id),
        }

    def _api_delete(self, params: JSON) -> JSON:
        message = self._existing(params)
        if not self._own(message):
            raise _ApiError("cant_delete_message")
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def _api_post_ephemeral(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"))
        user = params.get("user")
        if user not in self._users:
            raise _ApiError("user_not_found")
        if not channel.is_im and user not in channel.members:
            raise _ApiError("user_not_in_channel")
        self._content(params)
        ts = self._next_ts()
        self._ephemerals.append(
            Ephemeral(
                channel=channel.id,
                user=str(user),
                message_ts=ts,
                text=str(params.get("text") or ""),
                blocks=self._with_block_ids(params.get("blocks") or [], ts),
                attachments=copy.deepcopy(params.get("attachments") or []),
                thread_ts=params.get("thread_ts") or None,
            )
        )
        return {"message_ts": ts}

    def _api_permalink(self, params: JSON) -> JSON:
        message = self._existing(params, "message_ts")
        link = f"{PERMALINK_HOST}/archives/{message.channel}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={message.channel}"
        return {"channel": message.channel, "permalink": link}

    def _use_trigger(self, params: JSON) -> _Trigger:
        trigger = self._triggers.get(str(params.get("trigger_id")))
        if trigger is None:
            raise _ApiError("invalid_trigger_id")
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if self._now() - trigger.issued_at > TRIGGER_TTL:
            raise _ApiError("expired_trigger_id")
        return trigger

    def _check_view(self, view: Any, surface: Literal["modal", "home"]) -> JSON:
        errors = view_errors(view, surface=surface)
        if errors:
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return cast(JSON, copy.deepcopy(view))

    def _new_hash(self) -> str:
        return f"{int(self._now())}.{uuid.uuid4().hex[:8]}"

    def _view_reply(self, view: View) -> JSON:
        api = view.to_api(
            team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id, with_state=False
        )
        return {"view": api}

    def _open_view(self, user: str, definition: JSON, previous: View | None) -> View:
        view_id = self._next_id("V")
        view = View(
            id=view_id,
            user=user,
            view=definition,
            hash=self._new_hash(),
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
            external_id=str(definition.get("external_id") or ""),
        )
        definition["blocks"] = self._with_block_ids(definition.get("blocks") or [], view_id)
        view.state = _state_values(definition["blocks"])
        self._views[view_id] = view
        return view

    def _stack(self, view: View) -> list[View]:
        return [
            v for v in self._views.values() if v.root_view_id == view.root_view_id and v.is_open
        ]

    def _api_views_open(self, params: JSON) -> JSON:
        trigger = self._use_trigger(params)
        definition = self._check_view(params.get("view"), "modal")
        trigger.used = True
        return self._view_reply(self._open_view(trigger.user, definition, None))

    def _api_views_push(self, params: JSON) -> JSON:
        trigger = self._use_trigger(params)
        definition = self._check_view(params.get("view"), "modal")
        top = self._top_view(trigger.user)
        if top is None:
            raise _ApiError("not_found")
        if len(self._stack(top)) >= VIEW_STACK_MAX:
            raise _ApiError("push_limit_reached")
        trigger.used = True
        return self._view_reply(self._open_view(trigger.user, definition, top))

    def _find_view(self, params: JSON) -> View:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        for view in [*self._views.values(), *self._homes.values()]:
            if (view_id and view.id == view_id) or (
                external_id and view.external_id == external_id
            ):
                return view
        raise _ApiError("not_found")

    def _api_views_update(self, params: JSON) -> JSON:
        view = self._find_view(params)
        if not view.is_open:
            raise _ApiError("not_found")
        if params.get("hash") and params["hash"] != view.hash:
            raise _ApiError("hash_conflict")
        surface: Literal["modal", "home"] = "home" if view.type == "home" else "modal"
        self._replace_view(view, self._check_view(params.get("view"), surface))
        return self._view_reply(view)

    def _replace_view(self, view: View, definition: JSON) -> None:
        definition["blocks"] = self._with_block_ids(definition.get("blocks") or [], view.hash)
        view.updates.append(view.view)
        view.view = definition
        view.hash = self._new_hash()
        view.external_id = str(definition.get("external_id") or view.external_id)
        view.state = _state_values(definition["blocks"])
        view.errors = {}

    def _api_views_publish(self, params: JSON) -> JSON:
        user = params.get("user_id")
        if user not in self._users:
            raise _ApiError("user_not_found")
        definition = self._check_view(params.get("view"), "home")
        home = self._homes.get(str(user))
        if home is None:
            view_id = self._next_id("V")
            definition["blocks"] = self._with_block_ids(definition.get("blocks") or [], view_id)
            home = View(view_id, str(user), definition, self._new_hash(), view_id)
            self._homes[str(user)] = home
        else:
            if params.get("hash") and params["hash"] != home.hash:
                raise _ApiError("hash_conflict")
            self._replace_view(home, definition)
        return self._view_reply(home)

    def _api_users_info(self, params: JSON) -> JSON:
        user = self._users.get(str(params.get("user")))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": user.to_api(self.team_id)}

    def _api_users_lookup_by_email(self, params: JSON) -> JSON:
        wanted = str(params.get("email", "")).lower()
        for user in self._users.values():
            if user.email and user.email.lower() == wanted:
                return {"user": user.to_api(self.team_id)}
        raise _ApiError("users_not_found")

    def _api_conversations_members(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"), allow_user=False)
        return {"members": list(channel.members), "response_metadata": {"next_cursor": ""}}

    def _api_conversations_open(self, params: JSON) -> JSON:
        if params.get("channel"):
            channel = self._resolve(params["channel"], allow_user=False)
            return {"channel": channel.to_api(self.bot_user_id)}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _ApiError("not_implemented" if users else "users_list_not_supplied")
        if users[0] not in self._users:
            raise _ApiError("user_not_found")
        return {"channel": self._dm_for(users[0]).to_api(self.bot_user_id)}

    def _api_conversations_info(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"), allow_user=False)
        return {"channel": channel.to_api(self.bot_user_id)}

    # -- response_url ---------------------------------------------------------------------

    def _issue_response_url(
        self, user: str, channel: str, message_ts: str | None, ephemeral: bool = False
    ) -> str:
        key = uuid.uuid4().hex
        self._response_targets[key] = _ResponseTarget(user, channel, message_ts, ephemeral)
        return f"{self.base_url}/response/{key}"

    def _handle_response_url(self, key: str, raw: bytes) -> _Reply:
        with self._cond:
            try:
                status, body = self._apply_response(key, raw)
            finally:
                self._changed()
        return _Reply(status, body.encode(), {"Content-Type": "text/plain"})

    def _apply_response(self, key: str, raw: bytes) -> tuple[int, str]:
        target = self._response_targets.get(key)
        if target is None:
            return 404, "invalid_url"
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return 400, "invalid_payload"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        target.uses += 1
        status, body = 200, "ok"
        if target.uses > RESPONSE_URL_MAX_USES:
            status, body = 404, "used_url"
        elif block_errors(payload.get("blocks")):
            status, body = 400, "invalid_blocks"
        elif not _flag(payload.get("delete_original")) and not (
            payload.get("text") or payload.get("blocks") or payload.get("attachments")
        ):
            status, body = 400, "no_text"
        self._responses.append(
            ResponsePost(
                url=f"{self.base_url}/response/{key}",
                payload=payload,
                user=target.user,
                channel=target.channel,
                message_ts=target.message_ts,
                status=status,
                at=self._now(),
            )
        )
        if status == 200:
            self._show_response(target, payload)
        return status, body

    def _show_response(self, target: _ResponseTarget, payload: JSON) -> None:
        text = str(payload.get("text") or "")
        blocks = list(payload.get("blocks") or [])
        attachments = list(payload.get("attachments") or [])
        original: Message | Ephemeral | None = None
        if target.message_ts is not None:
            if target.ephemeral:
                original = next(
                    (e for e in self._ephemerals if e.message_ts == target.message_ts), None
                )
            else:
                original = self._by_key.get((target.channel, target.message_ts))
        if original is not None and _flag(payload.get("delete_original")):
            original.deleted = True
        elif original is not None and _flag(payload.get("replace_original")):
            original.updates.append(replace(original, updates=[]))  # type: ignore[arg-type]
            original.text = text
            original.blocks = self._with_block_ids(blocks, self._next_ts())
            original.attachments = copy.deepcopy(attachments)
        elif payload.get("response_type") == "in_channel":
            ts = self._next_ts()
            self._store(
                Message(
                    channel=target.channel,
                    ts=ts,
                    user=self.bot_user_id,
                    text=text,
                    blocks=self._with_block_ids(blocks, ts),
                    attachments=copy.deepcopy(attachments),
                    thread_ts=payload.get("thread_ts") or None,
                    bot_id=self.bot_id,
                    app_id=self.app_id,
                )
            )
        elif not _flag(payload.get("delete_original")):
            ts = self._next_ts()
            self._ephemerals.append(
                Ephemeral(
                    channel=target.channel,
                    user=target.user,
                    message_ts=ts,
                    text=text,
                    blocks=self._with_block_ids(blocks, ts),
                    attachments=copy.deepcopy(attachments),
                    thread_ts=payload.get("thread_ts") or None,
                )
            )

    # -- delivery -------------------------------------------------------------------------

    def _issue_trigger(self, user: str) -> str:
        n = next(self._counter)
        trigger_id = f"{7311000000 + n}.{int(self._now())}.{uuid.uuid4().hex[:16]}"
        self._triggers[trigger_id] = _Trigger(user, self._now())
        return trigger_id

    def _deliver(
        self,
        kind: DeliveryKind,
        payload: JSON,
        *,
        retry_num: int = 0,
        retry_reason: str = "",
    ) -> Delivery:
        event_id = payload.get("event_id") if kind == "events_api" else None
        if event_id is not None:
            with self._cond:
                self._events[event_id] = payload
                while len(self._events) > self.keep_events:
                    self._events.popitem(last=False)
        started = time.monotonic()
        if self.delivery_mode == "socket":
            delivery = self._deliver_socket(kind, payload, retry_num, retry_reason)
        else:
            body, content_type = self._encode(kind, payload)
            extra = {}
            if retry_num:
                extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            delivery = self._post_to_bot(body, content_type, extra_headers=extra)
        delivery.kind = kind
        delivery.payload = payload
        delivery.event_id = event_id
        delivery.elapsed = time.monotonic() - started
        with self._cond:
            self.stats.deliveries += 1
            self._deliveries.append(delivery)
            self._changed()
        return delivery

    @staticmethod
    def _encode(kind: DeliveryKind, payload: JSON) -> tuple[bytes, str]:
        if kind == "events_api":
            return json.dumps(payload).encode(), "application/json"
        form = "application/x-www-form-urlencoded"
        if kind == "slash_commands":
            return urlencode(payload).encode(), form
        return urlencode({"payload": json.dumps(payload)}).encode(), form

    def _deliver_socket(
        self, kind: DeliveryKind, payload: JSON, retry_num: int, retry_reason: str
    ) -> Delivery:
        envelope_id = str(uuid.uuid4())
        accepts = kind == "slash_commands" or payload.get("type") in (
            "view_submission",
            "block_suggestion",
        )
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts,
            "payload": payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_num
            envelope["retry_reason"] = retry_reason
        ack = self._socket.send(envelope, self.socket_ack_timeout)
        if ack is None:
            return Delivery(0, "", None, {}, envelope_id=envelope_id)
        ack_payload = ack.get("payload")
        return Delivery(
            200,
            json.dumps(ack),
            ack_payload if isinstance(ack_payload, dict) else {},
            {},
            envelope_id=envelope_id,
        )

    def _post_to_bot(
        self,
        body: bytes,
        content_type: str,
        *,
        signature: str | None = None,
        timestamp: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        if not self.bot_url:
            raise AssertionError("emu.bot_url is not set (the bot's POST /slack/events URL)")
        timestamp = timestamp if timestamp is not None else str(int(self._wall()))
        if signature is None:
            signature = sign(self.signing_secret, timestamp, body)
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if timestamp:  # "" leaves the header out
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature:
            headers["X-Slack-Signature"] = signature
        headers.update(extra_headers or {})
        parts = urlsplit(self.bot_url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(
            parts.hostname or "127.0.0.1", parts.port, timeout=self.delivery_timeout
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            # The bot may answer (e.g. 413) before reading the whole body: still read its answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Delivery(response.status, text, _json_or_none(text), dict(response.getheaders()))
        except (OSError, http.client.HTTPException) as exc:
            return Delivery(0, f"delivery failed: {type(exc).__name__}: {exc}", None, {})
        finally:
            connection.close()

    def send_raw(
        self,
        body: bytes,
        content_type: str = "application/json",
        *,
        signature: str | None = None,
        timestamp: str | int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """POST exactly `body` to the bot (HTTP); signed correctly unless `signature` is given.

        `signature=""` / `timestamp=""` leave that header out.
        """
        delivery = self._post_to_bot(
            body,
            content_type,
            signature=signature,
            timestamp=None if timestamp is None else str(timestamp),
            extra_headers=headers,
        )
        with self._cond:
            self.stats.deliveries += 1
            self._deliveries.append(delivery)
            self._changed()
        return delivery

    def redeliver(
        self, delivery_or_event_id: Delivery | str, retry_num: int = 1, reason: str = "http_timeout"
    ) -> Delivery:
        """Send an earlier event again, byte for byte, marked as Slack retry `retry_num`."""
        event_id = (
            delivery_or_event_id.event_id
            if isinstance(delivery_or_event_id, Delivery)
            else delivery_or_event_id
        )
        with self._cond:
            payload = self._events.get(event_id or "")
        if payload is None:
            raise AssertionError(f"no recent event with event_id {event_id!r} to redeliver")
        return self._deliver("events_api", payload, retry_num=retry_num, retry_reason=reason)

    # -- driving the bot like Slack does --------------------------------------------------

    def _user(self, user: str) -> User:
        found = self._users.get(user)
        if found is None:
            raise AssertionError(f"unknown user {user!r}; add it with emu.add_user()")
        return found

    def _channel(self, channel: str) -> Channel:
        if channel in self._users:
            return self._dm_for(channel)
        found = self._channels.get(channel)
        if found is None:
            raise AssertionError(f"unknown channel {channel!r}; add it with emu.add_channel()")
        return found

    def _user_obj(self, user: User) -> JSON:
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.team_id}

    def _team_obj(self) -> JSON:
        return {"id": self.team_id, "domain": self.team_domain}

    def _channel_name(self, channel: Channel) -> str:
        return "directmessage" if channel.is_im else channel.name

    def _envelope(self, event: JSON) -> JSON:
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self._next_id("Ev"),
            "event_time": int(self._now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + uuid.uuid4().hex,
        }

    def _not_member(self, channel: Channel) -> Delivery:
        body = f"not delivered: the bot is not a member of {channel.id}"
        return Delivery(0, body, None, {}, kind="events_api")

    def slash_command(
        self, user: str, channel: str, text: str = "", command: str = "/ticket"
    ) -> Delivery:
        """`user` types `{command} {text}` in `channel`; fresh trigger_id and response_url."""
        with self._cond:
            who, where = self._user(user), self._channel(channel)
            payload = {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": where.id,
                "channel_name": self._channel_name(where),
                "user_id": who.id,
                "user_name": who.name,
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": self._issue_response_url(who.id, where.id, None),
                "trigger_id": self._issue_trigger(who.id),
            }
        return self._deliver("slash_commands", payload)

    def _target(self, user: str, channel: str, ts: str) -> tuple[Channel, Message | Ephemeral]:
        where = self._channel(channel)
        if where.is_private and not where.is_im and user not in where.members:
            raise AssertionError(f"{user} is not a member of private channel {where.id}")
        found: Message | Ephemeral | None = self._by_key.get((where.id, ts))
        if found is None:
            found = next(
                (
                    e
                    for e in self._ephemerals
                    if e.channel == where.id and e.user == user and e.message_ts == ts
                ),
                None,
            )
        if found is None or found.deleted:
            raise AssertionError(f"no message {ts} in {where.id} visible to {user}")
        return where, found

    def _find_element(
        self,
        blocks: list[JSON],
        action_id: str,
        kinds: Iterable[str] | None,
        where: str,
        value: str | None = None,
    ) -> tuple[JSON, JSON]:
        seen: list[str] = []
        allowed = set(kinds) if kinds is not None else None
        for block in blocks:
            for element in _block_elements(block):
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
        self, who: User, where: Channel, target: Message | Ephemeral, action: JSON, block: JSON
    ) -> JSON:
        ephemeral = isinstance(target, Ephemeral)
        ts = target.message_ts if isinstance(target, Ephemeral) else target.ts
        state = _state_values(target.blocks)
        if action.get("type") != "button" and action.get("action_id"):
            entry = {k: v for k, v in action.items() if k not in ("action_id", "block_id")}
            entry.pop("action_ts", None)
            state.setdefault(str(block.get("block_id")), {})[action["action_id"]] = entry
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_obj(who),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": where.id,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self._issue_trigger(who.id),
            "team": self._team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": where.id, "name": self._channel_name(where)},
        }
        if isinstance(target, Message):
            payload["message"] = target.to_api(self.team_id)
        payload["state"] = {"values": state}
        payload["response_url"] = self._issue_response_url(who.id, where.id, ts, ephemeral)
        payload["actions"] = [action]
        return payload

    def _action_ts(self) -> str:
        return f"{self._wall():.6f}"

    def click(
        self, user: str, channel: str, ts: str, action_id: str, *, value: str | None = None
    ) -> Delivery:
        """`user` clicks the button `action_id` (and `value`, if given) on message `ts`.

        Raises AssertionError unless the message's current blocks contain that button.
        """
        with self._cond:
            who = self._user(user)
            where, target = self._target(user, channel, ts)
            block, button = self._find_element(
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
            action.update(type="button", action_ts=self._action_ts())
            payload = self._block_actions(who, where, target, action, block)
        return self._deliver("interactive", payload)

    def select(
        self, user: str, channel: str, ts: str, action_id: str, option_value: str
    ) -> Delivery:
        """`user` picks `option_value` in the select `action_id` on message `ts`.

        static/radio/overflow: the option must exist; users_select: `option_value` is a user id.
        """
        with self._cond:
            who = self._user(user)
            where, target = self._target(user, channel, ts)
            block, element = self._find_element(
                target.blocks, action_id, None, f"message {where.id}/{ts}"
            )
            kind = str(element.get("type"))
            action: JSON = {"type": kind, "action_id": action_id, "block_id": block["block_id"]}
            if kind == "users_select":
                self._user(option_value)
                action["selected_user"] = option_value
            elif kind in ("conversations_select", "channels_select"):
                key = (
                    "selected_conversation"
                    if kind == "conversations_select"
                    else "selected_channel"
                )
                action[key] = option_value
            elif kind in ("static_select", "radio_buttons", "overflow", "external_select"):
                state = _selection(
                    element if kind != "overflow" else {**element, "type": "static_select"},
                    option_value,
                    f"select {action_id!r} on {where.id}/{ts}",
                )
                action["selected_option"] = state["selected_option"]
            else:
                raise AssertionError(f"element {action_id!r} is a {kind}, not a select")
            if isinstance(element.get("placeholder"), dict):
                action["placeholder"] = copy.deepcopy(element["placeholder"])
            action["action_ts"] = self._action_ts()
            payload = self._block_actions(who, where, target, action, block)
        return self._deliver("interactive", payload)

    def _top_view(self, user: str) -> View | None:
        open_views = [v for v in self._views.values() if v.user == user and v.is_open]
        return open_views[-1] if open_views else None

    def _view_for(self, user: str, view_id: str | None) -> View:
        if view_id is not None:
            view = self._views.get(view_id) or next(
                (h for h in self._homes.values() if h.id == view_id), None
            )
            if view is None or view.user != user:
                raise AssertionError(f"no view {view_id!r} open for {user}")
        else:
            top = self._top_view(user)
            if top is None:
                raise AssertionError(f"no modal is open for {user}")
            view = top
        if not view.is_open:
            raise AssertionError(f"view {view.id} of {user} is closed")
        return view

    def submit_view(
        self, user: str, view_id: str | None = None, values: Mapping[str, Any] | None = None
    ) -> Delivery:
        """`user` fills in and submits their top open modal (or `view_id`).

        `values` maps input block_id → raw value (or → {action_id: raw value}); raw values are
        turned into the state shape Slack sends for each element type. Required inputs left empty
        and unknown block/action ids raise AssertionError (Slack's client would not submit).
        """
        with self._cond:
            who = self._user(user)
            view = self._view_for(user, view_id)
            state = copy.deepcopy(view.state)
            inputs = {str(b.get("block_id")): b for b in view.blocks if b.get("type") == "input"}
            for block_id, given in (values or {}).items():
                block = next((b for b in view.blocks if b.get("block_id") == block_id), None)
                elements = {e.get("action_id"): e for e in _block_elements(block or {})}
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
                    state.setdefault(block_id, {})[action_id] = _selection(
                        elements[action_id], raw, where
                    )
            for input_id, block in inputs.items():
                element = block.get("element") or {}
                entry = state.get(input_id, {}).get(element.get("action_id"), {})
                if not block.get("optional") and _is_empty_state(entry):
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
                        raise AssertionError(
                            f"{input_id!r} is shorter than min_length {min_length}"
                        )
            view.state = state
            api_view = view.to_api(team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id)
            payload = {
                "type": "view_submission",
                "team": self._team_obj(),
                "user": self._user_obj(who),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "trigger_id": self._issue_trigger(who.id),
                "view": api_view,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        delivery = self._deliver("interactive", payload)
        if delivery.status == 200:
            with self._cond:
                self._apply_view_response(view, delivery)
                self._changed()
        return delivery

    def _apply_view_response(self, view: View, delivery: Delivery) -> None:
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
                self._replace_view(view, definition)
            elif len(self._stack(view)) >= VIEW_STACK_MAX:
                raise AssertionError("response_action=push beyond the 3-view stack")
            else:
                self._open_view(view.user, definition, view)
        elif action == "clear":
            for member in self._stack(view):
                member.is_open = False
        else:
            view.is_open = False

    def click_view(
        self, user: str, action_id: str, *, value: str | None = None, view_id: str | None = None
    ) -> Delivery:
        """`user` clicks a button in their top open modal (or `view_id`, e.g. the Home tab)."""
        with self._cond:
            who = self._user(user)
            view = self._view_for(user, view_id)
            block, button = self._find_element(
                view.blocks, action_id, ("button",), f"view {view.id}", value
            )
            action: JSON = {
                "action_id": action_id,
                "block_id": block["block_id"],
                "text": copy.deepcopy(button.get("text")),
            }
            if "value" in button:
                action["value"] = button["value"]
            action.update(type="button", action_ts=self._action_ts())
            payload = {
                "type": "block_actions",
                "user": self._user_obj(who),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": {"type": "view", "view_id": view.id},
                "trigger_id": self._issue_trigger(who.id),
                "team": self._team_obj(),
                "enterprise": None,
                "is_enterprise_install": False,
                "view": view.to_api(team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id),
                "actions": [action],
            }
        return self._deliver("interactive", payload)

    def open_home(self, user: str) -> Delivery:
        """`user` opens the app's Home tab (`app_home_opened`)."""
        with self._cond:
            who = self._user(user)
            event: JSON = {
                "type": "app_home_opened",
                "user": who.id,
                "channel": self._dm_for(who.id).id,
                "tab": "home",
                "event_ts": self._next_ts(),
            }
            home = self._homes.get(who.id)
            if home is not None:
                event["view"] = home.to_api(
                    team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id
                )
            payload = self._envelope(event)
        return self._deliver("events_api", payload)

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> tuple[str, Delivery]:
        """A person posts `text` (Slack-encoded: `<@U…>`, `&lt;`) in `channel` or a thread.

        Returns the new ts and the delivery of its `message` event (status 0 if the bot is not
        in the channel, as Slack would not send it). Mentions of the bot also send `app_mention`.
        """
        with self._cond:
            who, where = self._user(user), self._channel(channel)
            if not where.is_im and user not in where.members:
                if where.is_private:
                    raise AssertionError(f"{user} is not a member of private channel {where.id}")
                where.members.append(user)
            parent = None
            if thread_ts is not None:
                parent = self._by_key.get((where.id, thread_ts))
                if parent is None or parent.deleted or parent.is_reply:
                    raise AssertionError(f"no top-level message {thread_ts} in {where.id}")
            ts = self._next_ts()
            blocks = _rich_text_blocks(text)
            message = self._store(
                Message(
                    channel=where.id,
                    ts=ts,
                    user=who.id,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    reply_broadcast=broadcast and thread_ts is not None,
                    subtype="thread_broadcast" if broadcast and thread_ts else None,
                )
            )
            event: JSON = {"type": "message"}
            if message.subtype:
                event["subtype"] = message.subtype
            event.update(client_msg_id=str(uuid.uuid4()), user=who.id, text=text, ts=ts)
            if parent is not None:
                event["thread_ts"] = parent.ts
                event["parent_user_id"] = parent.user or parent.bot_id
                if broadcast:
                    event["root"] = parent.to_api(self.team_id)
            event.update(
                team=self.team_id,
                channel=where.id,
                channel_type=where.channel_type,
                event_ts=ts,
                blocks=copy.deepcopy(blocks),
            )
            member = where.is_im or self.bot_user_id in where.members
            payload = self._envelope(event)
            mention = None
            mentioned = f"<@{self.bot_user_id}" in text
            if member and self.app_mention_events and not where.is_im and mentioned:
                mention_event = {
                    k: v
                    for k, v in event.items()
                    if k not in ("channel_type", "parent_user_id", "subtype", "root")
                }
                mention = self._envelope({**mention_event, "type": "app_mention"})
        if not member:
            return ts, self._not_member(where)
        delivery = self._deliver("events_api", payload)
        if mention is not None:
            self._deliver("events_api", mention)
        return ts, delivery

    def post_bot_message(
        self,
        channel: str,
        *,
        text: str = "",
        attachments: list[JSON] | None = None,
        blocks: list[JSON] | None = None,
        bot_id: str = "BALERT",
        username: str = "Alertmanager",
        subtype: str | None = "bot_message",
        thread_ts: str | None = None,
    ) -> tuple[str, Delivery]:
        """A monitoring integration posts (webhook shape; subtype=None gives a modern app's)."""
        with self._cond:
            where = self._channel(channel)
            ts = self._next_ts()
            atts = copy.deepcopy(attachments or [])
            for n, att in enumerate(atts, start=1):
                att.setdefault("id", n)
            message = self._store(
                Message(
                    channel=where.id,
                    ts=ts,
                    user=None,
                    text=text,
                    blocks=self._with_block_ids(blocks or [], ts),
                    attachments=atts,
                    thread_ts=thread_ts,
                    bot_id=bot_id,
                    username=username,
                    subtype=subtype,
                )
            )
            event = message.to_api(self.team_id)
            event["icons"] = {"image_48": f"https://avatars.example.invalid/{bot_id}-48.png"}
            event.update(channel=where.id, event_ts=ts, channel_type=where.channel_type)
            member = where.is_im or self.bot_user_id in where.members
            payload = self._envelope(event)
        if not member:
            return ts, self._not_member(where)
        return ts, self._deliver("events_api", payload)

    def edit_message(self, user: str, channel: str, ts: str, new_text: str) -> Delivery:
        """`user` edits their message → `message_changed`."""
        with self._cond:
            where = self._channel(channel)
            message = self._by_key.get((where.id, ts))
            if message is None or message.deleted or message.user != user:
                raise AssertionError(f"{user} has no message {ts} in {where.id} to edit")
            previous = message.to_api(self.team_id)
            message.updates.append(replace(message, updates=[]))
            message.text = new_text
            message.blocks = _rich_text_blocks(new_text)
            event_ts = self._next_ts()
            message.edited_ts = event_ts
            current = message.to_api(self.team_id)
            for shape in (previous, current):
                if message.is_reply:
                    parent = self._by_key.get((where.id, str(message.thread_ts)))
                    shape["parent_user_id"] = parent.user if parent else None
            payload = self._envelope(
                {
                    "type": "message",
                    "subtype": "message_changed",
                    "hidden": True,
                    "channel": where.id,
                    "channel_type": where.channel_type,
                    "ts": event_ts,
                    "event_ts": event_ts,
                    "message": current,
                    "previous_message": previous,
                }
            )
            member = where.is_im or self.bot_user_id in where.members
        return self._deliver("events_api", payload) if member else self._not_member(where)

    def delete_message(self, user: str, channel: str, ts: str) -> Delivery:
        """`user` deletes their message → `message_deleted`."""
        with self._cond:
            where = self._channel(channel)
            message = self._by_key.get((where.id, ts))
            if message is None or message.deleted or message.user != user:
                raise AssertionError(f"{user} has no message {ts} in {where.id} to delete")
            message.deleted = True
            event_ts = self._next_ts()
            payload = self._envelope(
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "hidden": True,
                    "channel": where.id,
                    "channel_type": where.channel_type,
                    "ts": event_ts,
                    "event_ts": event_ts,
                    "deleted_ts": ts,
                    "previous_message": message.to_api(self.team_id),
                }
            )
            member = where.is_im or self.bot_user_id in where.members
        return self._deliver("events_api", payload) if member else self._not_member(where)

    # -- Socket Mode ----------------------------------------------------------------------

    def wait_socket_connected(self, timeout: float = 5.0) -> None:
        if not self._socket.running:
            raise AssertionError("Socket Mode is off: construct the emulator with app_token=...")
        if not self._socket.wait_connected(timeout):
            raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    @property
    def socket_connections(self) -> int:
        """Open Socket Mode connections now."""
        return self._socket.connection_count

    @property
    def socket_connects(self) -> int:
        """Socket Mode connections accepted so far (reconnects included)."""
        return self._socket.connections_opened

    def _notify(self) -> None:
        with self._cond:
            self._changed()

    def _changed(self) -> None:
        """Wake `wait_for` callers; call with the lock held."""
        self._generation += 1
        self._cond.notify_all()

    def disconnect_sockets(self, reason: str = "refresh_requested") -> int:
        """Send Slack's `disconnect` frame to every Socket Mode connection."""
        return self._socket.disconnect(reason)

    # -- what Slack shows -----------------------------------------------------------------

    def messages(self, channel: str, *, include_deleted: bool = False) -> list[Message]:
        """Top-level messages of `channel` (a user id means the bot's DM), oldest first."""
        with self._cond:
            channel_id = self._dm_by_user.get(channel, channel)
            return [
                copy.deepcopy(m)
                for m in self._messages.get(channel_id, [])
                if (not m.is_reply or m.reply_broadcast) and (include_deleted or not m.deleted)
            ]

    def replies(
        self, channel: str, thread_ts: str, *, include_deleted: bool = False
    ) -> list[Message]:
        with self._cond:
            channel_id = self._dm_by_user.get(channel, channel)
            return [
                copy.deepcopy(m)
                for m in self._messages.get(channel_id, [])
                if m.thread_ts == thread_ts and m.is_reply and (include_deleted or not m.deleted)
            ]

    def message(self, channel: str, ts: str) -> Message:
        with self._cond:
            channel_id = self._dm_by_user.get(channel, channel)
            found = self._by_key.get((channel_id, ts))
            if found is None:
                raise AssertionError(f"no message {ts} in {channel_id}")
            return copy.deepcopy(found)

    def dm_channel(self, user: str) -> str:
        """The id of the bot's DM with `user` (opened now if it was never used)."""
        with self._cond:
            return self._dm_for(self._user(user).id).id

    def dms(self, user: str) -> list[Message]:
        """Top-level messages in the bot's DM with `user`."""
        return self.messages(self.dm_channel(user))

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        with self._cond:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if e.user == user and (channel is None or e.channel == channel) and not e.deleted
            ]

    def views(self, user: str) -> list[View]:
        """Modals opened for `user` (open and closed), in opening order."""
        with self._cond:
            return [copy.deepcopy(v) for v in self._views.values() if v.user == user]

    def view(self, view_id: str) -> View:
        with self._cond:
            found = self._views.get(view_id) or next(
                (h for h in self._homes.values() if h.id == view_id), None
            )
            if found is None:
                raise AssertionError(f"no view {view_id}")
            return copy.deepcopy(found)

    def home_view(self, user: str) -> View | None:
        with self._cond:
            home = self._homes.get(user)
            return copy.deepcopy(home) if home else None

    @property
    def responses(self) -> list[ResponsePost]:
        with self._cond:
            return list(self._responses)

    @property
    def calls(self) -> list[ApiCall]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return list(self._deliveries)

    def user_names(self) -> dict[str, str]:
        with self._cond:
            return {u.id: u.name for u in self._users.values()}

    def render(self, message: Message | Ephemeral | Mapping[str, Any]) -> str:
        """`render_text` with this workspace's user names."""
        return render_text(message, names=self.user_names())

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, *, description: str | None = None
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked after every API call/delivery); return it.

        The predicate runs without the emulator's lock, so it may query the bot's database.
        Raises AssertionError after `timeout` seconds, naming the predicate and the last calls.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._generation
            result = predicate()
            if result:
                return result
            with self._cond:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = ", ".join(
                        f"{c.method}={'ok' if c.ok else c.error}" for c in self._calls[-8:]
                    )
                    what = description or getattr(predicate, "__qualname__", repr(predicate))
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {what}; "
                        f"last API calls: [{recent or 'none'}]"
                    )
                if self._generation == seen:  # else something changed while it ran
                    self._cond.wait(remaining)
