"""The Web API subset the bot calls (chat, views, users, conversations, auth), answered as Slack."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Literal, Protocol, cast

from bot.sandbox.slack.blocks import block_errors, view_errors
from bot.sandbox.slack.elements import with_block_ids
from bot.sandbox.slack.faults import Fault, Faults, Pacer
from bot.sandbox.slack.records import JSON, ApiCall, Channel, Ephemeral, Message, Stats, View
from bot.sandbox.slack.socket_mode import SocketModeServer
from bot.sandbox.slack.wire import ApiError, Reply, bearer, flag, json_or_none, parse_params
from bot.sandbox.slack.workspace import VIEW_STACK_MAX, Trigger, Workspace

PERMALINK_HOST = "https://emulator.slack.test"
TRIGGER_TTL = 3.0  # seconds a trigger_id stays usable for views.open / views.push


class ApiSettings(Protocol):
    """The `SlackEmulator` settings the Web API reads on every call."""

    bot_token: str
    app_token: str | None
    enforce_rate_limits: bool
    faults: Faults
    stats: Stats


class WebApi:
    """Answers `/api/<method>`: checks the token, serves faults and pacing, records every call."""

    def __init__(self, ws: Workspace, socket: SocketModeServer, settings: ApiSettings) -> None:
        self._ws = ws
        self._socket = socket
        self._settings = settings
        self._pacer = Pacer()
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
            "conversations.history": self._api_conversations_history,
            "conversations.replies": self._api_conversations_replies,
        }

    def handle(self, method: str, headers: Mapping[str, str], raw: bytes, query: str) -> Reply:
        """One request to `/api/<method>` (the HTTP server's route)."""
        with self._ws.cond:
            at = self._ws.now()
            params: JSON = {}
            try:
                params = parse_params(headers.get("content-type", ""), raw, query)
                token = bearer(headers.get("authorization")) or params.pop("token", None)
                params.pop("token", None)
                self._check_token(method, token)
                handler = self._methods.get(method)
                if handler is None:
                    raise ApiError("unknown_method", req_method=method)
                fault = self._settings.faults.take(method, params)
                if fault is not None:
                    reply = self._fault_reply(fault)
                else:
                    self._pace(method, params, at)
                    reply = Reply.of_json(200, {"ok": True, **handler(params)})
            except ApiError as exc:
                reply = Reply.of_json(
                    exc.status, {"ok": False, "error": exc.error, **exc.extra}, exc.headers
                )
            except Exception as exc:  # server boundary: an emulator bug must not look like a hang
                detail = f"{type(exc).__name__}: {exc}"
                reply = Reply.of_json(
                    500, {"ok": False, "error": "emulator_error", "detail": detail}
                )
            data = json_or_none(reply.body.decode("utf-8", "replace"))
            ok = bool(data and data.get("ok")) and reply.status == 200 and not reply.drop
            error = None if ok else str((data or {}).get("error") or f"http_{reply.status}")
            self._settings.stats.api_calls += 1
            if reply.status == 429:
                self._settings.stats.ratelimited += 1
            if reply.status >= 500 or reply.drop:
                self._settings.stats.server_errors += 1
            self._ws.calls.append(ApiCall(method, params, ok, error, reply.status, at))
            self._ws.changed()
            return reply

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        if method == "apps.connections.open":
            if self._settings.app_token and token == self._settings.app_token:
                return
            if token == self._settings.bot_token:
                raise ApiError("not_allowed_token_type")
            raise ApiError("invalid_auth")
        if token == self._settings.bot_token:
            return
        if self._settings.app_token and token == self._settings.app_token:
            raise ApiError("not_allowed_token_type")
        raise ApiError("invalid_auth")

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind == "ratelimited":
            retry_after = str(max(1, fault.retry_after))
            return Reply.of_json(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after}
            )
        if fault.kind == "server_error":
            return Reply.of_json(500, {"ok": False, "error": "internal_error"})
        if fault.kind == "unavailable":
            page = b"<html><body><h1>503 Service Unavailable</h1></body></html>\n"
            return Reply(503, page, {"Content-Type": "text/html"})
        if fault.kind == "connection_reset":
            return Reply(0, b"", {}, drop=True)
        return Reply.of_json(200, {"ok": False, "error": fault.kind})

    def _pace(self, method: str, params: JSON, now: float) -> None:
        if not self._settings.enforce_rate_limits or method != "chat.postMessage":
            return
        wait = self._pacer.take(str(params.get("channel")), now)
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            raise ApiError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _resolve(self, value: Any, *, allow_user: bool = True) -> Channel:
        if not isinstance(value, str) or not value:
            raise ApiError("channel_not_found")
        if allow_user and value[0] in "UW" and value in self._ws.users:
            return self._ws.dm_for(value)
        if value.startswith("#"):
            for channel in self._ws.channels.values():
                if channel.name == value[1:] and not channel.is_im:
                    return channel
        found = self._ws.channels.get(value)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def _content(self, params: JSON, *, required: bool = True) -> None:
        text, blocks, attachments = (
            params.get("text"),
            params.get("blocks"),
            params.get("attachments"),
        )
        if blocks is not None and not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        if attachments is not None and not isinstance(attachments, list):
            raise ApiError("invalid_attachments")
        if text is not None and len(str(text)) > 40_000:
            raise ApiError("msg_too_long")
        if required and not text and not blocks and not attachments:
            raise ApiError("no_text")
        errors = block_errors(blocks)
        if errors:
            raise ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        if attachments is not None and len(attachments) > 100:
            raise ApiError("too_many_attachments")

    def _own(self, message: Message) -> bool:
        return message.bot_id == self._ws.bot_id or message.user == self._ws.bot_user_id

    def _api_auth_test(self, params: JSON) -> JSON:
        return {
            "url": f"https://{self._ws.team_domain}.slack.test/",
            "team": "Emulator MSP",
            "user": self._ws.users[self._ws.bot_user_id].name,
            "team_id": self._ws.team_id,
            "user_id": self._ws.bot_user_id,
            "bot_id": self._ws.bot_id,
            "is_enterprise_install": False,
        }

    def _api_connections_open(self, params: JSON) -> JSON:
        if not self._socket.running:
            self._socket.start()
        return {"url": self._socket.issue_url()}

    def _api_post_message(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"))
        if channel.is_private and not channel.is_im and self._ws.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        self._content(params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None:
            parent = self._ws.by_key.get((channel.id, str(thread_ts)))
            if parent is None or parent.deleted or parent.is_reply:
                raise ApiError("thread_not_found")
        metadata = _metadata(params.get("metadata"))
        ts = self._ws.next_ts()
        message = self._ws.store(
            Message(
                channel=channel.id,
                ts=ts,
                user=self._ws.bot_user_id,
                text=str(params.get("text") or ""),
                blocks=with_block_ids(params.get("blocks") or [], ts),
                attachments=copy.deepcopy(params.get("attachments") or []),
                thread_ts=str(thread_ts) if thread_ts else None,
                bot_id=self._ws.bot_id,
                app_id=self._ws.app_id,
                reply_broadcast=bool(thread_ts) and flag(params.get("reply_broadcast")),
                metadata=metadata,
            )
        )
        return {"channel": channel.id, "ts": ts, "message": message.to_api(self._ws.team_id)}

    def _existing(self, params: JSON, ts_key: str = "ts") -> Message:
        channel = self._resolve(params.get("channel"), allow_user=False)
        message = self._ws.by_key.get((channel.id, str(params.get(ts_key))))
        if message is None or message.deleted:
            raise ApiError("message_not_found")
        return message

    def _api_update(self, params: JSON) -> JSON:
        message = self._existing(params)
        if not self._own(message):
            raise ApiError("cant_update_message")
        self._content(params, required=False)
        text = str(params["text"]) if "text" in params else message.text
        blocks = params.get("blocks", message.blocks)
        attachments = params.get("attachments", message.attachments)
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        message.updates.append(replace(message, updates=[]))
        message.text = text
        message.blocks = with_block_ids(blocks, f"{message.ts}:{len(message.updates)}")
        message.attachments = copy.deepcopy(attachments)
        message.edited_ts = self._ws.next_ts()
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(self._ws.team_id),
        }

    def _api_delete(self, params: JSON) -> JSON:
        message = self._existing(params)
        if not self._own(message):
            raise ApiError("cant_delete_message")
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def _api_post_ephemeral(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"))
        user = params.get("user")
        if user not in self._ws.users:
            raise ApiError("user_not_found")
        if not channel.is_im and user not in channel.members:
            raise ApiError("user_not_in_channel")
        self._content(params)
        ts = self._ws.next_ts()
        self._ws.ephemerals.append(
            Ephemeral(
                channel=channel.id,
                user=str(user),
                message_ts=ts,
                text=str(params.get("text") or ""),
                blocks=with_block_ids(params.get("blocks") or [], ts),
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

    def _use_trigger(self, params: JSON) -> Trigger:
        trigger = self._ws.triggers.get(str(params.get("trigger_id")))
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self._ws.now() - trigger.issued_at > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        return trigger

    def _check_view(self, view: Any, surface: Literal["modal", "home"]) -> JSON:
        errors = view_errors(view, surface=surface)
        if errors:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return cast(JSON, copy.deepcopy(view))

    def _view_reply(self, view: View) -> JSON:
        return {"view": self._ws.api_view(view, with_state=False)}

    def _api_views_open(self, params: JSON) -> JSON:
        trigger = self._use_trigger(params)
        definition = self._check_view(params.get("view"), "modal")
        trigger.used = True
        return self._view_reply(self._ws.open_view(trigger.user, definition, None))

    def _api_views_push(self, params: JSON) -> JSON:
        trigger = self._use_trigger(params)
        definition = self._check_view(params.get("view"), "modal")
        top = self._ws.top_view(trigger.user)
        if top is None:
            raise ApiError("not_found")
        if len(self._ws.stack(top)) >= VIEW_STACK_MAX:
            raise ApiError("push_limit_reached")
        trigger.used = True
        return self._view_reply(self._ws.open_view(trigger.user, definition, top))

    def _find_view(self, params: JSON) -> View:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        for view in [*self._ws.views.values(), *self._ws.homes.values()]:
            if (view_id and view.id == view_id) or (
                external_id and view.external_id == external_id
            ):
                return view
        raise ApiError("not_found")

    def _api_views_update(self, params: JSON) -> JSON:
        view = self._find_view(params)
        if not view.is_open:
            raise ApiError("not_found")
        if params.get("hash") and params["hash"] != view.hash:
            raise ApiError("hash_conflict")
        surface: Literal["modal", "home"] = "home" if view.type == "home" else "modal"
        self._ws.replace_view(view, self._check_view(params.get("view"), surface))
        return self._view_reply(view)

    def _api_views_publish(self, params: JSON) -> JSON:
        user = params.get("user_id")
        if user not in self._ws.users:
            raise ApiError("user_not_found")
        definition = self._check_view(params.get("view"), "home")
        home = self._ws.homes.get(str(user))
        if home is None:
            view_id = self._ws.next_id("V")
            definition["blocks"] = with_block_ids(definition.get("blocks") or [], view_id)
            home = View(view_id, str(user), definition, self._ws.new_hash(), view_id)
            self._ws.homes[str(user)] = home
        else:
            if params.get("hash") and params["hash"] != home.hash:
                raise ApiError("hash_conflict")
            self._ws.replace_view(home, definition)
        return self._view_reply(home)

    def _api_users_info(self, params: JSON) -> JSON:
        user = self._ws.users.get(str(params.get("user")))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user.to_api(self._ws.team_id)}

    def _api_users_lookup_by_email(self, params: JSON) -> JSON:
        wanted = str(params.get("email", "")).lower()
        for user in self._ws.users.values():
            if user.email and user.email.lower() == wanted:
                return {"user": user.to_api(self._ws.team_id)}
        raise ApiError("users_not_found")

    def _api_conversations_members(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"), allow_user=False)
        return {"members": list(channel.members), "response_metadata": {"next_cursor": ""}}

    def _api_conversations_open(self, params: JSON) -> JSON:
        if params.get("channel"):
            channel = self._resolve(params["channel"], allow_user=False)
            return {"channel": channel.to_api(self._ws.bot_user_id)}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("not_implemented" if users else "users_list_not_supplied")
        if users[0] not in self._ws.users:
            raise ApiError("user_not_found")
        return {"channel": self._ws.dm_for(users[0]).to_api(self._ws.bot_user_id)}

    def _api_conversations_info(self, params: JSON) -> JSON:
        channel = self._resolve(params.get("channel"), allow_user=False)
        return {"channel": channel.to_api(self._ws.bot_user_id)}

    def _readable(self, params: JSON) -> Channel:
        channel = self._resolve(params.get("channel"), allow_user=False)
        if not channel.is_im and self._ws.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    def _api_conversations_history(self, params: JSON) -> JSON:
        """Top-level messages (and thread replies also sent to the channel), newest first."""
        channel = self._readable(params)
        found = [
            m
            for m in reversed(self._ws.messages.get(channel.id, []))
            if (not m.is_reply or m.reply_broadcast) and not m.deleted
        ]
        return self._page(_between(found, params), params)

    def _api_conversations_replies(self, params: JSON) -> JSON:
        """A thread: its parent first, then its replies, oldest first."""
        channel = self._readable(params)
        parent = self._ws.by_key.get((channel.id, str(params.get("ts") or "")))
        if parent is None or parent.deleted:
            raise ApiError("thread_not_found")
        root = parent.thread_ts or parent.ts
        thread = [
            m
            for m in self._ws.messages.get(channel.id, [])
            if (m.ts == root or m.thread_ts == root) and not m.deleted
        ]
        replies = [m for m in _between(thread, params) if m.ts != root]
        head = [m for m in thread if m.ts == root]
        return self._page(head + replies, params)

    def _page(self, found: list[Message], params: JSON) -> JSON:
        """One page of `found` (`limit`, default 100, at most 999; `cursor`); metadata only when
        `include_all_metadata` or the message is this app's own."""
        try:
            limit = min(999, max(1, int(params.get("limit") or 100)))
            start = int(str(params.get("cursor") or "0").removeprefix("offset:"))
        except ValueError:
            raise ApiError("invalid_cursor") from None
        every = flag(params.get("include_all_metadata"))
        page = found[start : start + limit]
        messages = []
        for m in page:
            out = m.to_api(self._ws.team_id)
            if not every and m.app_id != self._ws.app_id:
                out.pop("metadata", None)
            messages.append(out)
        more = start + limit < len(found)
        return {
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    # -- response_url ---------------------------------------------------------------------


def _metadata(value: Any) -> JSON | None:
    """chat.postMessage `metadata`: an event type and a payload object, or nothing."""
    if value is None or value == "":
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not value["event_type"]
        or not isinstance(value.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    if len(json.dumps(value)) > 8_000:
        raise ApiError("metadata_too_large")
    return {
        "event_type": value["event_type"],
        "event_payload": copy.deepcopy(value["event_payload"]),
    }


def _between(found: list[Message], params: JSON) -> list[Message]:
    """Messages with `oldest` < ts < `latest` (either bound included when `inclusive`)."""
    inclusive = flag(params.get("inclusive"))
    oldest, latest = params.get("oldest"), params.get("latest")
    kept = []
    for m in found:
        ts = float(m.ts)
        if oldest and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
            continue
        if latest and (ts > float(latest) or (ts == float(latest) and not inclusive)):
            continue
        kept.append(m)
    return kept
