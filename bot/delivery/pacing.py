"""Per-conversation pace: a token bucket per target, plus pauses ordered by Retry-After."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from bot.delivery.claims import Deferred
from bot.delivery.errors import DeliveryError

_T = TypeVar("_T")


class ChannelPacer:
    """A token bucket per conversation, plus pauses ordered by Retry-After.

    `reserved` keeps tokens of a channel for urgent posts: ordinary posts leave them alone.
    """

    def __init__(
        self, rate: float, burst: int, reserved: Mapping[str, float] | None = None
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._reserved = dict(reserved or {})
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._paused: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def available(self, channel: str, now: datetime, *, urgent: bool = False) -> float:
        """Posts the channel may take now (0 while paused by a Retry-After)."""
        with self._lock:
            return self._available(channel, now, urgent)

    def _available(self, channel: str, now: datetime, urgent: bool) -> float:
        until = self._paused.get(channel)
        if until is not None and until > now:
            return 0.0
        tokens, at = self._buckets.get(channel, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at).total_seconds() * self._rate)
        return max(0.0, tokens - (0.0 if urgent else self._reserved.get(channel, 0.0)))

    def next_token_in(self, now: datetime) -> float | None:
        """Seconds until some channel that is out of budget may post again."""
        waits = []
        with self._lock:
            for until in self._paused.values():
                if until > now:
                    waits.append((until - now).total_seconds())
            for channel, (tokens, at) in self._buckets.items():
                current = tokens + (now - at).total_seconds() * self._rate
                needed = 1.0 + self._reserved.get(channel, 0.0)
                if current < needed:
                    waits.append((needed - current) / self._rate)
        return min(waits) if waits else None

    def blocked(self, now: datetime) -> list[str]:
        """Channels with no ordinary post left in their budget right now."""
        with self._lock:
            channels = set(self._buckets) | set(self._paused)
            return sorted(c for c in channels if self._available(c, now, False) < 1.0)

    def take(self, channel: str, now: datetime, *, urgent: bool = False) -> datetime | None:
        """None when a post may go now; else the time to try again."""
        with self._lock:
            until = self._paused.get(channel)
            if until is not None and until > now:
                return until
            tokens, at = self._buckets.get(channel, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at).total_seconds() * self._rate)
            needed = 1.0 + (0.0 if urgent else self._reserved.get(channel, 0.0))
            if tokens < needed:
                self._buckets[channel] = (tokens, now)
                return now + timedelta(seconds=(needed - tokens) / self._rate)
            self._buckets[channel] = (tokens - 1.0, now)
            return None

    def pause(self, channel: str, until: datetime) -> None:
        with self._lock:
            self._paused[channel] = max(until, self._paused.get(channel, until))


def paced(
    pacer: ChannelPacer,
    target: str | None,
    now: Callable[[], datetime],
    send: Callable[[], _T],
    *,
    urgent: bool = False,
) -> _T:
    """`send` within the target's pace (Deferred when out of it); a 429 pauses the target for
    its Retry-After. An `urgent` send may use the target's reserved tokens."""
    if target is not None:
        retry_at = pacer.take(target, now(), urgent=urgent)
        if retry_at is not None:
            raise Deferred(retry_at)
    try:
        return send()
    except DeliveryError as e:
        if e.retry_after is not None and target is not None:
            pacer.pause(target, now() + timedelta(seconds=e.retry_after))
        raise
