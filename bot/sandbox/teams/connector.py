"""Local stand-in for Microsoft's Bot Connector and Entra login, over HTTPS on 127.0.0.1.

One port serves the OpenID metadata + JWKS the bot validates inbound JWTs with, an MSAL-compatible
token endpoint, and the conversations API; the client side signs and posts activities to the bot
like Teams does. Imports nothing of the bot's runtime.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import parse_qs, unquote

import httpx

from bot.sandbox.teams.activities import ActivityFactory, new_thread_id, new_user_id
from bot.sandbox.teams.keys import LocalCA, SigningKey
from bot.sandbox.teams.records import JSON, ConnectorCall, PostedActivity, TeamsChannel, TeamsUser
from bot.sandbox.waiting import wait_for_change

__all__ = [
    "BOT_CONNECTOR_ISSUER",
    "BOT_SCOPE",
    "MAX_MESSAGE_BYTES",
    "ActivityFactory",
    "Auth",
    "BotConnector",
    "ConnectorCall",
    "PostedActivity",
    "TeamsChannel",
    "TeamsUser",
]

T = TypeVar("T")

BOT_CONNECTOR_ISSUER = "https://api.botframework.com"
BOT_SCOPE = "https://api.botframework.com/.default"
MAX_MESSAGE_BYTES = 100 * 1024  # Teams answers 413 MessageSizeTooBig above about 100 KB
OPENID_PATH = "/v1/.well-known/openidconfiguration"
JWKS_PATH = "/v1/.well-known/keys"  # the SDK derives it from OPENID_PATH, as for Microsoft's
API_PREFIX = "/teams"  # like smba.trafficmanager.net/teams/: callers must keep the service path

# How `sign` / `post_activity` authenticate an activity: "valid", or one of the bad cases.
Auth = Literal[
    "valid",
    "none",
    "wrong_audience",
    "unknown_key",
    "forged_signature",
    "expired",
    "wrong_service_url",
]


class _Reply:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, code: str, message: str, **headers: str) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}}, headers)


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int
    path: str | None
    conversation: str | None


@dataclass
class _Conversation:
    id: str
    kind: Literal["personal", "channel"]
    tenant_id: str
    member_ids: tuple[str, ...]


_CONVERSATIONS = re.compile(r"^(?:/[^/]+)?/v3/conversations(?:/(?P<rest>.*))?$")


class BotConnector:
    """A Bot Connector + Entra login for one bot registration (`app_id`, `password`, `tenant_id`).

    Use as a context manager. `service_url` is what activities carry and what the bot posts to;
    `login_url` is the TEAMS_LOGIN_URL and `openid_metadata_url` the TEAMS_OPENID_METADATA_URL to
    give the bot; clients must trust `ca_file` (SSL_CERT_FILE / REQUESTS_CA_BUNDLE).
    """

    def __init__(
        self,
        app_id: str,
        tenant_id: str,
        *,
        password: str = "sandbox-app-password",
        bot_name: str = "ticketbot",
        token_lifetime: int = 3600,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.password = password
        self.bot_name = bot_name
        self.token_lifetime = token_lifetime
        self.max_message_bytes = max_message_bytes
        self.require_token = True  # the conversations API answers 401 without a valid token
        # Users who have not installed the app: Teams refuses to open a 1:1 chat with them.
        self.not_installed: set[str] = set()
        self.signing_key = SigningKey()  # published in the JWKS; signs inbound activities
        self.rogue_key = SigningKey()  # never published: tokens it signs must be refused
        self.login_key = SigningKey()  # signs the access tokens the token endpoint issues
        self._dir = Path(tempfile.mkdtemp(prefix="teams-connector-"))
        self._ca = LocalCA(self._dir)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._generation = 0
        self._ids = itertools.count(int(time.time() * 1000))
        self._calls: list[ConnectorCall] = []
        self._faults: list[_Fault] = []
        self._users: dict[str, TeamsUser] = {}
        self._channels: dict[str, TeamsChannel] = {}
        self._conversations: dict[str, _Conversation] = {}
        self._personal: dict[str, str] = {}  # user id → 1:1 conversation id
        self._posted: dict[str, PostedActivity] = {}  # activity id → posted activity
        self._order: list[str] = []  # activity ids in posting order
        self._teams = httpx.Client(  # "Teams" posting to the bot: one pool, kept alive
            headers={"User-Agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework 3.0)"}
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> BotConnector:
        if self._server is None:
            self._server = _Server(self, self._ca.server_context())
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="teams-connector",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def close(self) -> None:
        """Stop, close the connections to the bot, and remove the key material from disk."""
        self.stop()
        self._teams.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> BotConnector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addresses ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("BotConnector is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        """The activities' `serviceUrl` (trailing slash, as Teams sends it)."""
        return f"{self.base_url}{API_PREFIX}/"

    @property
    def login_url(self) -> str:
        return self.base_url

    @property
    def authority(self) -> str:
        return f"{self.login_url}/{self.tenant_id}"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.base_url}{OPENID_PATH}"

    @property
    def ca_file(self) -> str:
        return str(self._ca.ca_file)

    def ca_environment(self) -> dict[str, str]:
        """The variables that make the bot trust this stand-in: PyJWT's JWKS fetch and httpx read
        SSL_CERT_FILE, MSAL (requests) reads REQUESTS_CA_BUNDLE."""
        return {"SSL_CERT_FILE": self.ca_file, "REQUESTS_CA_BUNDLE": self.ca_file}

    def client_ssl_context(self) -> ssl.SSLContext:
        return self._ca.client_context()

    @property
    def bot_id(self) -> str:
        return f"28:{self.app_id}"

    # -- roster and channels --------------------------------------------------------------

    def add_user(
        self,
        name: str,
        email: str,
        *,
        tenant_id: str | None = None,
        aad_object_id: str | None = None,
        user_principal_name: str | None = None,
        id: str | None = None,  # noqa: A002 - the Bot Connector's field name
    ) -> TeamsUser:
        user = TeamsUser(
            id=id or new_user_id(),
            aad_object_id=aad_object_id or str(uuid.uuid4()),
            name=name,
            email=email,
            user_principal_name=user_principal_name or email,
            tenant_id=tenant_id or self.tenant_id,
        )
        with self._cond:
            self._users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        members: list[TeamsUser],
        *,
        team_name: str = "Technicians",
        tenant_id: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> TeamsChannel:
        """A standard channel in a new team whose members are `members` (the bot is in it)."""
        channel = TeamsChannel(
            id=id or new_thread_id(),
            name=name,
            team_id=new_thread_id(),
            team_name=team_name,
            aad_group_id=str(uuid.uuid4()),
            tenant_id=tenant_id or self.tenant_id,
            member_ids=tuple(u.id for u in members),
        )
        with self._cond:
            self._channels[channel.id] = channel
            for conv_id in (channel.id, channel.team_id):
                self._conversations[conv_id] = _Conversation(
                    conv_id, "channel", channel.tenant_id, channel.member_ids
                )
        return channel

    def set_team_members(self, channel: TeamsChannel, members: list[TeamsUser]) -> None:
        """People join or leave the channel's team (the roster changes; the conversationUpdate
        activity that tells the bot is sent separately, or not at all)."""
        ids = tuple(u.id for u in members)
        with self._cond:
            for conv_id in (channel.id, channel.team_id):
                self._conversations[conv_id].member_ids = ids

    def personal_conversation(self, user: TeamsUser) -> str:
        """The id of `user`'s 1:1 chat with the bot (created on first use, then always the same)."""
        with self._cond:
            return self._personal_locked(user.id, user.tenant_id)

    def _personal_locked(self, user_id: str, tenant_id: str) -> str:
        conv_id = self._personal.get(user_id)
        if conv_id is None:
            conv_id = "a:1" + secrets.token_urlsafe(48)
            self._personal[user_id] = conv_id
            self._conversations[conv_id] = _Conversation(conv_id, "personal", tenant_id, (user_id,))
        return conv_id

    @property
    def activities(self) -> ActivityFactory:
        """Builders for activities this Bot Connector would deliver to the bot."""
        return ActivityFactory(
            service_url=self.service_url,
            tenant_id=self.tenant_id,
            bot_id=self.bot_id,
            bot_name=self.bot_name,
            next_id=self.next_activity_id,
            personal_conversation=self.personal_conversation,
        )

    def next_activity_id(self) -> str:
        with self._cond:
            return str(next(self._ids))

    # -- what the bot did -----------------------------------------------------------------

    @property
    def calls(self) -> list[ConnectorCall]:
        with self._cond:
            return list(self._calls)

    def posted(self) -> list[PostedActivity]:
        """Everything the bot posted, in order, each in its current version."""
        with self._cond:
            return [self._posted[i].snapshot() for i in self._order]

    def activity(self, activity_id: str) -> PostedActivity:
        with self._cond:
            return self._posted[activity_id].snapshot()

    def messages(self, conversation_id: str) -> list[PostedActivity]:
        """Top-level activities in a conversation: a channel's thread roots, a chat's messages."""
        return [
            p
            for p in self.posted()
            if p.conversation_id == conversation_id and p.thread_root is None and not p.deleted
        ]

    def thread(self, root_id: str) -> list[PostedActivity]:
        """The bot's replies in the channel thread of message `root_id`."""
        return [p for p in self.posted() if p.thread_root == root_id and not p.deleted]

    def chat_with(self, user: TeamsUser) -> list[PostedActivity]:
        """What `user`'s 1:1 chat with the bot received."""
        conv_id = self._personal.get(user.id)
        return self.messages(conv_id) if conv_id else []

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-run as calls arrive); return it."""

        def describe() -> str:
            seen = [f"{c.method} {c.path} {c.status}" for c in self._calls[-10:]]
            return f"{getattr(predicate, '__qualname__', predicate)}; last calls: {seen}"

        return wait_for_change(self._cond, lambda: self._generation, predicate, timeout, describe)

    # -- faults ---------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: int = 1,
        path: str | None = None,
        conversation: str | None = None,
    ) -> None:
        """Answer the next `n` matching calls with `status` (429 carries Retry-After). `path` is
        a substring of the request path; `conversation` a conversation id (threads included)."""
        with self._cond:
            self._faults.append(_Fault(status, n, retry_after, path, conversation))

    def _take_fault(self, path: str, conversation: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.path is not None and fault.path not in path:
                continue
            if fault.conversation is not None and (
                conversation is None or conversation.split(";")[0] != fault.conversation
            ):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    # -- the Teams side: signing and posting activities to the bot -------------------------

    def sign(self, service_url: str | None = None, *, auth: Auth = "valid", **claims: Any) -> str:
        """A Bot Connector JWT for an activity whose serviceUrl is `service_url`.

        `auth` picks a bad case: "wrong_audience", "unknown_key" (a key not in the JWKS),
        "forged_signature" (another key, but the published key's kid), "expired" (beyond the
        5 min leeway), "wrong_service_url". Extra `claims` override.
        """
        now = int(time.time())
        payload: JSON = {
            "serviceurl": service_url or self.service_url,
            "nbf": now - 5,
            "exp": now + 3600,
            "iss": BOT_CONNECTOR_ISSUER,
            "aud": self.app_id,
        }
        if auth == "wrong_audience":
            payload["aud"] = str(uuid.uuid4())
        elif auth == "expired":
            payload["nbf"], payload["exp"] = now - 7200, now - 3600
        elif auth == "wrong_service_url":
            payload["serviceurl"] = "https://smba.trafficmanager.net/emea/"
        payload |= claims
        if auth == "unknown_key":
            return self.rogue_key.sign(payload)
        if auth == "forged_signature":
            return self.rogue_key.sign(payload, kid=self.signing_key.kid)
        return self.signing_key.sign(payload)

    def post_activity(
        self,
        bot_url: str,
        activity: JSON | bytes | str,
        *,
        auth: Auth = "valid",
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """POST `activity` to the bot's messaging endpoint as Teams does; returns (status, body)
        with the body parsed as JSON when it is JSON. Bytes / str are sent as they are."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if isinstance(activity, dict):
            raw = json.dumps(activity).encode()
            service_url = activity.get("serviceUrl")
        else:
            raw = activity.encode() if isinstance(activity, str) else activity
            service_url = None
        if auth != "none":
            url = service_url if isinstance(service_url, str) else None
            headers["Authorization"] = f"Bearer {self.sign(url, auth=auth)}"
        response = self._teams.post(bot_url, content=raw, headers=headers, timeout=timeout)
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text
        return response.status_code, body

    # -- the HTTP side ----------------------------------------------------------------------

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> _Reply:
        path = path.split("?", 1)[0]
        conversation: str | None = None
        record_body: JSON | list[Any] | None = None
        authorized = False
        match = _CONVERSATIONS.match(path)
        if match:
            rest = match.group("rest") or ""
            conversation = unquote(rest.split("/", 1)[0]) or None
        with self._cond:
            fault = self._take_fault(path, conversation)
        if fault is not None:
            reply = self._fault_reply(fault)
        elif method == "GET" and path == OPENID_PATH:
            reply = _Reply(200, self._bot_openid())
        elif method == "GET" and path == JWKS_PATH:
            reply = _Reply(200, {"keys": [self.signing_key.jwk(endorsements=["msteams"])]})
        elif method == "GET" and path == f"/{self.tenant_id}/v2.0/.well-known/openid-configuration":
            reply = _Reply(200, self._login_openid())
        elif method == "GET" and path == f"/{self.tenant_id}/discovery/v2.0/keys":
            reply = _Reply(200, {"keys": [self.login_key.jwk()]})
        elif method == "POST" and path == f"/{self.tenant_id}/oauth2/v2.0/token":
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            record_body = {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
            reply = self._token(form)
        elif match:
            authorized = self._authorized(headers.get("authorization"))
            parsed = _json(raw)
            record_body = parsed if isinstance(parsed, dict | list) else None
            if self.require_token and not authorized:
                reply = _Reply(401, {"message": "Authorization has been denied for this request."})
            else:
                reply = self._conversations_api(method, match.group("rest") or "", raw, parsed)
        else:
            reply = _error(404, "NotFound", f"no such endpoint: {method} {path}")
        with self._cond:
            self._calls.append(
                ConnectorCall(
                    method, path, reply.status, record_body, conversation, authorized, time.time()
                )
            )
            self._generation += 1
            self._cond.notify_all()
        return reply

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.status == 429:
            return _error(
                429, "Throttled", "Too many requests", **{"Retry-After": str(fault.retry_after)}
            )
        return _error(fault.status, "ServiceError", "injected failure")

    def _bot_openid(self) -> JSON:
        return {
            "issuer": BOT_CONNECTOR_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": f"{self.base_url}{JWKS_PATH}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def _login_openid(self) -> JSON:
        base = f"{self.login_url}/{self.tenant_id}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "tenant_region_scope": "EU",
        }

    def _token(self, form: dict[str, str]) -> _Reply:
        if form.get("grant_type") != "client_credentials":
            return _Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.app_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.password
        ):
            return _Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        if BOT_SCOPE not in form.get("scope", "").split():
            return _Reply(400, {"error": "invalid_scope"})
        now = int(time.time())
        token = self.login_key.sign(
            {
                "aud": "https://api.botframework.com",
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + self.token_lifetime,
                "appid": self.app_id,
                "tid": self.tenant_id,
                "idtyp": "app",
                "ver": "1.0",
            }
        )
        body = {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }
        return _Reply(200, body, {"Cache-Control": "no-store"})

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("bearer "):
            return False
        try:
            claims = self.login_key.verify(
                header[7:].strip(),
                audience="https://api.botframework.com",
                issuer=f"https://sts.windows.net/{self.tenant_id}/",
            )
        except Exception:  # any unreadable or foreign token is simply not authorized
            return False
        return claims.get("appid") == self.app_id

    # -- conversations API ------------------------------------------------------------------

    def _conversations_api(self, method: str, rest: str, raw: bytes, body: Any) -> _Reply:
        parts = [unquote(p) for p in rest.split("/")] if rest else []
        with self._cond:
            if method == "POST" and not parts:
                return self._create(raw, body)
            if not parts:
                return _error(405, "MethodNotAllowed", "unsupported")
            conv_id, _, root = parts[0].partition(";messageid=")
            conv = self._conversations.get(conv_id)
            if conv is None:
                return _error(404, "ConversationNotFound", "Conversation not found.")
            tail = parts[1:]
            too_big = len(raw) > self.max_message_bytes
            if tail[:1] == ["activities"] and method in ("POST", "PUT") and too_big:
                return _error(413, "MessageSizeTooBig", "Message size too big")
            if tail == ["activities"] and method == "POST":
                return self._send(conv, root or None, body)
            if len(tail) == 2 and tail[0] == "activities":
                if method == "POST":  # "reply to activity": the thread of tail[1] in a channel
                    thread = root or (tail[1] if conv.kind == "channel" else "")
                    return self._send(conv, thread or None, body)
                if method == "PUT":
                    return self._update(conv, tail[1], body)
                if method == "DELETE":
                    return self._delete(conv, tail[1])
            if method == "GET" and tail in (["members"], ["pagedmembers"]):
                members = [self._users[m].to_api() for m in conv.member_ids if m in self._users]
                if tail == ["pagedmembers"]:
                    return _Reply(200, {"members": members})
                return _Reply(200, members)
            if method == "GET" and len(tail) == 2 and tail[0] == "members":
                user = self._member(conv, tail[1])
                if user is None:
                    return _error(404, "MemberNotFoundInConversation", "The member was not found.")
                return _Reply(200, user.to_api())
            return _error(405, "MethodNotAllowed", f"unsupported: {method} {'/'.join(tail)}")

    def _member(self, conv: _Conversation, key: str) -> TeamsUser | None:
        for member_id in conv.member_ids:
            user = self._users.get(member_id)
            if user is not None and key in (user.id, user.aad_object_id):
                return user
        return None

    def _create(self, raw: bytes, body: Any) -> _Reply:
        if not isinstance(body, dict):
            return _error(400, "BadSyntax", "body must be a JSON object")
        if len(raw) > self.max_message_bytes:
            return _error(413, "MessageSizeTooBig", "Message size too big")
        channel_data = body.get("channelData") or {}
        tenant = (
            body.get("tenantId") or (channel_data.get("tenant") or {}).get("id") or self.tenant_id
        )
        if body.get("isGroup"):
            channel_id = (channel_data.get("channel") or {}).get("id")
            conv = self._conversations.get(str(channel_id))
            if conv is None or conv.kind != "channel":
                return _error(404, "ConversationNotFound", "Channel not found.")
            activity = body.get("activity")
            if not isinstance(activity, dict):
                return _error(400, "BadArgument", "a channel post needs an activity")
            activity_id = self._record(conv.id, None, activity)
            return _Reply(
                201,
                {
                    "id": f"{conv.id};messageid={activity_id}",
                    "activityId": activity_id,
                    "serviceUrl": self.service_url,
                },
            )
        members = body.get("members") or []
        if len(members) != 1 or not isinstance(members[0], dict):
            return _error(400, "BadArgument", "a 1:1 conversation needs exactly one member")
        user_id = str(members[0].get("id") or "")
        user = self._users.get(user_id) or next(
            (u for u in self._users.values() if u.aad_object_id == user_id), None
        )
        if user is None or user.id in self.not_installed:
            return _error(403, "Forbidden", "The bot is not installed for this user.")
        if tenant != user.tenant_id:
            return _error(403, "Forbidden", "The user is not in this tenant.")
        conv_id = self._personal_locked(user.id, user.tenant_id)
        out: JSON = {"id": conv_id, "serviceUrl": self.service_url}
        activity = body.get("activity")
        if isinstance(activity, dict):
            out["activityId"] = self._record(conv_id, None, activity)
        return _Reply(201, out)

    def _send(self, conv: _Conversation, root: str | None, body: Any) -> _Reply:
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _error(400, "BadSyntax", "body must be an activity")
        if conv.kind == "personal":
            root = None  # 1:1 chats have no threads
        elif root is not None:
            # Roots posted by people are unknown here: accept them; a bot post elsewhere is not.
            parent = self._posted.get(root)
            if parent is not None and parent.conversation_id != conv.id:
                return _error(400, "BadArgument", "Thread root is in another conversation")
        if body["type"] == "typing":
            return _Reply(200, {})
        return _Reply(201, {"id": self._record(conv.id, root, body)})

    def _update(self, conv: _Conversation, activity_id: str, body: Any) -> _Reply:
        posted = self._posted.get(activity_id)
        if posted is None or posted.conversation_id != conv.id or posted.deleted:
            return _error(404, "ActivityNotFound", "Activity not found.")
        if not isinstance(body, dict):
            return _error(400, "BadSyntax", "body must be an activity")
        posted.versions.append(posted.activity)
        posted.activity = {**body, "id": activity_id}
        return _Reply(200, {"id": activity_id})

    def _delete(self, conv: _Conversation, activity_id: str) -> _Reply:
        posted = self._posted.get(activity_id)
        if posted is None or posted.conversation_id != conv.id or posted.deleted:
            return _error(404, "ActivityNotFound", "Activity not found.")
        posted.deleted = True
        return _Reply(200, None)

    def _record(self, conv_id: str, root: str | None, activity: JSON) -> str:
        activity_id = str(next(self._ids))
        self._posted[activity_id] = PostedActivity(
            activity_id, conv_id, {**activity, "id": activity_id}, thread_root=root
        )
        self._order.append(activity_id)
        return activity_id


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1, a free port; TLS is set up per connection in its own thread."""

    daemon_threads = True

    def __init__(self, connector: BotConnector, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connector = connector
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        _Handler(tls, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    server_version = "BotConnectorStandIn/1.0"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        server = cast(_Server, self.server)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = server.connector._handle(self.command, self.path, headers, raw)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return
