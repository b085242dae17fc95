"""Timers as rows: the kinds a deployment knows (what is due, and what firing does), and the
API a use-case calls inside its own transaction to keep a ticket's timers in step with it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.service.notify.matrix import Notifier
from storage.batch import batch
from storage.models import Ticket, timers_table

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"

_T = timers_table.c
_TICKET_TIMERS = select(_T.id, _T.kind, _T.state, _T.data).where(
    _T.ticket_id == bindparam("ticket_id")
)
_SET = (
    update(timers_table)
    .where(_T.id == bindparam("timer_id"))
    .values(
        state=bindparam("new_state"),
        due_at=bindparam("new_due"),
        fires=bindparam("new_fires"),
        data=bindparam("new_data", type_=_T.data.type),
        updated_at=bindparam("now"),
    )
)
_CANCEL = update(timers_table).values(state=CANCELLED, updated_at=bindparam("now"))


@dataclass(frozen=True)
class Want:
    """A timer a ticket's facts call for, due either `at` a time the facts give (re-armed when
    that time moves: a reminder counted from the last update), or `after` this long from when
    the facts first called for it (kept while they still do: a re-ping while unassigned)."""

    at: datetime | None = None
    after: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.after is None):
            raise ValueError("a Want is due either at a time or after a delay")


@dataclass
class Firing:
    """One due timer being fired, in the runner's transaction: write rows, never talk to chat."""

    session: Session
    key: str
    kind: str
    data: dict[str, Any]
    fires: int  # times fired before this one since it was armed
    due_at: datetime
    now: datetime
    ticket: Ticket | None
    notifier: Notifier
    timers: Timers


# A ticket's facts → the timer it calls for now (None: none).
Planner = Callable[[Ticket, datetime], Want | None]
# Fire one timer; return when it is due again (a repeating timer), or None when it is done.
Handler = Callable[[Firing], datetime | None]


@dataclass(frozen=True)
class TimerKind:
    """One kind of timer. With a `plan`, the ticket's facts decide when it exists; without one,
    code schedules it by key (the daily digest)."""

    name: str
    fire: Handler
    plan: Planner | None = None


