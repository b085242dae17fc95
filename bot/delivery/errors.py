"""The one error adapters raise: transient (retry later) or permanent (park the row)."""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
