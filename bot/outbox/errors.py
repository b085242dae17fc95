"""What delivering a row may raise: a DeliveryError, transient (retry later) or permanent (park
the row); Deferred (not now); Orphaned (the message it needs is parked)."""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import parsedate_to_datetime


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


class Deferred(Exception):
    """Not now (channel pacing, or a message it needs is on its way): put the row back without
    counting an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class Orphaned(Exception):
    """The message a row needs belongs to a parked row: park this one too, without an attempt."""


def retry_after_seconds(value: str | None, date: str | None = None) -> float | None:
    """A Retry-After header as seconds: a number, or an HTTP date (measured against the
    response's `date` header when given, else against this machine's clock)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        if date:
            return max(0.0, (when - parsedate_to_datetime(date)).total_seconds())
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):  # not a date, or one naive and one aware
        return None
