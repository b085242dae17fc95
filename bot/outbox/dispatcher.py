"""The outbox dispatcher: lanes (threads) that claim due rows and hand each to its channel's route.

Claiming is in claims.py, pacing in pacing.py, what a route is in route.py; each surface builds
its own routes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.outbox.claims import Claimed, Claims, LaneQueries
from bot.outbox.errors import Deferred, DeliveryError, Orphaned
from bot.outbox.listen import OutboxListener
from bot.outbox.policy import DispatchPolicy
from bot.outbox.route import Lane, Route
from bot.outbox.shared import Outbox
from bot.outbox.writer import Written
from bot.telemetry.logs import about_ticket
from bot.telemetry.metrics import Metrics

__all__ = ["DispatchPolicy", "Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    """Delivers outbox rows through `routes`. Safe to run in several processes on PostgreSQL."""

    def __init__(
        self,
        outbox: Outbox,
        routes: Mapping[str, Route],
        *,
        policy: DispatchPolicy | None = None,
        worker_id: str = "dispatcher",
        channels: tuple[str, ...] | None = None,
    ) -> None:
        self._clock = outbox.clock
        self._metrics = outbox.metrics
        self._policy = policy or DispatchPolicy()
        self._routes = dict(routes)
        # Which outbox channels this worker delivers (None: all); one worker per channel keeps a
        # slow mail server from delaying Slack, and the other way round.
        self._channels = channels
        mine = [r for c, r in self._routes.items() if channels is None or c in channels]
        # The paces of the conversations this worker sends to (those its routes take from).
        self._paces = outbox.paces
        self._pace_names = frozenset(name for route in mine for name in route.paces)
        for route in mine:
            self._paces.add({n: self._policy.paces.get(n, rule) for n, rule in route.paces.items()})
        self._claims = Claims(
            sessions=outbox.sessions,
            clock=self._clock,
            policy=self._policy,
            metrics=self._metrics,
            channels=channels,
            skip_locked=outbox.postgres,
        )
        self._reads = outbox.reads
        self._worker_id = worker_id
        self._stop = threading.Event()
        # Some kinds have a lane (a thread) of their own (an alert storm's summary, for one): a
        # pass through a busy channel's posts must not hold up the one message that stands for
        # a whole storm.
        own = {kind: lane for route in mine for kind, lane in route.lanes.items()}
        self._own_lanes = frozenset(own)
        lanes = [_Lane(None, self._claims.queries(kind=None, others=self._own_lanes))]
        lanes += [_Lane(k, self._claims.queries(kind=k), route=r) for k, r in own.items()]
        self._lanes = tuple(lanes)
        # Whether this worker delivers any channel whose conversations are paced.
        self._paced = bool(self._pace_names)
        self._keeper: threading.Thread | None = None
        # On PostgreSQL, rows other processes commit wake this one at once.
        self._listener = (
            OutboxListener(outbox.bind, self._heard, name=f"{worker_id}-listen")
            if outbox.postgres
            else None
        )

    # ---- lifecycle -------------------------------------------------------------------------
    def wake(self, written: Written | None = None) -> None:
        """Start a pass soon; with the (channel, kind, target) of rows just committed, only in a
        lane that has one of them to send now (a channel out of its pace has a timer for it)."""
        now = self._clock.now()
        for lane in self._lanes:
            if written is None or any(self._sendable(lane, row, now) for row in written):
                lane.wake.set()

    def _heard(self, rows: Written, channels: set[str]) -> None:
        """Another process (or this one) committed these rows, or rows of these channels."""
        if rows:
            self.wake(rows)
        if channels and (self._channels is None or channels & set(self._channels)):
            self.wake()

    @property
    def listener(self) -> OutboxListener | None:
        return self._listener

    def _sendable(self, lane: _Lane, row: tuple[str, str, str | None], now: datetime) -> bool:
        channel, kind, target = row
        if self._channels is not None and channel not in self._channels:
            return False
        if not self._in_lane(lane, kind):
            return False
        return target is None or self._available(channel, target, now) >= 1.0

    def _in_lane(self, lane: _Lane, kind: str) -> bool:
        """Whether rows of `kind` are claimed by `lane`."""
        return kind == lane.kind if lane.kind is not None else kind not in self._own_lanes

    def _available(self, channel: str, target: str, now: datetime) -> float:
        return self._paces.available(channel, target, now)

    def start(self) -> None:
        if any(lane.thread is not None for lane in self._lanes):
            return
        self._stop.clear()
        for lane in self._lanes:
            name = self._worker_id if lane.kind is None else f"{self._worker_id}-{lane.kind}"
            lane.thread = threading.Thread(target=self._loop, args=(lane,), name=name, daemon=True)
            lane.thread.start()
        self._keeper = threading.Thread(
            target=self._keep_leases, name=f"{self._worker_id}-lease", daemon=True
        )
        self._keeper.start()
        if self._listener is not None:
            self._listener.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for lane in self._lanes:
            lane.wake.set()
        for lane in self._lanes:
            if lane.thread is not None:
                lane.thread.join(timeout)
                lane.thread = None
        if self._keeper is not None:
            self._keeper.join(timeout)
            self._keeper = None
        if self._listener is not None:
            self._listener.stop(timeout)

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    def release_orphaned_claims(self) -> int:
        return self._claims.release_orphaned()

    def _keep_leases(self) -> None:
        """Extend the leases of the rows this dispatcher holds, three times per lease: only a
        process that stopped running lets its rows' leases run out."""
        every = self._policy.lease.total_seconds() / 3
        while not self._stop.wait(every):
            try:
                self._claims.renew()
            except Exception:  # a database blip: the next round tries again, within the lease
                log.exception("extending outbox leases failed")

    def _loop(self, lane: _Lane) -> None:
        last_pass = float("-inf")
        while not self._stop.is_set():
            rest = self._policy.pass_gap - (time.monotonic() - last_pass)
            if rest > 0 and self._stop.wait(rest):
                return
            last_pass = time.monotonic()
            # Cleared before the pass: a commit made during it wakes the next one.
            lane.wake.clear()
            try:
                handled = self._pass(lane)
                idle = 0.0 if handled else self._idle_seconds(lane)
            except Exception:  # the loop must survive a database blip; rows stay pending
                log.exception("outbox dispatcher pass failed")
                idle = self._policy.poll_interval
            if idle > 0:
                lane.wake.wait(idle)

    def _idle_seconds(self, lane: _Lane) -> float:
        """How long to sleep: until the lane's next deferred row is due, at most one poll
        interval."""
        now = self._clock.now()
        with self._reads() as s:
            due = s.scalar(lane.queries.next_due, {"now": now})
        wait = self._policy.poll_interval
        if due is not None:
            wait = min(wait, (due - now).total_seconds())
        if lane.kind is None:
            free = self._paces.next_free_in(now, self._pace_names)
            if free is not None:
                wait = min(wait, free)
        return max(wait, 0.001)

    # ---- one pass --------------------------------------------------------------------------
    def _pass(self, lane: _Lane) -> int:
        """Claim and deliver one batch of the lane's rows; returns how many were attempted."""
        now = self._clock.now()
        paced: list[str] = []
        if self._paced and lane.kind is None:  # the rows of a lane of their own name no target
            self._paces.look(now)
            paced = self._paces.blocked(now, self._pace_names)
        rows = self._claims.claim(lane.queries.claim, paced, self._available)
        for row in rows:
            with about_ticket(row.ticket_id):
                self._deliver_one(lane, row)
        return len(rows)

    def _deliver_one(self, lane: _Lane, row: Claimed) -> None:
        row_id, channel, attempts = row.id, row.channel, row.attempts
        try:
            if lane.route is not None:  # finishes its own row
                lane.route.deliver(row, self._claims)
                return
            result = self._route(row)
        except Deferred as d:
            self._claims.finish(row_id, status="pending", next_at=d.until, count_attempt=False)
            return
        except Orphaned as o:
            log.error("outbox row %s parked: %s", row_id, o)
            self._claims.finish(row_id, status="parked", error=str(o), count_attempt=False)
            self._metrics.outbox_parked.labels(channel=channel).inc()
            return
        except DeliveryError as e:
            self._claims.failed(row_id, channel, attempts + 1, e)
            return
        except Exception as e:  # a bug in one row must not stop the others; it is parked loudly
            log.exception("outbox row %s crashed during delivery", row_id)
            self._claims.failed(
                row_id, channel, attempts + 1, DeliveryError(repr(e), transient=False)
            )
            return
        self._claims.finish(row_id, status="done", result=result, count_attempt=True)
        self._metrics.outbox_delivered.labels(channel=channel).inc()

    def _route(self, row: Claimed) -> dict[str, Any]:
        route = self._routes.get(row.channel)
        if route is None:
            raise DeliveryError(f"no route for outbox channel {row.channel!r}", transient=False)
        return route.deliver(row)


@dataclass
class _Lane:
    """One delivery thread of a dispatcher, with the rows it claims and its wake-up call: the
    rows of `kind`, delivered by `route`, or (None) every other row, each by its channel's."""

    kind: str | None
    queries: LaneQueries
    route: Lane | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
