"""Slack Web API adapter over slack-sdk's WebClient; SDK errors become DeliveryError."""

from __future__ import annotations

import logging
import urllib.error
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.outbox.errors import DeliveryError
from bot.people.identity import SlackUser

log = logging.getLogger(__name__)

T = TypeVar("T")

# The message metadata event type that names the outbox row a message was posted for.
OUTBOX_EVENT = "ticketbot_outbox"
# How many pages of a conversation a re-send looks through for its earlier post (200 each).
FIND_PAGES = 5

# Slack error codes worth retrying (the rest are permanent: bad blocks, missing channel, auth).
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackGateway:
    """The Slack calls ticketbot makes. Never retries or sleeps itself: the dispatcher does."""

    def __init__(self, client: WebClient, *, on_error: Callable[[str], None] | None = None) -> None:
        """`on_error` is told the kind of each failed call (Slack's error string, the HTTP
        status, or the transport error's class name), for /metrics."""
        self._client = client
        self._on_error = on_error

    @property
    def client(self) -> WebClient:
        return self._client

    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        outbox_id: int | None = None,
    ) -> tuple[str, str]:
        """chat.postMessage; returns (channel id, ts) as Slack reports them (DMs → D…).
        `outbox_id` goes into the message's metadata, for `find_posted`."""
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if outbox_id is not None:
            kwargs["metadata"] = {
                "event_type": OUTBOX_EVENT,
                "event_payload": {"outbox_id": outbox_id},
            }
        if blocks:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
            if reply_broadcast:
                kwargs["reply_broadcast"] = True
        resp = self._call(lambda: self._client.chat_postMessage(**kwargs))
        return str(resp["channel"]), str(resp["ts"])

    def find_posted(
        self, channel: str, outbox_id: int, *, thread_ts: str | None, since: float
    ) -> tuple[str, str] | None:
        """The (channel id, ts) of a message posted for outbox row `outbox_id` since `since`
        (seconds since the epoch) in `channel` (a user id: the bot's DM with them), or in the
        thread `thread_ts`; None when there is none."""
        if channel[:1] in ("U", "W"):
            opened = self._call(lambda: self._client.conversations_open(users=channel))
            channel = str(opened["channel"]["id"])
        cursor: str | None = None
        for _ in range(FIND_PAGES):
            resp = self._history_page(channel, thread_ts, f"{since:.6f}", cursor)
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == OUTBOX_EVENT and payload.get("outbox_id") == outbox_id:
                    return channel, str(message["ts"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        log.warning("outbox row %s: not found in %d pages of %s", outbox_id, FIND_PAGES, channel)
        return None

    def _history_page(
        self, channel: str, thread_ts: str | None, oldest: str, cursor: str | None
    ) -> Any:
        if thread_ts:
            return self._call(
                lambda: self._client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    cursor=cursor,
                    limit=200,
                    include_all_metadata=True,
                )
            )
        return self._call(
            lambda: self._client.conversations_history(
                channel=channel, oldest=oldest, cursor=cursor, limit=200, include_all_metadata=True
            )
        )

    def update(
        self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]] | None
    ) -> None:
        self._call(
            lambda: self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])
        )

    def delete(self, channel: str, ts: str) -> None:
        self._call(lambda: self._client.chat_delete(channel=channel, ts=ts))

    def ephemeral(
        self, channel: str, user: str, *, text: str, blocks: list[dict[str, Any]] | None
    ) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if blocks:
            kwargs["blocks"] = blocks
        self._call(lambda: self._client.chat_postEphemeral(**kwargs))

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._call(lambda: self._client.views_publish(user_id=user_id, view=view))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call(lambda: self._client.views_open(trigger_id=trigger_id, view=view))

    def user_info(self, user_id: str) -> SlackUser | None:
        try:
            resp = self._call(lambda: self._client.users_info(user=user_id))
        except DeliveryError as e:
            if not e.transient:
                return None
            raise
        return SlackUser.from_api({"id": user_id, **resp["user"]})

    def channel_members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            resp = self._members_page(channel_id, cursor)
            members.extend(resp.get("members") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    def _members_page(self, channel_id: str, cursor: str | None) -> Any:
        return self._call(
            lambda: self._client.conversations_members(channel=channel_id, cursor=cursor, limit=200)
        )

    def auth_test(self) -> dict[str, Any]:
        return dict(self._call(self._client.auth_test).data)  # type: ignore[arg-type]

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except SlackApiError as e:
            status = e.response.status_code
            error = str(e.response.get("error", "")) if isinstance(e.response.data, dict) else ""
            self._failed(error or str(status))
            if status == 429 or error == "ratelimited":
                retry = e.response.headers.get("Retry-After") or e.response.headers.get(
                    "retry-after"
                )
                raise DeliveryError(
                    "Slack rate limit (ratelimited)", transient=True, retry_after=_seconds(retry)
                ) from None
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise DeliveryError(
                    f"Slack error {status} {error}".strip(), transient=True
                ) from None
            raise DeliveryError(f"Slack error: {error or status}", transient=False) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            self._failed(type(e).__name__)
            raise DeliveryError(f"Slack unreachable: {type(e).__name__}", transient=True) from None
        except SlackRequestError as e:
            self._failed(type(e).__name__)
            raise DeliveryError(f"Slack request failed: {e}", transient=True) from None

    def _failed(self, kind: str) -> None:
        if self._on_error is not None:
            self._on_error(kind[:64])


def _seconds(value: object) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(str(value)))
    except (TypeError, ValueError):
        return None
