"""The outbox dispatcher: lanes (threads) that claim due rows and route each to its channel.

Claiming is in claims.py, pacing in pacing.py, what each channel does in the *_route.py modules
and the storm summaries in storm_summary.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from bot.email.sender import EmailSender
from bot.home.reader import HomeReader
from bot.home.refresh import KIND as HOME_KIND
from bot.messages.view import TeamsMention
from bot.outbox.claims import Claimed, Claims, Deferred, LaneQueries, Orphaned
from bot.outbox.errors import DeliveryError
from bot.outbox.listen import OutboxListener
from bot.outbox.pacing import PaceRule, Paces
from bot.outbox.policy import DispatchPolicy
from bot.outbox.recorded import Recorded
from bot.outbox.writer import Written
from bot.slack.gateway import SlackGateway
from bot.slack.home_route import HomeRoute
from bot.slack.route import SlackRoute
from bot.slack.storm_summary import UPDATES, StormSummaries
from bot.teams.chat import TeamsChat
from bot.teams.route import TeamsRoute
from bot.teams.webhook_route import WebhookRoute
from bot.teams.workflows import WorkflowsGateway
from bot.telemetry.logs import about_ticket
from bot.telemetry.metrics import Metrics
from storage.engine import make_session_factory

__all__ = ["DispatchPolicy", "Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    """Delivers outbox rows. One per process; safe to run in several processes on PostgreSQL."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        clock: Clock,
        slack: SlackGateway | None,
        email: EmailSender | None,
        tech_channel: str | None,
        metrics: Metrics | None = None,
        policy: DispatchPolicy | None = None,
        worker_id: str = "dispatcher",
        channels: tuple[str, ...] | None = None,
        teams: TeamsChat | None = None,
        teams_tech_channel: str | None = None,
        teams_mention: Callable[[], TeamsMention | None] | None = None,
        webhooks: WorkflowsGateway | None = None,
        home: HomeReader | None = None,
    ) -> None:
        bind = session_factory.kw["bind"]
        # Its own transactions are short: on SQLite they go before the requests' (and reads need
        # not wait for writers at all), so that delivery keeps up with a burst of requests.
        sessions = make_session_factory(bind, write_first=True)
        reads = make_session_factory(bind, read_only=True)
        self._clock = clock
        self._email = email
        self._metrics = metrics or Metrics()
        self._policy = policy or DispatchPolicy()
        skip_locked = bind.dialect.name == "postgresql"
        # One post of the technician channel's burst is kept for an alert storm's summary, so
        # that it shows at once even when the storm's first cards have just gone out.
        reserve = {tech_channel: 1.0} if tech_channel and self._policy.channel_burst > 1 else {}
        # Each outbox channel paces its own conversations (their targets never coincide).
        self._paces = Paces(
            sessions,
            {
                "slack": PaceRule(
                    self._policy.channel_rate, self._policy.channel_burst, reserved=reserve
                ),
                "teams": PaceRule(self._policy.teams_rate, self._policy.teams_burst),
                "webhook": PaceRule(self._policy.webhook_rate, self._policy.webhook_burst),
                # chat.update of storm summaries: Slack's Tier 3 (about 50 a minute, bursts).
                UPDATES: PaceRule(50 / 60, 20),
            },
            reads=reads,
        )
        self._claims = Claims(
            sessions=sessions,
            clock=clock,
            policy=self._policy,
            metrics=self._metrics,
            channels=channels,
            skip_locked=skip_locked,
        )
        self._reads = reads
        recorded = Recorded(sessions=sessions, reads=reads, clock=clock)
        self._slack = SlackRoute(
            slack=slack,
            tech_channel=tech_channel,
            paces=self._paces,
            recorded=recorded,
            reads=reads,
            clock=clock,
        )
        self._home = HomeRoute(slack=slack, reader=home, reads=reads)
        self._teams = TeamsRoute(
            teams=teams,
            tech_channel=teams_tech_channel,
            mention=teams_mention,
            paces=self._paces,
            recorded=recorded,
            reads=reads,
            clock=clock,
        )
        self._webhooks = WebhookRoute(
            webhooks=webhooks,
            teams=self._teams,
            paces=self._paces,
            reads=reads,
            clock=clock,
        )
        self._storms = StormSummaries(
            slack=self._slack,
            claims=self._claims,
            sessions=sessions,
            reads=reads,
            clock=clock,
            metrics=self._metrics,
            paces=self._paces,
            row_locks=skip_locked,
        )
        self._worker_id = worker_id
        # Which outbox channels this worker delivers (None: all); one worker per channel keeps a
        # slow mail server from delaying Slack, and the other way round.
        self._channels = channels
        self._stop = threading.Event()
        # Storm summaries have a lane (a thread) of their own: a pass through a busy channel's
        # posts must not hold up the one message that stands for a whole storm.
        lanes = [_Lane("rest", self._claims.queries(storms=False))]
        if channels is None or "slack" in channels:
            lanes.append(_Lane("storm", self._claims.queries(storms=True)))
        self._lanes = tuple(lanes)
        # Whether this worker delivers any channel whose conversations are paced.
        self._paced = channels is None or any(c in ("slack", "teams", "webhook") for c in channels)
        self._keeper: threading.Thread | None = None
        # On PostgreSQL, rows other processes commit wake this one at once.
        self._listener = (
            OutboxListener(bind, self._heard, name=f"{worker_id}-listen") if skip_locked else None
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
        if (kind == "storm") != lane.storms:
            return False
        return target is None or self._available(channel, target, now) >= 1.0

    def _available(self, channel: str, target: str, now: datetime) -> float:
        return self._paces.available(channel, target, now)

    def start(self) -> None:
        if any(lane.thread is not None for lane in self._lanes):
            return
        self._stop.clear()
        for lane in self._lanes:
            name = self._worker_id if lane.name == "rest" else f"{self._worker_id}-{lane.name}"
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
        if not lane.storms:
            free = self._paces.next_free_in(now)
            if free is not None:
                wait = min(wait, free)
        return max(wait, 0.001)

    # ---- one pass --------------------------------------------------------------------------
    def _pass(self, lane: _Lane) -> int:
        """Claim and deliver one batch of the lane's rows; returns how many were attempted."""
        now = self._clock.now()
        paced: list[str] = []
        if self._paced and not lane.storms:  # storm rows name no target
            self._paces.look(now)
            paced = self._paces.blocked(now)
        rows = self._claims.claim(lane.queries.claim, paced, self._available)
        for row in rows:
            with about_ticket(row.ticket_id):
                self._deliver_one(row)
        return len(rows)

    def _deliver_one(self, row: Claimed) -> None:
        row_id, channel, attempts = row.id, row.channel, row.attempts
        try:
            if row.kind == "storm":  # finishes its own row
                self._storms.deliver(row)
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
        if row.channel == "email":
            if self._email is None:
                return {"skipped": "email is off"}
            return {"message_id": self._email.send(row.payload)}
        if row.channel == "teams":
            return self._teams.deliver(row)
        if row.channel == "webhook":
            return self._webhooks.deliver(row)
        if row.kind == HOME_KIND:
            return self._home.deliver(row)
        return self._slack.deliver(row)


@dataclass
class _Lane:
    """One delivery thread of a dispatcher, with the rows it claims and its wake-up call."""

    name: str
    queries: LaneQueries
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def storms(self) -> bool:
        return self.name == "storm"