@dataclass
class Timers:
    """The registry of timer kinds and the timer rows of a use-case's transaction."""

    kinds: dict[str, TimerKind] = field(default_factory=dict)

    @classmethod
    def of(cls, kinds: Iterable[TimerKind]) -> Timers:
        timers = cls()
        for kind in kinds:
            timers.register(kind)
        return timers

    def register(self, kind: TimerKind) -> None:
        if kind.name in self.kinds:
            raise ValueError(f"timer kind {kind.name!r} is registered already")
        if len(kind.name) > 32:
            raise ValueError(f"timer kind {kind.name!r} is longer than 32 characters")
        self.kinds[kind.name] = kind

    # ---- a ticket's timers -----------------------------------------------------------------
    def plan(self, ticket: Ticket, now: datetime) -> dict[str, Want]:
        """The timers `ticket` calls for now, by kind."""
        wanted = {}
        for kind in self.kinds.values():
            if kind.plan is not None:
                want = kind.plan(ticket, now)
                if want is not None:
                    wanted[kind.name] = want
        return wanted

    def opened(
        self, session: Session, ticket: Ticket, now: datetime, *, leave_out: Iterable[str] = ()
    ) -> None:
        """A ticket created in this transaction: its first timers, into the write batch, but for
        the kinds in `leave_out`."""
        left_out = set(leave_out)
        for name, want in self.plan(ticket, now).items():
            if name in left_out:
                continue
            due, data = _armed(want, now)
            key = ticket_key(ticket.id, name)
            batch(session).insert(timers_table, _new_row(key, name, ticket.id, due, data, now))

    def changed(
        self, session: Session, ticket: Ticket, before: Mapping[str, Want], now: datetime
    ) -> None:
        """Sync `ticket`'s timers if what it calls for now differs from `before` (its `plan` at
        `now` before the change). Its rows already hold `before`, so an unchanged plan costs
        no statement."""
        wanted = self.plan(ticket, now)
        if wanted != before:
            self.sync(session, ticket, now, wanted)

    def sync(
        self,
        session: Session,
        ticket: Ticket,
        now: datetime,
        wanted: Mapping[str, Want] | None = None,
    ) -> None:
        """Make `ticket`'s timer rows what its facts call for (`wanted`, its plan at `now`):
        arm the new, move those whose time moved, cancel the moot (pending or fired, so that
        they re-arm when called for)."""
        with session.no_autoflush:  # the ticket's own changes are the caller's to write
            self._sync(session, ticket, now, self.plan(ticket, now) if wanted is None else wanted)

    def _sync(
        self, session: Session, ticket: Ticket, now: datetime, wanted: Mapping[str, Want]
    ) -> None:
        rows = {row.kind: row for row in session.execute(_TICKET_TIMERS, {"ticket_id": ticket.id})}
        moot = [
            row.id
            for name, row in rows.items()
            if name not in wanted and row.state != CANCELLED and self._planned(name)
        ]
        if moot:
            session.execute(_CANCEL.where(_T.id.in_(moot)), {"now": now})
        new, rearmed = [], []
        for name, want in wanted.items():
            current = rows.get(name)
            due, data = _armed(want, now)
            if current is None:
                new.append(_new_row(ticket_key(ticket.id, name), name, ticket.id, due, data, now))
            elif _rearm(want, current.state, current.data):
                rearmed.append(
                    {
                        "timer_id": current.id,
                        "new_state": PENDING,
                        "new_due": due,
                        "new_fires": 0,
                        "new_data": data,
                        "now": now,
                    }
                )
        if new:
            _insert_unless_there(session, new)
        if rearmed:  # one executemany: a reminder and its escalation move together
            session.execute(_SET, rearmed)

    def _planned(self, name: str) -> bool:
        kind = self.kinds.get(name)
        return kind is not None and kind.plan is not None

    # ---- timers by key ---------------------------------------------------------------------
    def schedule(
        self,
        session: Session,
        key: str,
        kind: str,
        due_at: datetime,
        now: datetime,
        *,
        ticket_id: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Arm the timer `key` at `due_at` (pending, count reset), whatever its state was."""
        if kind not in self.kinds:
            raise ValueError(f"unknown timer kind {kind!r}")
        row = _new_row(key, kind, ticket_id, due_at, dict(data or {}), now)
        changes = {k: row[k] for k in ("kind", "ticket_id", "due_at", "state", "fires", "data")}
        dialect = session.get_bind().dialect.name
        if dialect in _UPSERTS:
            stmt = _UPSERTS[dialect](timers_table).values(row)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[_T.key], set_={**changes, "updated_at": now}
                )
            )
            return
        found = session.execute(
            update(timers_table).where(_T.key == key).values(**changes, updated_at=now)
        )
        if not found.rowcount:  # type: ignore[attr-defined]
            session.execute(insert(timers_table).values(row))

    def ensure(
        self,
        session: Session,
        key: str,
        kind: str,
        due_at: datetime,
        now: datetime,
        *,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Arm the timer `key` at `due_at` unless a row with that key exists (whatever its state):
        what every process calls as it starts, so a timer overdue after downtime still fires."""
        if kind not in self.kinds:
            raise ValueError(f"unknown timer kind {kind!r}")
        _insert_unless_there(session, [_new_row(key, kind, None, due_at, dict(data or {}), now)])

    def cancel(
        self,
        session: Session,
        now: datetime,
        *,
        ticket_id: int | None = None,
        kinds: Iterable[str] | None = None,
        key: str | None = None,
    ) -> int:
        """Cancel the pending timers of a ticket (of `kinds`, or all), or the one with `key`."""
        if ticket_id is None and key is None:
            raise ValueError("cancel needs a ticket or a key")
        stmt = update(timers_table).where(_T.state == PENDING)
        if ticket_id is not None:
            stmt = stmt.where(_T.ticket_id == ticket_id)
        if kinds is not None:
            stmt = stmt.where(_T.kind.in_(list(kinds)))
        if key is not None:
            stmt = stmt.where(_T.key == key)
        result = session.execute(stmt.values(state=CANCELLED, updated_at=now))
        return int(result.rowcount)  # type: ignore[attr-defined]


def ticket_key(ticket_id: int, kind: str) -> str:
    return f"ticket:{ticket_id}:{kind}"


def _armed(want: Want, now: datetime) -> tuple[datetime, dict[str, Any]]:
    """The due time and data of a timer (re-)armed for `want` now."""
    if want.at is not None:
        return want.at, {"planned": want.at.isoformat()}
    assert want.after is not None
    return now + want.after, {"since": now.isoformat()}


def _rearm(want: Want, state: str, data: Mapping[str, Any] | None) -> bool:
    if state == CANCELLED:
        return True
    if want.at is not None:
        return (data or {}).get("planned") != want.at.isoformat()
    return False  # `after`: pending, or fired once and done, while the facts hold


def _new_row(
    key: str,
    kind: str,
    ticket_id: int | None,
    due: datetime,
    data: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    return {
        "key": key,
        "ticket_id": ticket_id,
        "kind": kind,
        "due_at": due,
        "state": PENDING,
        "fires": 0,
        "fired_at": None,
        "data": data,
        "created_at": now,
        "updated_at": now,
    }


_UPSERTS: dict[str, Callable[[Any], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def _insert_unless_there(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert each row unless a row with its key exists. In `sync`, such a row was just written
    by another transaction on the same ticket: that one changed the ticket too, so this one fails
    its version check as it commits and runs again."""
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERTS:
        stmt = _UPSERTS[dialect](timers_table).on_conflict_do_nothing(index_elements=[_T.key])
        session.execute(stmt, rows)
        return
    for row in rows:
        if session.execute(select(_T.id).where(_T.key == row["key"])).first() is None:
            session.execute(insert(timers_table), row)
