"""Delivery to the bot: signed HTTP POSTs or Socket Mode envelopes, recorded with its answer."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Literal, Protocol
from urllib.parse import urlencode, urlsplit

from bot.sandbox.slack.blocks import block_errors
from bot.sandbox.slack.records import JSON, Delivery, DeliveryKind, Stats
from bot.sandbox.slack.socket_mode import SocketModeServer
from bot.sandbox.slack.wire import json_or_none, sign
from bot.sandbox.slack.workspace import Workspace

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class DeliverySettings(Protocol):
    """The `SlackEmulator` settings delivery reads each time it sends."""

    signing_secret: str
    bot_url: str | None
    delivery_mode: Literal["http", "socket"]
    delivery_timeout: float
    socket_ack_timeout: float
    keep_events: int
    stats: Stats


class Courier:
    """Sends payloads to the bot as `delivery_mode` says; keeps recent events for redelivery."""

    def __init__(self, ws: Workspace, socket: SocketModeServer, settings: DeliverySettings) -> None:
        self._ws = ws
        self._socket = socket
        self._settings = settings
        self._events: OrderedDict[str, JSON] = OrderedDict()

    def deliver(
        self,
        kind: DeliveryKind,
        payload: JSON,
        *,
        retry_num: int = 0,
        retry_reason: str = "",
    ) -> Delivery:
        """Send `payload` and wait for the bot's answer; call without the workspace lock."""
        settings = self._settings
        event_id = payload.get("event_id") if kind == "events_api" else None
        if event_id is not None:
            with self._ws.cond:
                self._events[event_id] = payload
                while len(self._events) > settings.keep_events:
                    self._events.popitem(last=False)
        started = time.monotonic()
        if settings.delivery_mode == "socket":
            delivery = self._deliver_socket(kind, payload, retry_num, retry_reason)
        else:
            body, content_type = _encode(kind, payload)
            extra = {}
            if retry_num:
                extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            delivery = self._post_to_bot(body, content_type, extra_headers=extra)
        delivery.kind = kind
        delivery.payload = payload
        delivery.event_id = event_id
        delivery.elapsed = time.monotonic() - started
        if kind == "slash_commands" and isinstance(delivery.json, dict):
            delivery.response_errors = _response_errors(delivery.json)
        self._record(delivery)
        return delivery

    def send_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        signature: str | None,
        timestamp: str | None,
        headers: Mapping[str, str] | None,
    ) -> Delivery:
        """POST exactly `body` over HTTP (see `SlackEmulator.send_raw`)."""
        delivery = self._post_to_bot(
            body, content_type, signature=signature, timestamp=timestamp, extra_headers=headers
        )
        self._record(delivery)
        return delivery

    def redeliver(self, event_id: str | None, retry_num: int, reason: str) -> Delivery:
        """Send a recent event again, byte for byte, marked as Slack retry `retry_num`."""
        with self._ws.cond:
            payload = self._events.get(event_id or "")
        if payload is None:
            raise AssertionError(f"no recent event with event_id {event_id!r} to redeliver")
        return self.deliver("events_api", payload, retry_num=retry_num, retry_reason=reason)

    def _record(self, delivery: Delivery) -> None:
        with self._ws.cond:
            self._settings.stats.deliveries += 1
            self._ws.deliveries.append(delivery)
            self._ws.changed()

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
        ack = self._socket.send(envelope, self._settings.socket_ack_timeout)
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
        bot_url = self._settings.bot_url
        if not bot_url:
            raise AssertionError("emu.bot_url is not set (the bot's POST /slack/events URL)")
        timestamp = timestamp if timestamp is not None else str(int(self._ws.wall()))
        if signature is None:
            signature = sign(self._settings.signing_secret, timestamp, body)
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        if timestamp:  # "" leaves the header out
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature:
            headers["X-Slack-Signature"] = signature
        headers.update(extra_headers or {})
        parts = urlsplit(bot_url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(
            parts.hostname or "127.0.0.1", parts.port, timeout=self._settings.delivery_timeout
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            # The bot may answer (e.g. 413) before reading the whole body: still read its answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Delivery(response.status, text, json_or_none(text), dict(response.getheaders()))
        except (OSError, http.client.HTTPException) as exc:
            return Delivery(0, f"delivery failed: {type(exc).__name__}: {exc}", None, {})
        finally:
            connection.close()


def _encode(kind: DeliveryKind, payload: JSON) -> tuple[bytes, str]:
    if kind == "events_api":
        return json.dumps(payload).encode(), "application/json"
    form = "application/x-www-form-urlencoded"
    if kind == "slash_commands":
        return urlencode(payload).encode(), form
    return urlencode({"payload": json.dumps(payload)}).encode(), form


def _response_errors(answer: JSON) -> list[str]:
    """Block Kit errors in a slash command's immediate answer (none when it has no blocks)."""
    if "blocks" not in answer:
        return []
    return block_errors(answer["blocks"])
