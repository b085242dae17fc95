"""Bot Connector REST adapter (synchronous, httpx): send, thread replies, update, delete, 1:1
conversations and the roster. HTTP and token failures become DeliveryError; nothing retries here.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from bot.outbox.errors import DeliveryError, retry_after_seconds
from bot.people.teams_member import TeamsMember
from bot.teams.auth import TokenError

log = logging.getLogger(__name__)

USER_AGENT = "ticketbot (Bot Connector client)"
THREAD_MARK = ";messageid="
# Standard and older channels have threads; group chats ("@thread.v2") and 1:1 chats ("a:…") don't.
_THREADED_SUFFIXES = ("@thread.tacv2", "@thread.skype")


def is_channel(conversation_id: str) -> bool:
    """Whether a conversation is a team channel (threads) rather than a 1:1 or group chat."""
    return conversation_id.split(THREAD_MARK, 1)[0].endswith(_THREADED_SUFFIXES)


class BotConnectorGateway:
    """The Bot Connector calls ticketbot makes, as the bot `app_id` of tenant `tenant_id`.

    `token()` returns the bot's access token (e.g. `MsalTokenProvider.token`); `service_url` is
    the default Bot Connector base (TEAMS_SERVICE_URL), overridable per call with the
    `serviceUrl` a conversation's activities carried. `verify` is httpx's (an SSLContext for a
    private CA; by default httpx's own, which honours SSL_CERT_FILE).
    """

    def __init__(
        self,
        token: Callable[[], str],
        service_url: str,
        app_id: str,
        tenant_id: str,
        *,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """`on_error` is told the kind of each failed call (the HTTP status, or the transport
        or token error), for /metrics."""
        self._on_error = on_error
        self._token = token
        self.service_url = service_url
        self.app_id = app_id
        self.tenant_id = tenant_id
        self._client = httpx.Client(
            timeout=timeout, verify=verify, headers={"User-Agent": USER_AGENT}
        )
        self._lock = threading.Lock()
        self._personal: dict[tuple[str, str, str], str] = {}  # (service, tenant, user) → conv

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> BotConnectorGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- messages ------------------------------------------------------------------------

    def send(
        self, conversation_id: str, activity: dict[str, Any], *, service_url: str | None = None
    ) -> str:
        """Post `activity` to a conversation (to a channel: a new thread, whose root is the
        returned id); returns the new activity id."""
        answer = self._call(
            "POST",
            f"{self._conversation(conversation_id, service_url)}/activities",
            json={"type": "message", **activity},
        )
        return str(answer.get("id") or "")

    def reply(
        self,
        conversation_id: str,
        root_id: str,
        activity: dict[str, Any],
        *,
        service_url: str | None = None,
    ) -> str:
        """Post `activity` in the thread of `root_id`: in a channel, to `{channel};messageid=
        {root}`; 1:1 and group chats have no threads, so there it is a plain message."""
        base = conversation_id.split(THREAD_MARK, 1)[0]
        target = f"{base}{THREAD_MARK}{root_id}" if is_channel(base) else base
        return self.send(target, {**activity, "replyToId": root_id}, service_url=service_url)

    def update(
        self,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
        *,
        service_url: str | None = None,
    ) -> None:
        """Replace the activity in place (everyone sees the new version)."""
        self._call(
            "PUT",
            f"{self._conversation(conversation_id, service_url)}/activities/{quote(activity_id)}",
            json={"type": "message", **activity, "id": activity_id},
        )

    def delete(
        self, conversation_id: str, activity_id: str, *, service_url: str | None = None
    ) -> None:
        """Delete the activity; one that is already gone (404) counts as deleted."""
        url = f"{self._conversation(conversation_id, service_url)}/activities/{quote(activity_id)}"
        try:
            self._call("DELETE", url)
        except _NotFoundError:
            log.info("Teams activity %s was already gone", activity_id)

    # -- conversations and roster --------------------------------------------------------

    def create_personal(
        self, user_id: str, *, tenant_id: str | None = None, service_url: str | None = None
    ) -> str:
        """The id of the bot's 1:1 conversation with `user_id` ("29:…" or an AAD object id),
        created if need be (Teams answers the same id every time); cached. Fails (permanent,
        403) when the app is not installed for that user."""
        tenant = tenant_id or self.tenant_id
        service = service_url or self.service_url
        key = (service, tenant, user_id)
        with self._lock:
            known = self._personal.get(key)
        if known is not None:
            return known
        answer = self._call(
            "POST",
            f"{_base(service)}/v3/conversations",
            json={
                "bot": {"id": f"28:{self.app_id}"},
                "members": [{"id": user_id}],
                "isGroup": False,
                "tenantId": tenant,
                "channelData": {"tenant": {"id": tenant}},
            },
        )
        conversation_id = str(answer.get("id") or "")
        if not conversation_id:
            raise DeliveryError("Bot Connector created no 1:1 conversation", transient=True)
        with self._lock:
            self._personal[key] = conversation_id
        return conversation_id

    def member(
        self, conversation_id: str, user_id: str, *, service_url: str | None = None
    ) -> TeamsMember | None:
        """One member of a conversation (by "29:…" id or AAD object id); None if not in it."""
        base = conversation_id.split(THREAD_MARK, 1)[0]
        url = f"{self._conversation(base, service_url)}/members/{quote(user_id, safe=':')}"
        try:
            return TeamsMember.from_api(self._call("GET", url))
        except _NotFoundError:
            return None

    def members(self, conversation_id: str, *, service_url: str | None = None) -> list[TeamsMember]:
        """Everyone in a conversation (for a channel: its team), page by page."""
        base = conversation_id.split(THREAD_MARK, 1)[0]
        url = f"{self._conversation(base, service_url)}/pagedmembers"
        found: list[TeamsMember] = []
        continuation: str | None = None
        while True:
            params = {"pageSize": "500"}
            if continuation:
                params["continuationToken"] = continuation
            page = self._call("GET", url, params=params)
            found.extend(TeamsMember.from_api(m) for m in page.get("members") or [])
            continuation = page.get("continuationToken") or None
            if not continuation:
                return found

    # -- plumbing ------------------------------------------------------------------------

    def _conversation(self, conversation_id: str, service_url: str | None) -> str:
        return (
            f"{_base(service_url or self.service_url)}/v3/conversations/"
            f"{quote(conversation_id, safe=':@;=')}"
        )

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            token = self._token()
        except TokenError as e:
            self._failed("token")
            raise DeliveryError(e.message, transient=e.transient) from None
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = self._client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as e:
            self._failed(type(e).__name__)
            raise DeliveryError(
                f"Bot Connector unreachable: {type(e).__name__}", transient=True
            ) from None
        status = response.status_code
        if status < 300:
            try:
                body = response.json() if response.content else {}
            except ValueError:
                body = {}
            return body if isinstance(body, dict) else {"items": body}
        what = f"Bot Connector {method} {status} {_error_code(response)}".rstrip()
        self._failed(str(status))
        if status == 429:
            raise DeliveryError(
                f"{what} (throttled)",
                transient=True,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500 or status == 412:
            # Microsoft's rate-limit guide: retry 412 (precondition failed) as well as 429/5xx.
            raise DeliveryError(what, transient=True)
        if status == 413:
            raise DeliveryError(f"{what}: message too large for Teams", transient=False)
        if status == 404:
            raise _NotFoundError(f"{what}: conversation, activity or member not found")
        if status in (401, 403):
            raise DeliveryError(
                f"{what}: the bot is not allowed (credentials, app not installed there, "
                "or not a member of the conversation)",
                transient=False,
            )
        raise DeliveryError(f"{what}: request refused", transient=False)

    def _failed(self, kind: str) -> None:
        if self._on_error is not None:
            self._on_error(kind)


class _NotFoundError(DeliveryError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def _base(service_url: str) -> str:
    return service_url.rstrip("/")


def _error_code(response: httpx.Response) -> str:
    """The Bot Connector's error code (e.g. "MessageSizeTooBig"), at most 80 characters."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:80] if code else ""
