"""Per-conversation pace, kept in the database so that it holds across every delivery process.

A GCRA per (channel, target): a post may go when the target's theoretical arrival time (`tat`)
is at most `(burst - 1) / rate` ahead of now, and moves it `1 / rate` on. Taking is one
`UPDATE … WHERE … RETURNING`: on PostgreSQL the row lock orders concurrent takers. On SQLite
only one process delivers, so the same arithmetic runs in memory (a write per post there cost a
storm's intake 10-18 % of its throughput: benchmarks/alert_storm.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.errors import Deferred, DeliveryError
from storage.models import paces_table

_T = TypeVar("_T")

# Seconds of rounding that times stored as floats may carry (a post exactly on time goes).
EPSILON = 1e-6
# How often (seconds, on this machine's clock) `look` reads what other processes took: this
# process's own takes and pauses are known without reading.
LOOK_EVERY = 0.25


@dataclass(frozen=True)
class PaceRule:
    """`rate` posts a second, `burst` at once; `reserved` keeps tokens of some targets for
    urgent posts: ordinary posts leave them alone."""

    rate: float
    burst: int
    reserved: Mapping[str, float] = field(default_factory=dict)

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def lead(self, target: str, urgent: bool) -> float:
        """How far ahead of now `tat` may be for a post to go."""
        kept = 0.0 if urgent else self.reserved.get(target, 0.0)
        return (self.burst - 1.0 - kept) * self.interval

    def available(
        self, target: str, tat: float, paused: float | None, now: float, urgent: bool = False
    ) -> float:
        """Posts the target may take at `now` (0 while paused by a Retry-After)."""
        if paused is not None and paused > now:
            return 0.0
        kept = 0.0 if urgent else self.reserved.get(target, 0.0)
        return max(0.0, self.burst - max(0.0, tat - now - EPSILON) * self.rate - kept)

    def free_at(self, target: str, tat: float, paused: float | None) -> float:
        """When an ordinary post may go again."""
        return max(paused or 0.0, tat - self.lead(target, False))


class Paces:
    """The paces of every route's targets, by pace name (a route's main pace is named after its
    outbox channel; their targets never coincide across channels).

    `look` reads the targets out of budget (at most every LOOK_EVERY seconds, on PostgreSQL
    only); `blocked`, `available` and `next_free_in` answer from that reading and this
    process's own takes (hints: `take` decides)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: Mapping[str, PaceRule],
        *,
        reads: sessionmaker[Session] | None = None,
    ) -> None:
        self._sessions = sessions
        self._reads = reads or sessions
        self._rules = dict(rules)
        self._seen: dict[tuple[str, str], tuple[float, float | None]] = {}
        # Whether other processes take from these paces too (PostgreSQL), or only this one.
        self._postgres = sessions.kw["bind"].dialect.name == "postgresql"
        self._looked: float | None = None  # time.monotonic() of the last reading
        self._lock = threading.Lock()  # takes in memory (SQLite)

    def add(self, rules: Mapping[str, PaceRule]) -> None:
        """Pace these too (a dispatcher adds its routes' paces before it starts)."""
        self._rules = {**self._rules, **rules}  # a new dict: other threads read it without a lock

    def take(
        self, channel: str, target: str, now: datetime, *, urgent: bool = False
    ) -> datetime | None:
        """None when a post may go now (and it is counted); else the time to try again."""
        rule, at = self._rules[channel], _seconds(now)
        if not self._postgres:
            return self._take_here(channel, target, rule, at, urgent)
        p = paces_table.c
        moved = (
            update(paces_table)
            .where(
                p.channel == channel,
                p.target == target,
                p.tat <= at + rule.lead(target, urgent) + EPSILON,
                or_(p.paused_until.is_(None), p.paused_until <= at),
            )
            .values(tat=case((p.tat < at, at), else_=p.tat) + rule.interval)
            .returning(p.tat, p.paused_until)
        )
        with self._sessions.begin() as s:
            self._soft(s)
            taken = s.execute(moved).first()
            if taken is not None:
                self._saw(channel, target, float(taken.tat), taken.paused_until, at)
                return None
            state = s.execute(
                select(p.tat, p.paused_until).where(p.channel == channel, p.target == target)
            ).first()
            if state is None:
                first = {"channel": channel, "target": target, "tat": at + rule.interval}
                if s.execute(self._insert(first).returning(p.tat)).first() is not None:
                    self._saw(channel, target, at + rule.interval, None, at)
                    return None
                state = s.execute(
                    select(p.tat, p.paused_until).where(p.channel == channel, p.target == target)
                ).one()
        tat, paused = float(state.tat), state.paused_until
        self._saw(channel, target, tat, paused, at)
        if paused is not None and paused > at:
            return _datetime(paused)
        return _datetime(max(at, tat - rule.lead(target, urgent)))

    def pause(self, channel: str, target: str, until: datetime) -> None:
        """No post to `target` before `until` (a Retry-After), urgent ones included. Its `tat`
        moves there too (a paused target is out of budget to `look`), its burst full again then."""
        end = _seconds(until)
        if not self._postgres:
            with self._lock:
                tat, paused = self._seen.get((channel, target), (0.0, None))
                self._saw(channel, target, max(tat, end), max(paused or 0.0, end), 0.0)
            return
        p = paces_table.c
        with self._sessions.begin() as s:
            self._soft(s)
            s.execute(self._insert({"channel": channel, "target": target, "tat": end}))
            state = s.execute(
                update(paces_table)
                .where(p.channel == channel, p.target == target)
                .values(
                    paused_until=case((p.paused_until > end, p.paused_until), else_=end),
                    tat=case((p.tat > end, p.tat), else_=end),
                )
                .returning(p.tat, p.paused_until)
            ).one()
        self._saw(channel, target, float(state.tat), state.paused_until, 0.0)

    def look(self, now: datetime) -> None:
        """Read the targets that may be out of budget now (one query for every channel), when
        other processes may have taken since the last reading."""
        started = time.monotonic()
        if not self._postgres or (self._looked is not None and started - self._looked < LOOK_EVERY):
            return
        self._looked = started
        at = _seconds(now)
        p = paces_table.c
        with self._reads() as s:
            rows = s.execute(
                select(p.channel, p.target, p.tat, p.paused_until).where(
                    p.tat > at, p.channel.in_(self._rules)
                )
            ).all()
        self._seen = {(r.channel, r.target): (float(r.tat), r.paused_until) for r in rows}

    def blocked(self, now: datetime, names: Collection[str] | None = None) -> list[str]:
        """Targets with no ordinary post left in their budget, as last looked at (of the paces
        `names`, or of all)."""
        at = _seconds(now)
        return sorted(
            target
            for (channel, target), (tat, paused) in self._seen.items()
            if (names is None or channel in names)
            and self._rules[channel].available(target, tat, paused, at) < 1.0
        )

    def available(self, channel: str, target: str, now: datetime) -> float:
        """Ordinary posts `target` may take now, as last looked at (a channel without a
        pace: no limit)."""
        rule = self._rules.get(channel)
        if rule is None:
            return float("inf")
        tat, paused = self._seen.get((channel, target), (0.0, None))
        return rule.available(target, tat, paused, _seconds(now))

    def next_free_in(self, now: datetime, names: Collection[str] | None = None) -> float | None:
        """Seconds until some target out of budget (of the paces `names`, or of all) may take an
        ordinary post again."""
        at = _seconds(now)
        waits = [
            self._rules[channel].free_at(target, tat, paused) - at
            for (channel, target), (tat, paused) in self._seen.items()
            if names is None or channel in names
        ]
        return min((w for w in waits if w > 0), default=None)

    def _take_here(
        self, channel: str, target: str, rule: PaceRule, at: float, urgent: bool
    ) -> datetime | None:
        """`take` in memory, for the one process that delivers on SQLite."""
        with self._lock:
            tat, paused = self._seen.get((channel, target), (0.0, None))
            if paused is not None and paused > at:
                return _datetime(paused)
            if tat <= at + rule.lead(target, urgent) + EPSILON:
                self._saw(channel, target, max(tat, at) + rule.interval, paused, at)
                return None
            return _datetime(max(at, tat - rule.lead(target, urgent)))

    def _saw(self, channel: str, target: str, tat: float, paused: float | None, at: float) -> None:
        """Note a target's pace as of `at`, forgetting those whose bucket is full by then (a
        pause keeps `tat` ahead). A new dict: other threads read it without a lock."""
        seen = {key: state for key, state in self._seen.items() if state[0] > at}
        seen[(channel, target)] = (tat, paused)
        self._seen = seen

    def _soft(self, s: Session) -> None:
        """A pace is soft state: its commit need not wait for the disk (a database crash may
        lose the last few updates, which only lets a few posts go a little early)."""
        if self._postgres:
            s.execute(text("SET LOCAL synchronous_commit TO OFF"))

    def _insert(self, values: dict[str, Any]) -> Any:
        insert = postgresql.insert if self._postgres else sqlite.insert
        return insert(paces_table).values(**values).on_conflict_do_nothing()


def paced(
    paces: Paces,
    channel: str,
    target: str | None,
    now: Callable[[], datetime],
    send: Callable[[], _T],
    *,
    urgent: bool = False,
) -> _T:
    """`send` within the target's pace (Deferred when out of it); a 429 pauses the target for
    its Retry-After. An `urgent` send may use the target's reserved tokens."""
    if target is not None:
        retry_at = paces.take(channel, target, now(), urgent=urgent)
        if retry_at is not None:
            raise Deferred(retry_at)
    try:
        return send()
    except DeliveryError as e:
        if e.retry_after is not None and target is not None:
            paces.pause(channel, target, now() + timedelta(seconds=e.retry_after))
        raise


def _seconds(when: datetime) -> float:
    return when.timestamp()


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
