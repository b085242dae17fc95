"""Failures the Bot Connector stand-in is told to answer with: the next n matching calls get a
status (429 with Retry-After, or an error) instead of their answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.teams.wire import Reply, error


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int
    path: str | None
    conversation: str | None


class Faults:
    """The injected failures, in order; the caller holds the connector's lock."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []

    def add(
        self, n: int, status: int, retry_after: int, path: str | None, conversation: str | None
    ) -> None:
        self._faults.append(_Fault(status, n, retry_after, path, conversation))

    def take(self, path: str, conversation: str | None) -> Reply | None:
        """The reply of the first failure that matches this call (used up after n), if any."""
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
            return _reply(fault)
        return None


def _reply(fault: _Fault) -> Reply:
    if fault.status == 429:
        return error(
            429, "Throttled", "Too many requests", **{"Retry-After": str(fault.retry_after)}
        )
    return error(fault.status, "ServiceError", "injected failure")
