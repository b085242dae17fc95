"""Local stand-in for Microsoft's Bot Connector and Entra login, over HTTPS on 127.0.0.1.

One port serves the OpenID metadata + JWKS the bot validates inbound JWTs with, an MSAL-compatible
token endpoint (`login`), and the conversations API (`conversations`); `BotConnector` is the façade
that routes the calls, records them, and signs and posts activities to the bot like Teams does.
Imports nothing of the bot's runtime.
"""

from __future__ import annotations

import itertools
import json
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

import httpx

from bot.sandbox.serving import Serving
from bot.sandbox.teams.activities import ActivityFactory, new_thread_id, new_user_id
from bot.sandbox.teams.conversations import PATH, Conversations, Limits
from bot.sandbox.teams.faults import Faults
from bot.sandbox.teams.keys import LocalCA, SigningKey
from bot.sandbox.teams.login import (
    JWKS_PATH,
    OPENID_PATH,
    Auth,
    Login,
    activity_claims,
    bot_openid,
    login_openid,
)
from bot.sandbox.teams.records import JSON, ConnectorCall, PostedActivity, TeamsChannel, TeamsUser
from bot.sandbox.teams.wire import HttpsServer, Reply, error, read_json
from bot.sandbox.waiting import wait_for_change

T = TypeVar("T")

MAX_MESSAGE_BYTES = 100 * 1024  # Teams answers 413 MessageSizeTooBig above about 100 KB
API_PREFIX = "/teams"  # like smba.trafficmanager.net/teams/: callers must keep the service path


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
        self._login = Login(app_id, tenant_id, self.login_key)
        self._https: Serving[HttpsServer] = Serving("teams-connector")
        self._cond = threading.Condition()  # guards everything below
        self._generation = 0
        self._ids = itertools.count(int(time.time() * 1000))
        self._calls: list[ConnectorCall] = []
        self._faults = Faults()
        self._convs = Conversations(tenant_id, self._ids)
        self._teams = httpx.Client(  # "Teams" posting to the bot: one pool, kept alive
            headers={"User-Agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework 3.0)"}
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> BotConnector:
        self._https.start(lambda: HttpsServer(self._handle, self._ca.server_context()))
        return self

    def stop(self) -> None:
        self._https.stop()

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
        if self._https.server is None:
            raise RuntimeError("BotConnector is not started")
        return int(self._https.server.server_address[1])

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
            self._convs.users[user.id] = user
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
            self._convs.add_channel(channel)
        return channel

    def set_team_members(self, channel: TeamsChannel, members: list[TeamsUser]) -> None:
        """People join or leave the channel's team (the roster changes; the conversationUpdate
        activity that tells the bot is sent separately, or not at all)."""
        with self._cond:
            self._convs.set_team_members(channel, tuple(u.id for u in members))

    def personal_conversation(self, user: TeamsUser) -> str:
        """The id of `user`'s 1:1 chat with the bot (created on first use, then always the same)."""
        with self._cond:
            return self._convs.personal_chat(user.id, user.tenant_id)

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
            return [self._convs.posted[i].snapshot() for i in self._convs.order]

    def activity(self, activity_id: str) -> PostedActivity:
        with self._cond:
            return self._convs.posted[activity_id].snapshot()

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
        with self._cond:
            conv_id = self._convs.personal.get(user.id)
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
            self._faults.add(n, status, retry_after, path, conversation)

    # -- the Teams side: signing and posting activities to the bot -------------------------

    def sign(self, service_url: str | None = None, *, auth: Auth = "valid", **claims: Any) -> str:
        """A Bot Connector JWT for an activity whose serviceUrl is `service_url`.

        `auth` picks a bad case: "wrong_audience", "unknown_key" (a key not in the JWKS),
        "forged_signature" (another key, but the published key's kid), "expired" (beyond the
        5 min leeway), "wrong_service_url". Extra `claims` override.
        """
        payload = activity_claims(self.app_id, service_url or self.service_url, auth) | claims
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

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        path = path.split("?", 1)[0]
        conversation: str | None = None
        record_body: JSON | list[Any] | None = None
        authorized = False
        match = PATH.match(path)
        if match:
            rest = match.group("rest") or ""
            conversation = unquote(rest.split("/", 1)[0]) or None
        with self._cond:
            fault = self._faults.take(path, conversation)
        if fault is not None:
            reply = fault
        elif method == "GET" and path == OPENID_PATH:
            reply = Reply(200, bot_openid(self.base_url))
        elif method == "GET" and path == JWKS_PATH:
            reply = Reply(200, {"keys": [self.signing_key.jwk(endorsements=["msteams"])]})
        elif method == "GET" and path == f"/{self.tenant_id}/v2.0/.well-known/openid-configuration":
            reply = Reply(200, login_openid(self.login_url, self.tenant_id))
        elif method == "GET" and path == f"/{self.tenant_id}/discovery/v2.0/keys":
            reply = Reply(200, {"keys": [self.login_key.jwk()]})
        elif method == "POST" and path == f"/{self.tenant_id}/oauth2/v2.0/token":
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            record_body = {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
            reply = self._login.token(form, password=self.password, lifetime=self.token_lifetime)
        elif match:
            authorized = self._login.authorized(headers.get("authorization"))
            parsed = read_json(raw)
            record_body = parsed if isinstance(parsed, dict | list) else None
            if self.require_token and not authorized:
                reply = Reply(401, {"message": "Authorization has been denied for this request."})
            else:
                limits = Limits(self.service_url, self.max_message_bytes, self.not_installed)
                with self._cond:
                    reply = self._convs.answer(
                        method, match.group("rest") or "", raw, parsed, limits
                    )
        else:
            reply = error(404, "NotFound", f"no such endpoint: {method} {path}")
        with self._cond:
            self._calls.append(
                ConnectorCall(
                    method, path, reply.status, record_body, conversation, authorized, time.time()
                )
            )
            self._generation += 1
            self._cond.notify_all()
        return reply
