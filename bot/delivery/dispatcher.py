"""The outbox dispatcher: claims due rows, delivers them in stream order, retries, parks failures.

A stream is a conversation (a ticket's card and its thread, its client thread, a person's DMs, a
recipient's mail): only its oldest undelivered row is eligible, so a reply never overtakes its
parent and a row retrying in one stream delays no other; one needing another's message waits.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from bot.clock import Clock
from bot.delivery import storm
from bot.delivery.email import EmailSender
from bot.delivery.errors import DeliveryError
from bot.delivery.slack import SlackGateway
from bot.delivery.teams_chat import TeamsChat
from bot.delivery.workflows import WorkflowsGateway
from bot.metrics import Metrics
from bot.render import adaptive, alerts, card
from bot.render.teams_blocks import from_slack
from bot.render.view import SlackMessage, TeamsMention, TeamsMessage
from bot.service.conversations import split_thread
from bot.service.outbox import Written
from bot.views import ticket_view
from storage.engine import make_session_factory
from storage.models import (
    AlertStorm,
    ChatMessage,
    Client,
    OutboxRow,
    Person,
    Ticket,
    outbox_table,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Channel errors where a client-thread root may instead go to the submitter's DM.
NOT_POSTABLE = ("channel_not_found", "not_in_channel", "is_archived", "restricted_action")
# chat.postEphemeral errors after which the user is told in a DM instead.
EPHEMERAL_FALLBACK = ("user_not_in_channel", "channel_not_found", "not_in_channel", "is_archived")


# How long after a message's row is due (or now) a row needing that message looks again.
RECORDER_POLL = timedelta(seconds=0.5)

# The shortest gap between two renders of a storm summary while tickets keep joining it.
STORM_REFRESH = timedelta(seconds=0.3)


@dataclass(frozen=True)
class DispatchPolicy:
    batch: int = 20
    lease: timedelta = timedelta(minutes=2)
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


class _ChannelPacer:
    """A token bucket per Slack channel, plus pauses ordered by Retry-After.

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
    ) -> None:
        bind = session_factory.kw["bind"]
        # Its own transactions are short: on SQLite they go before the requests' (and reads need
        # not wait for writers at all), so that delivery keeps up with a burst of requests.
        self._sessions = make_session_factory(bind, write_first=True)
        self._reads = make_session_factory(bind, read_only=True)
        self._clock = clock
        self._slack = slack
        self._email = email
        self._tech_channel = tech_channel
        self._teams = teams
        self._teams_tech_channel = teams_tech_channel
        self._teams_mention = teams_mention
        self._webhooks = webhooks
        self._metrics = metrics or Metrics()
        self._policy = policy or DispatchPolicy()
        # One post of the technician channel's burst is kept for an alert storm's summary, so
        # that it shows at once even when the storm's first cards have just gone out.
        reserve = {tech_channel: 1.0} if tech_channel and self._policy.channel_burst > 1 else {}
        self._pacer = _ChannelPacer(
            self._policy.channel_rate, self._policy.channel_burst, reserved=reserve
        )
        # Each outbox channel paces its own conversations (their targets never coincide).
        self._pacers = {
            "slack": self._pacer,
            "teams": _ChannelPacer(self._policy.teams_rate, self._policy.teams_burst),
            "webhook": _ChannelPacer(self._policy.webhook_rate, self._policy.webhook_burst),
        }
        self._storm_updated: dict[int, datetime] = {}  # storm id → its summary's last chat.update
        # chat.update of storm summaries: Slack's Tier 3 (about 50 a minute, bursts allowed).
        self._update_pacer = _ChannelPacer(50 / 60, 20)
        self._worker_id = worker_id
        # Which outbox channels this worker delivers (None: all); one worker per channel keeps a
        # slow mail server from delaying Slack, and the other way round.
        self._channels = channels
        self._jitter = random.Random()  # its own: the global generator belongs to the caller
        self._stop = threading.Event()
        self._skip_locked = bind.dialect.name == "postgresql"
        # Storm summaries have a lane (a thread) of their own: a pass through a busy channel's
        # posts must not hold up the one message that stands for a whole storm.
        lanes = [_Lane("rest", *self._build_queries(storms=False))]
        if channels is None or "slack" in channels:
            lanes.append(_Lane("storm", *self._build_queries(storms=True)))
        self._lanes = tuple(lanes)

    # ---- lifecycle -------------------------------------------------------------------------
    def wake(self, written: Written | None = None) -> None:
        """Start a pass soon; with the (channel, kind, target) of rows just committed, only in a
        lane that has one of them to send now (a channel out of its pace has a timer for it)."""
        now = self._clock.now()
        for lane in self._lanes:
            if written is None or any(self._sendable(lane, row, now) for row in written):
                lane.wake.set()

    def _sendable(self, lane: _Lane, row: tuple[str, str, str | None], now: datetime) -> bool:
        channel, kind, target = row
        if self._channels is not None and channel not in self._channels:
            return False
        if (kind == "storm") != lane.storms:
            return False
        return target is None or self._pacer_of(channel).available(target, now) >= 1.0

    def _pacer_of(self, channel: str) -> _ChannelPacer:
        return self._pacers.get(channel, self._pacer)

    def start(self) -> None:
        if any(lane.thread is not None for lane in self._lanes):
            return
        self._stop.clear()
        for lane in self._lanes:
            name = self._worker_id if lane.name == "rest" else f"{self._worker_id}-{lane.name}"
            lane.thread = threading.Thread(target=self._loop, args=(lane,), name=name, daemon=True)
            lane.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for lane in self._lanes:
            lane.wake.set()
        for lane in self._lanes:
            if lane.thread is not None:
                lane.thread.join(timeout)
                lane.thread = None

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
            due = s.scalar(lane.next_due, {"now": now})
        wait = self._policy.poll_interval
        if due is not None:
            wait = min(wait, (due - now).total_seconds())
        if not lane.storms:
            tokens = [p.next_token_in(now) for p in self._pacers.values()]
            waits = [t for t in tokens if t is not None]
            if waits:
                wait = min(wait, *waits)
        return max(wait, 0.001)

    def release_orphaned_claims(self) -> int:
        """On SQLite only this process delivers, so rows left `sending` by a crash are ours to
        retry at once (on PostgreSQL another replica may hold them: their lease decides)."""
        if self._skip_locked:
            return 0
        with self._sessions.begin() as s:
            orphans = list(
                s.scalars(self._mine(select(OutboxRow.id).where(OutboxRow.status == "sending")))
            )
            if orphans:
                s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.id.in_(orphans))
                    .values(status="pending", locked_until=None)
                )
        if orphans:
            log.info("released %d outbox row(s) claimed before a restart", len(orphans))
        return len(orphans)

    # ---- one pass --------------------------------------------------------------------------
    def _pass(self, lane: _Lane) -> int:
        """Claim and deliver one batch of the lane's rows; returns how many were attempted."""
        rows = self._claim(lane)
        for row in rows:
            self._deliver_one(row)
        return len(rows)

    def _mine(self, query: Select[_T]) -> Select[_T]:
        """`query` narrowed to the outbox channels this worker delivers."""
        if self._channels is None:
            return query
        return query.where(OutboxRow.channel.in_(self._channels))

    def _claim(self, lane: _Lane) -> list[_Claimed]:
        """Mark due rows `sending` under a lease, at most what each channel's pace allows now;
        the rest stay pending, untouched, for a later pass."""
        now = self._clock.now()
        query = lane.claim
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        paced = sorted({c for p in self._pacers.values() for c in p.blocked(now)})
        params = {"now": now, "paced": paced}
        with self._sessions.begin() as s:
            budget: dict[str, float] = {}
            claimed: list[_Claimed] = []
            for r in s.execute(query, params):
                if r.target is not None:
                    pacer = self._pacer_of(r.channel)
                    left = budget.setdefault(r.target, pacer.available(r.target, now))
                    if left < 1.0:
                        continue
                    budget[r.target] = left - 1.0
                claimed.append(
                    _Claimed(
                        r.id,
                        r.stream,
                        r.ticket_id,
                        r.channel,
                        r.kind,
                        r.payload,
                        r.attempts,
                        r.target,
                    )
                )
            if claimed:
                s.execute(
                    update(outbox_table)
                    .where(outbox_table.c.id.in_([row.id for row in claimed]))
                    .values(status="sending", locked_until=now + self._policy.lease)
                )
        return claimed

    def _build_queries(self, *, storms: bool) -> tuple[Select[Any], Select[Any]]:
        """A lane's claim (due rows, each the oldest undelivered of its stream, outside paced
        channels `:paced`) and the time its next deferred row falls due (only future times
        count: rows already due but not claimed wait behind their stream)."""
        o = outbox_table.c
        earlier = outbox_table.alias("earlier")
        blocked = exists().where(
            earlier.c.stream == o.stream,
            earlier.c.id < o.id,
            earlier.c.status.in_(("pending", "sending")),
        )
        now: BindParameter[datetime] = bindparam("now")
        due = or_(
            and_(o.status == "pending", o.next_attempt_at <= now),
            and_(o.status == "sending", o.locked_until < now),
        )
        query = select(
            o.id, o.stream, o.ticket_id, o.channel, o.kind, o.payload, o.attempts, o.target
        ).where(
            due,
            ~blocked,
            or_(o.target.is_(None), o.target.not_in(bindparam("paced", expanding=True))),
        )
        mine = o.kind == "storm" if storms else o.kind != "storm"
        if self._channels is not None:
            mine = and_(mine, o.channel.in_(self._channels))
        claim = query.where(mine).order_by(o.id).limit(self._policy.batch)
        next_due = select(func.min(o.next_attempt_at)).where(
            mine, o.status == "pending", o.next_attempt_at > now
        )
        return claim, next_due

    def _deliver_one(self, row: _Claimed) -> None:
        row_id, channel, attempts = row.id, row.channel, row.attempts
        try:
            if row.kind == "storm":  # finishes its own row (see _storm)
                self._storm(
                    row_id, int(row.payload["storm_id"]), str(row.payload.get("mention") or "")
                )
                return
            if channel == "email":
                result = self._deliver_email(row.payload)
            elif channel == "teams":
                result = self._deliver_teams(row)
            elif channel == "webhook":
                result = self._deliver_webhook(row)
            else:
                result = self._deliver_slack(row)
        except _Deferred as d:
            self._finish(row_id, status="pending", next_at=d.until, count_attempt=False)
            return
        except _Orphaned as o:
            log.error("outbox row %s parked: %s", row_id, o)
            self._finish(row_id, status="parked", error=str(o), count_attempt=False)
            self._metrics.inc("ticketbot_outbox_parked_total", channel=channel)
            return
        except DeliveryError as e:
            self._failed(row_id, channel, attempts + 1, e)
            return
        except Exception as e:  # a bug in one row must not stop the others; it is parked loudly
            log.exception("outbox row %s crashed during delivery", row_id)
            self._failed(row_id, channel, attempts + 1, DeliveryError(repr(e), transient=False))
            return
        self._finish(row_id, status="done", result=result, count_attempt=True)
        self._metrics.inc("ticketbot_outbox_delivered_total", channel=channel)

    def _failed(self, row_id: int, channel: str, attempts: int, e: DeliveryError) -> None:
        now = self._clock.now()
        if e.transient and attempts < self._policy.max_attempts:
            delay = e.retry_after
            if delay is None:
                delay = min(
                    self._policy.max_backoff, self._policy.base_backoff * 2 ** (attempts - 1)
                ) * self._jitter.uniform(0.8, 1.2)
            log.warning("outbox row %s: %s; retry in %.1fs", row_id, e.message, delay)
            self._finish(
                row_id,
                status="pending",
                next_at=now + timedelta(seconds=delay),
                error=e.message,
                count_attempt=True,
            )
            self._metrics.inc("ticketbot_outbox_retries_total", channel=channel)
            return
        log.error("outbox row %s parked after %d attempt(s): %s", row_id, attempts, e.message)
        self._finish(row_id, status="parked", error=e.message, count_attempt=True)
        self._metrics.inc("ticketbot_outbox_parked_total", channel=channel)

    def _finish(
        self,
        row_id: int,
        *,
        status: str,
        next_at: datetime | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        count_attempt: bool,
        session: Session | None = None,
    ) -> None:
        """Record how a delivery went, in its own transaction or in `session`'s."""
        now = self._clock.now()
        values: dict[str, Any] = {"status": status, "locked_until": None}
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if error is not None:
            values["last_error"] = error[:2000]
        if status == "done":
            values["delivered_at"] = now
            values["result"] = result or {}
        statement = update(OutboxRow).where(OutboxRow.id == row_id).values(**values)
        if session is not None:
            session.execute(statement)
            return
        with self._sessions.begin() as s:
            s.execute(statement)

    # ---- email -----------------------------------------------------------------------------
    def _deliver_email(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self._email is None:
            return {"skipped": "email is off"}
        return {"message_id": self._email.send(payload)}

    # ---- Slack -----------------------------------------------------------------------------
    @property
    def _slack_api(self) -> SlackGateway:
        if self._slack is None:
            raise DeliveryError("Slack is not configured", transient=False)
        return self._slack

    def _deliver_slack(self, row: _Claimed) -> dict[str, Any]:
        ticket_id, kind, p = row.ticket_id, row.kind, row.payload
        if kind == "card":
            return self._card(int(ticket_id or 0), p.get("mention"), bool(p.get("storm_card")))
        if kind == "post":
            return self._post(row)
        if kind == "ephemeral":
            return self._ephemeral(p)
        if kind == "replace":
            msg = self._needed(row, role=p["role"])
            if msg is None:
                return {"skipped": f"no {p['role']} message"}
            self._slack_api.update(msg[0], msg[1], text=p["text"], blocks=p.get("blocks"))
            return {"channel": msg[0], "ts": msg[1]}
        if kind in ("update_mirror", "delete_mirror"):
            mirror = self._needed(row, role="mirror", source=tuple(p["source"]))
            if mirror is None:
                return {"skipped": "mirror not found"}
            if kind == "update_mirror":
                self._slack_api.update(mirror[0], mirror[1], text=p["text"], blocks=p.get("blocks"))
            else:
                self._slack_api.delete(mirror[0], mirror[1])
            return {"channel": mirror[0], "ts": mirror[1]}
        raise DeliveryError(f"unknown Slack outbox kind {kind!r}", transient=False)

    def _card(
        self, ticket_id: int, mention: str | None, storm_card: bool = False
    ) -> dict[str, Any]:
        with self._reads() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                return {"skipped": "ticket gone"}
            existing = _card_message(s, ticket_id, "slack")
            view = ticket_view(ticket, self._clock.now())
            if existing is not None and existing.rendered_version == ticket.version:
                return {"skipped": "card already current"}
            target = (existing.channel, existing.ts) if existing else None
            in_storm = storm.storm_of(s, ticket_id) if target is None else None
            if in_storm is not None and not storm_card:
                return {"skipped": "its card follows in the storm's thread"}
            if in_storm is not None and in_storm.summary_ts is None:
                raise _Deferred(self._clock.now() + timedelta(seconds=0.5))
            storm_ts = in_storm.summary_ts if in_storm is not None else None
        # A storm's cards go into its summary's thread, without a ping each.
        msg = card.ticket_card(view, mention=mention if target is None and not storm_ts else None)
        if target is not None:
            self._slack_api.update(target[0], target[1], text=msg.text, blocks=msg.blocks)
            with self._sessions.begin() as s:
                s.execute(
                    update(ChatMessage)
                    .where(ChatMessage.channel == target[0], ChatMessage.ts == target[1])
                    .values(rendered_version=view.version)
                )
            return {"channel": target[0], "ts": target[1], "version": view.version}
        if self._tech_channel is None:
            return {"skipped": "no Slack technician channel"}
        channel, ts = self._post_paced(
            self._tech_channel, text=msg.text, blocks=msg.blocks, thread_ts=storm_ts
        )
        self._record(ticket_id, "card", channel, ts, storm_ts, None, rendered_version=view.version)
        return {"channel": channel, "ts": ts, "version": view.version}

    def _storm(self, row_id: int, storm_id: int, mention: str) -> None:
        """Post the storm summary once, then keep it current in place (coalescing updates).

        The row is finished in the transaction that locks the storm: a delivery adding tickets
        to it (AlertService._close_storms) either commits first, and this row renders again, or
        comes after and finds the row done, and queues a new one.
        """
        with self._reads() as s:
            snap = storm.snapshot(s, storm_id)
        if snap is None:
            self._finish(
                row_id, status="done", result={"skipped": "storm gone"}, count_attempt=True
            )
            return
        ts, shown = snap.summary_ts, snap.rendered
        result: dict[str, Any] = {"skipped": "summary already current"}
        if ts is None or shown < snap.total:
            msg = alerts.storm_summary(snap.lines, snap.total, snap.started_at, mention)
            if ts is None:
                _, ts = self._post_paced(
                    snap.channel, urgent=True, text=msg.text, blocks=msg.blocks
                )
            else:
                now = self._clock.now()
                last = self._storm_updated.get(storm_id)
                if last is not None and now - last < STORM_REFRESH:
                    raise _Deferred(last + STORM_REFRESH)
                retry_at = self._update_pacer.take(snap.channel, now)
                if retry_at is not None:
                    raise _Deferred(retry_at)
                self._storm_updated = {
                    k: at for k, at in self._storm_updated.items() if now - at < STORM_REFRESH
                }
                self._storm_updated[storm_id] = now
                self._slack_api.update(snap.channel, ts, text=msg.text, blocks=msg.blocks)
            shown = snap.total
            result = {"channel": snap.channel, "ts": ts, "tickets": shown}
        # FOR NO KEY UPDATE on PostgreSQL: it need not wait for deliveries that only insert rows
        # referring to the storm (they hold KEY SHARE), only for one counting tickets into it.
        lock: bool | dict[str, bool] = {"key_share": True} if self._skip_locked else False
        with self._sessions.begin() as s:
            current = s.get(AlertStorm, storm_id, with_for_update=lock)
            if current is None:
                result = {"skipped": "storm gone"}
            else:
                current.summary_ts, current.rendered_count = ts, shown
                if current.ticket_count > shown:  # more joined meanwhile: render again soon
                    self._finish(
                        row_id,
                        status="pending",
                        next_at=self._clock.now() + STORM_REFRESH,
                        count_attempt=False,
                        session=s,
                    )
                    return
            self._finish(row_id, status="done", result=result, count_attempt=True, session=s)
        self._metrics.inc("ticketbot_outbox_delivered_total", channel="slack")

    def _post(self, row: _Claimed) -> dict[str, Any]:
        ticket_id, p = row.ticket_id, row.payload
        channel = p.get("channel")
        thread_ts = None
        anchor = p.get("anchor")
        if anchor:
            found = self._needed(row, role=anchor, root=True)
            if found is None:
                return {"skipped": f"no {anchor} thread"}
            channel, thread_ts = found
        if not channel:
            raise DeliveryError("post without a channel", transient=False)
        try:
            posted_channel, ts = self._post_paced(
                channel,
                text=p["text"],
                blocks=p.get("blocks"),
                thread_ts=thread_ts,
                reply_broadcast=bool(p.get("reply_broadcast")),
            )
        except DeliveryError as e:
            fallback = p.get("fallback_dm")
            if e.transient or not fallback or not any(code in e.message for code in NOT_POSTABLE):
                raise
            log.info("cannot post in %s (%s); using the submitter's DM", channel, e.message)
            posted_channel, ts = self._post_paced(fallback, text=p["text"], blocks=p.get("blocks"))
        role = p.get("record_role")
        if role and ticket_id is not None:
            source = p.get("source") or (None, None)
            self._record(ticket_id, role, posted_channel, ts, thread_ts, tuple(source))
        return {"channel": posted_channel, "ts": ts}

    def _ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        """Only the user sees it; when they aren't in that channel, it goes to their DM instead."""
        try:
            self._slack_api.ephemeral(
                p["channel"], p["user"], text=p["text"], blocks=p.get("blocks")
            )
            return {"channel": p["channel"]}
        except DeliveryError as e:
            if e.transient or not any(code in e.message for code in EPHEMERAL_FALLBACK):
                raise
        channel, ts = self._post_paced(p["user"], text=p["text"], blocks=p.get("blocks"))
        return {"channel": channel, "ts": ts, "fallback": "dm"}

    def _post_paced(self, channel: str, *, urgent: bool = False, **message: Any) -> tuple[str, str]:
        """chat.postMessage within the channel's pace; a 429 pauses the channel for Retry-After.
        An `urgent` post may use the channel's reserved tokens."""
        retry_at = self._pacer.take(channel, self._clock.now(), urgent=urgent)
        if retry_at is not None:
            raise _Deferred(retry_at)
        try:
            return self._slack_api.post(channel, **message)
        except DeliveryError as e:
            if e.retry_after is not None:
                self._pacer.pause(channel, self._clock.now() + timedelta(seconds=e.retry_after))
            raise

    # ---- Teams -----------------------------------------------------------------------------
    def _deliver_teams(self, row: _Claimed) -> dict[str, Any]:
        if self._teams is None:
            raise DeliveryError("Teams is not configured", transient=False)
        kind, p = row.kind, row.payload
        if kind == "card":
            return self._teams_card(row)
        if kind == "post":
            return self._teams_post(row, self._teams)
        if kind == "replace":
            found = self._needed(row, role=p["role"])
            if found is None:
                return {"skipped": f"no {p['role']} message"}
            self._teams.update(found[0], found[1], self._teams_message(p))
            return {"conversation": found[0], "id": found[1]}
        if kind in ("update_mirror", "delete_mirror"):
            mirror = self._needed(row, role="mirror", source=tuple(p["source"]))
            if mirror is None:
                return {"skipped": "mirror not found"}
            if kind == "update_mirror":
                self._teams.update(mirror[0], mirror[1], self._teams_message(p))
            else:
                self._teams.delete(mirror[0], mirror[1])
            return {"conversation": mirror[0], "id": mirror[1]}
        raise DeliveryError(f"unknown Teams outbox kind {kind!r}", transient=False)

    def _teams_card(self, row: _Claimed) -> dict[str, Any]:
        """Post the card in the Teams technician channel once; then update it in place."""
        teams, channel, ticket_id = self._teams, self._teams_tech_channel, int(row.ticket_id or 0)
        if teams is None or channel is None:
            return {"skipped": "no Teams technician channel"}
        with self._reads() as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None:
                return {"skipped": "ticket gone"}
            existing = _card_message(s, ticket_id, "teams")
            view = ticket_view(ticket, self._clock.now())
            if existing is not None and existing.rendered_version == ticket.version:
                return {"skipped": "card already current"}
            target = (existing.channel, existing.ts) if existing else None
        ping = bool(row.payload.get("mention")) and target is None
        mention = self._teams_mention() if ping and self._teams_mention is not None else None
        msg = adaptive.ticket_card(view, mention=mention)
        if target is not None:
            teams.update(target[0], target[1], msg)
            with self._sessions.begin() as s:
                s.execute(
                    update(ChatMessage)
                    .where(ChatMessage.channel == target[0], ChatMessage.ts == target[1])
                    .values(rendered_version=view.version)
                )
            return {"conversation": target[0], "id": target[1], "version": view.version}
        posted, activity_id = self._teams_paced(row, lambda: teams.post(channel, msg))
        self._record(
            ticket_id,
            "card",
            posted,
            activity_id,
            None,
            None,
            rendered_version=view.version,
            surface="teams",
        )
        return {"conversation": posted, "id": activity_id, "version": view.version}

    def _teams_post(self, row: _Claimed, teams: TeamsChat) -> dict[str, Any]:
        p = row.payload
        msg = self._teams_message(p)
        thread: str | None = None
        anchor = p.get("anchor")
        if anchor:
            found = self._needed(row, role=anchor, root=True)
            if found is None:
                return {"skipped": f"no {anchor} thread"}
            conversation, thread = found
        elif p.get("conversation"):
            conversation = str(p["conversation"])
        elif p.get("user"):
            conversation = teams.personal(str(p["user"]))
        else:
            raise DeliveryError("Teams post without a conversation", transient=False)
        posted, activity_id = self._teams_paced(
            row, lambda: teams.post(conversation, msg, thread=thread)
        )
        # Every message of a Teams client thread is recorded: in a 1:1 chat (no threads) a reply
        # quoting any of them is a reply about its ticket.
        role = p.get("record_role") or ("client_post" if anchor == "client_root" else None)
        if role and row.ticket_id is not None:
            root = thread or split_thread(conversation)[1]
            source = p.get("source") or (None, None)
            self._record(
                row.ticket_id, role, posted, activity_id, root, tuple(source), surface="teams"
            )
        return {"conversation": posted, "id": activity_id}

    def _teams_paced(self, row: _Claimed, send: Callable[[], tuple[str, str]]) -> tuple[str, str]:
        """A Teams post within its conversation's pace; a 429 pauses the conversation."""
        pacer, target = self._pacers["teams"], row.target
        if target is not None:
            retry_at = pacer.take(target, self._clock.now())
            if retry_at is not None:
                raise _Deferred(retry_at)
        try:
            return send()
        except DeliveryError as e:
            if e.retry_after is not None and target is not None:
                pacer.pause(target, self._clock.now() + timedelta(seconds=e.retry_after))
            raise

    def _teams_message(self, p: dict[str, Any]) -> TeamsMessage:
        """A row's message as a Teams card: rendered for Teams when written (`card`), else the
        Slack rendering translated; `ping` adds the technician channel's mention."""
        if isinstance(p.get("card"), dict):
            return TeamsMessage(text=str(p.get("text") or ""), card=p["card"])
        msg = from_slack(
            SlackMessage(str(p.get("text") or ""), p.get("blocks") or []), self._names(p)
        )
        mention = self._teams_mention() if p.get("ping") and self._teams_mention else None
        return adaptive.with_mention(msg, mention) if mention is not None else msg

    def _names(self, p: dict[str, Any]) -> dict[str, str]:
        """Slack id → name, for the Slack mentions a message carries (most carry none)."""
        if "<@" not in json.dumps(p):
            return {}
        with self._reads() as s:
            rows = s.execute(
                select(Person.slack_user_id, Person.name).where(Person.slack_user_id.is_not(None))
            ).all()
        return {sid: name for sid, name in rows if sid}

    # ---- Workflows webhooks ----------------------------------------------------------------
    def _deliver_webhook(self, row: _Claimed) -> dict[str, Any]:
        """A client-thread message to a notify-only client's Workflows webhook (its URL is read
        from the client, never stored in the outbox: it carries a signature)."""
        if self._webhooks is None:
            raise DeliveryError("Workflows webhooks are not configured", transient=False)
        p = row.payload
        with self._reads() as s:
            url = s.scalar(select(Client.teams_webhook_url).where(Client.id == p.get("client_id")))
        if not url:
            return {"skipped": "the client has no Teams webhook now"}
        envelope = adaptive.webhook_envelope(self._teams_message(p))
        pacer, target = self._pacers["webhook"], row.target
        if target is not None:
            retry_at = pacer.take(target, self._clock.now())
            if retry_at is not None:
                raise _Deferred(retry_at)
        try:
            self._webhooks.post(url, envelope)
        except DeliveryError as e:
            if e.retry_after is not None and target is not None:
                pacer.pause(target, self._clock.now() + timedelta(seconds=e.retry_after))
            raise
        return {"client_id": p.get("client_id")}

    def _find(
        self,
        ticket_id: int | None,
        *,
        role: str,
        source: tuple[str, ...] | None = None,
        root: bool = False,
        surface: str = "slack",
    ) -> tuple[str, str] | None:
        """The latest message recorded with `role`; with `root`, the thread it belongs to."""
        if ticket_id is None:
            return None
        query = select(ChatMessage).where(
            ChatMessage.ticket_id == ticket_id,
            ChatMessage.role == role,
            ChatMessage.surface == surface,
        )
        if source is not None:
            query = query.where(
                ChatMessage.source_channel == source[0], ChatMessage.source_ts == source[1]
            )
        with self._reads() as s:
            msg = s.scalars(query.order_by(ChatMessage.id.desc()).limit(1)).first()
            if msg is None:
                return None
            return msg.channel, (msg.thread_ts or msg.ts) if root else msg.ts

    def _needed(
        self,
        row: _Claimed,
        *,
        role: str,
        source: tuple[str, ...] | None = None,
        root: bool = False,
    ) -> tuple[str, str] | None:
        """The message `row` needs (see _find); None when no row will ever post it.

        While an undelivered row that will post it (in another stream, or earlier in this one)
        is on its way, raises _Deferred: no attempt is counted. When that row is parked, raises
        _Orphaned: this one is parked too, naming it; `ticketbot outbox retry` of both sends
        them in turn.
        """
        surface = "teams" if row.channel == "teams" else "slack"
        found = self._find(row.ticket_id, role=role, source=source, root=root, surface=surface)
        if found is None and row.ticket_id is not None:
            self._wait_for_recorder(row, role, source)
            # Its row may have been delivered between the two reads: the message is in by now.
            found = self._find(row.ticket_id, role=role, source=source, root=root, surface=surface)
        return found

    def _wait_for_recorder(self, row: _Claimed, role: str, source: tuple[str, ...] | None) -> None:
        o = outbox_table.c
        query = (
            select(o.id, o.stream, o.status, o.payload, o.next_attempt_at)
            .where(
                o.ticket_id == row.ticket_id,
                o.channel == row.channel,
                o.kind == ("card" if role == "card" else "post"),
                o.status.in_(("pending", "sending", "parked")),
                o.id != row.id,
            )
            .order_by(o.id)
        )
        with self._reads() as s:
            recorders = [
                r
                for r in s.execute(query)
                if not (r.stream == row.stream and r.id > row.id)  # those wait behind this one
                and (role == "card" or r.payload.get("record_role") == role)
                and (source is None or tuple(r.payload.get("source") or ()) == source)
            ]
        on_the_way = [r.next_attempt_at for r in recorders if r.status != "parked"]
        if on_the_way:
            raise _Deferred(max(self._clock.now(), min(on_the_way)) + RECORDER_POLL)
        if recorders:
            parked = ", ".join(str(r.id) for r in recorders)
            raise _Orphaned(f"waits for its {role} message, in parked outbox row(s) {parked}")

    def _record(
        self,
        ticket_id: int,
        role: str,
        channel: str,
        ts: str,
        thread_ts: str | None,
        source: tuple[str | None, ...] | None,
        *,
        rendered_version: int | None = None,
        surface: str = "slack",
    ) -> None:
        with self._sessions.begin() as s:
            s.add(
                ChatMessage(
                    ticket_id=ticket_id,
                    role=role,
                    surface=surface,
                    channel=channel,
                    ts=ts,
                    thread_ts=thread_ts,
                    source_channel=source[0] if source else None,
                    source_ts=source[1] if source else None,
                    rendered_version=rendered_version,
                    created_at=self._clock.now(),
                )
            )


def _card_message(s: Session, ticket_id: int, surface: str) -> ChatMessage | None:
    """The ticket's card as recorded on `surface`, when it is posted."""
    return s.scalar(
        select(ChatMessage).where(
            ChatMessage.ticket_id == ticket_id,
            ChatMessage.role == "card",
            ChatMessage.surface == surface,
        )
    )


@dataclass
class _Lane:
    """One delivery thread of a dispatcher, with the rows it claims and its wake-up call."""

    name: str
    claim: Select[Any]
    next_due: Select[Any]
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def storms(self) -> bool:
        return self.name == "storm"


@dataclass(frozen=True)
class _Claimed:
    id: int
    stream: str
    ticket_id: int | None
    channel: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    target: str | None


class _Deferred(Exception):
    """Not now (channel pacing, or a message it needs is on its way): put the row back without
    counting an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class _Orphaned(Exception):
    """The message a row needs belongs to a parked row: park this one too, without an attempt."""
