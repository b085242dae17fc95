"""How the outbox is delivered: batches, lease, retries and polling (each route paces its own
conversations)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.outbox.pacing import PaceRule


@dataclass(frozen=True)
class DispatchPolicy:
    batch: int = 20
    # How long a claimed row is this process's; extended while it holds it (see Claims.renew).
    lease: timedelta = timedelta(seconds=30)
    max_attempts: int = 12
    base_backoff: float = 1.0
    max_backoff: float = 300.0
    poll_interval: float = 1.0
    # Every commit wakes the dispatcher; under load one pass per `pass_gap` seconds serves them all
    # (each pass scans the outbox, so a pass per commit would cost more than the commits).
    pass_gap: float = 0.05
    # A route's pace replaced, by its name (its channel's, or "slack_update"): for tests and
    # benchmarks whose subject is not the pace.
    paces: Mapping[str, PaceRule] = field(default_factory=dict)
