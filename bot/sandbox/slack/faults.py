"""Failures the emulated Web API serves on purpose (`Faults`), and Slack's per-channel pacing."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.clock import Clock


@dataclass
class Fault:
    method: str
    kind: str
    remaining: int
    retry_after: int
    channel: str | None
    # A fault that lasts for a span of `clock` time instead of a number of calls.
    until: datetime | None = None
    clock: Clock | None = None

    def expired(self) -> bool:
        if self.until is None or self.clock is None:
            return False
        return self.clock.now() >= self.until


class Faults:
    """Failures the Web API serves instead of the real answer.

    Kinds: "ratelimited" (HTTP 429 + Retry-After), "server_error" (HTTP 500, JSON body),
    "unavailable" (HTTP 503, HTML body), "connection_reset" (socket closed, no response),
    or any Slack error string (HTTP 200 `{"ok": false, "error": kind}`).
    """

    _NEVER_RANDOM = ("auth.test", "apps.connections.open")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
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
            self._queue.append(Fault(method, kind, times, retry_after, channel))

    def fail_channel(
        self,
        channel: str,
        span: timedelta,
        *,
        clock: Clock,
        method: str = "chat.postMessage",
        kind: str = "server_error",
    ) -> None:
        """Fail every call of `method` to `channel` (as the caller names it: a user id for a DM)
        until `span` of `clock` time has passed."""
        with self._lock:
            fault = Fault(method, kind, 0, 1, channel, until=clock.now() + span, clock=clock)
            self._queue.append(fault)

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
        """Calls still to fail by the faults added for a number of calls."""
        with self._lock:
            return sum(f.remaining for f in self._queue)

    def take(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        """The fault to serve for this call of `method`, if any (a queued one is used up)."""
        with self._lock:
            for fault in list(self._queue):
                if fault.expired():
                    self._queue.remove(fault)
                    continue
                if fault.method not in ("*", method):
                    continue
                if fault.channel is not None and params.get("channel") != fault.channel:
                    continue
                if fault.until is not None:
                    return fault
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
            return Fault(method, kind, 0, self._retry_after, None)


class Pacer:
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
