"""How the outbox is delivered: batches, lease, retries and each channel's pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


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
    # chat.postMessage per second per channel: Slack allows about 1; a little under it, because
    # network jitter can land two posts a second apart here less than a second apart there.
    channel_rate: float = 0.9
    channel_burst: int = 3
    # Teams allows a bot 7 messages a second per conversation but 60 in 30 seconds: 2 a second
    # sustained; a little under it.
    teams_rate: float = 1.8
    teams_burst: int = 4
    # Power Automate throttles a flow's trigger above a few requests a second.
    webhook_rate: float = 1.0
    webhook_burst: int = 2
