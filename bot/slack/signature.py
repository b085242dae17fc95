"""Slack's request signature (v0), checked on the raw body bytes before anything parses them."""

from __future__ import annotations

import hashlib
import hmac

from bot.domain.clock import Clock, SystemClock

MAX_AGE_SECONDS = 5 * 60  # Slack's replay window: older (or newer) timestamps are refused


class SignatureCheck:
    """`problem(...)` says why a request is not signed with the signing secret, or None if it is.

    One HMAC-SHA256 over `v0:{timestamp}:{body}`, the body as received (any bytes, UTF-8 or not).
    The clock must tell real time (Slack signs with it), not a test's moved clock.
    """

    def __init__(self, signing_secret: str, *, clock: Clock | None = None) -> None:
        if not signing_secret.strip():
            raise ValueError("the Slack signing secret must not be empty")
        self._key = signing_secret.encode("utf-8")
        self._clock = clock or SystemClock()

    def problem(self, timestamp: str | None, signature: str | None, body: bytes) -> str | None:
        if not timestamp or not signature:
            return "the request is not signed (X-Slack-Signature and X-Slack-Request-Timestamp)"
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
            return "X-Slack-Request-Timestamp is not a Unix time in seconds"
        if abs(self._clock.now().timestamp() - int(timestamp)) > MAX_AGE_SECONDS:
            return "the request is stale: its timestamp is more than 5 minutes from now"
        mac = hmac.new(self._key, b"v0:" + timestamp.encode("ascii") + b":", hashlib.sha256)
        mac.update(body)
        expected = b"v0=" + mac.hexdigest().encode("ascii")
        if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass")):
            return "X-Slack-Signature does not match the request"
        return None
