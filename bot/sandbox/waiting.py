"""Waiting on a fake's condition variable until a predicate holds, with a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for_change(
    cond: threading.Condition,
    generation: Callable[[], int],
    predicate: Callable[[], T],
    timeout: float,
    describe: Callable[[], str],
) -> T:
    """Return `predicate()` once truthy, re-running it (unlocked) whenever `generation()` moves.

    `generation` is read under `cond`, which the fake notifies on every change. Raises
    AssertionError with `describe()` (called under `cond`) after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        with cond:
            seen = generation()
        result = predicate()
        if result:
            return result
        with cond:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {describe()}")
            if generation() == seen:  # else something changed while the predicate ran
                cond.wait(remaining)
