"""Timers as rows: planned from a ticket's facts in the use-case's transaction, fired once by
the runner with a ManualClock, cancelled by the change that makes them moot, coalesced after
downtime, and a failing timer holds up no other."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import ManualClock
from bot.service import TicketService
from bot.service.directory import Directory
from bot.service.escalation import REPING, EscalationPolicy, kinds
from bot.service.notify import Notifier, NotifySettings
from bot.service.outbox import OutboxWriter
from bot.service.timers import Firing, TimerKind, Timers
from bot.service.use_cases import Actor
from bot.timer_runner import TimerRunner
from storage.models import OutboxRow, TicketEvent, Timer
from tests.service.conftest import EMPLOYEE, MANAGER, TECHNICIAN

POLICY = EscalationPolicy(reping_after=timedelta(minutes=5))


class Parts:
    def __init__(
        self, sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
    ) -> None:
        settings = NotifySettings(
            tech_channel="CTECHS", critical_mention="<!here>", email_domain="msp.example"
        )
        self.sessions = sessions
        self.clock = clock
        self.notifier = Notifier(settings, directory, OutboxWriter(clock))
        self.timers = Timers.of(kinds(POLICY))
        self.service = TicketService(
            session_factory=sessions,
            directory=directory,
            notifier=self.notifier,
            clock=clock,
            timers=self.timers,
        )
        self.runner = TimerRunner(
            session_factory=sessions, timers=self.timers, notifier=self.notifier, clock=clock
        )

    def open(self, priority: str = "critical") -> int:
        return self.service.open_ticket(
            Actor(EMPLOYEE), title="Internet down at HQ", priority=priority
        )

    def timer(self, ticket_id: int, kind: str) -> Timer | None:
        with self.sessions() as s:
            return s.scalar(select(Timer).where(Timer.ticket_id == ticket_id, Timer.kind == kind))

    def outbox_after(self, mark: int) -> list[OutboxRow]:
        with self.sessions() as s:
            return list(s.scalars(select(OutboxRow).where(OutboxRow.id > mark).order_by("id")))

    def mark(self) -> int:
        with self.sessions() as s:
            return max(s.scalars(select(OutboxRow.id)).all(), default=0)

    def events(self, ticket_id: int, kind: str) -> list[TicketEvent]:
        with self.sessions() as s:
            query = select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind
            )
            return list(s.scalars(query.order_by(TicketEvent.id)))


@pytest.fixture
def parts(sessions: sessionmaker[Session], directory: Directory, clock: ManualClock) -> Parts:
    return Parts(sessions, directory, clock)


def test_an_unassigned_critical_ticket_repings_every_interval_until_assigned(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open()
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.state == "pending"
    assert timer.due_at == clock.now() + timedelta(minutes=5)

    clock.advance(timedelta(minutes=4, seconds=59))
    mark = parts.mark()
    assert parts.runner.fire_due() == 0

    clock.advance(timedelta(seconds=1))
    assert parts.runner.fire_due() == 1
    rows = parts.outbox_after(mark)
    thread = [r for r in rows if r.stream == f"slack:{ticket_id}:card"]
    assert [(r.kind, r.payload["anchor"], r.payload["ping"]) for r in thread] == [
        ("post", "card", True)
    ]
    assert thread[0].payload["text"] == (
        f"<!here> ⏰ *#{ticket_id}* Internet down at HQ is critical and still unassigned "
        "after 5 min. Managers: please assign it from the card above."
    )
    dms = [r for r in rows if r.stream == f"slack-dm:{MANAGER}"]
    assert [r.payload["text"] for r in dms] == [
        f"⏰ Critical ticket *#{ticket_id}* Internet down at HQ — client an unknown company — "
        "is still unassigned after 5 min. Assign it from its card in the technician channel."
    ]
    assert not [r for r in rows if r.channel == "email"]
    assert [e.text for e in parts.events(ticket_id, "reping")] == [
        "re-pinged the technicians and managers: unassigned for 5 min"
    ]

    clock.advance(timedelta(minutes=5))
    assert parts.runner.fire_due() == 1
    assert [e.text.split(" for ")[1] for e in parts.events(ticket_id, "reping")] == [
        "5 min",
        "10 min",
    ]

    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    assert (t := parts.timer(ticket_id, REPING)) is not None and t.state == "cancelled"
    assert t.fires == 2
    clock.advance(timedelta(hours=1))
    assert parts.runner.fire_due() == 0


def test_a_ticket_raised_to_critical_starts_repinging_from_then(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open(priority="high")
    assert parts.timer(ticket_id, REPING) is None
    clock.advance(timedelta(hours=1))
    parts.service.change_priority(Actor(MANAGER), ticket_id, "critical")
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.due_at == clock.now() + timedelta(minutes=5)

    parts.service.change_priority(Actor(MANAGER), ticket_id, "high")  # moot again
    assert (t := parts.timer(ticket_id, REPING)) is not None and t.state == "cancelled"
    clock.advance(timedelta(minutes=1))
    parts.service.change_priority(Actor(MANAGER), ticket_id, "critical")  # armed afresh
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.state == "pending" and timer.fires == 0
    assert timer.due_at == clock.now() + timedelta(minutes=5)


def test_after_downtime_an_overdue_repeating_timer_fires_once_then_every_interval(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open()
    clock.advance(timedelta(hours=2))  # 24 intervals missed while every process was down
    assert parts.runner.fire_due() == 1
    assert parts.runner.fire_due() == 0
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.due_at == clock.now() + timedelta(minutes=5)
    assert len(parts.events(ticket_id, "reping")) == 1


def test_a_failing_timer_is_retried_later_and_holds_up_no_other(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    parts = Parts(sessions, directory, clock)
    calls: list[str] = []

    def broken(f: Firing) -> datetime | None:
        calls.append(f.key)
        raise RuntimeError("boom")

    parts.timers.register(TimerKind("broken", fire=broken))
    parts.runner = TimerRunner(
        session_factory=sessions, timers=parts.timers, notifier=parts.notifier, clock=clock, batch=3
    )
    first, second = parts.open(), parts.open()
    with sessions.begin() as s:
        parts.timers.schedule(s, "broken:1", "broken", clock.now(), clock.now())
    clock.advance(timedelta(minutes=5))
    assert parts.runner.fire_due() == 2
    assert calls == ["broken:1", "broken:1"]  # in the batch, then on its own
    assert len(parts.events(first, "reping")) == len(parts.events(second, "reping")) == 1
    with sessions() as s:
        broken_row = s.scalar(select(Timer).where(Timer.key == "broken:1"))
        assert broken_row is not None and broken_row.state == "pending"
        assert broken_row.due_at == clock.now() + timedelta(minutes=1)


def test_schedule_upserts_by_key_and_cancel_by_key(parts: Parts, clock: ManualClock) -> None:
    fired: list[int] = []

    def digest(f: Firing) -> datetime | None:
        fired.append(f.fires)
        return f.now + timedelta(days=1)

    parts.timers.register(TimerKind("digest", fire=digest))
    with parts.sessions.begin() as s:
        parts.timers.schedule(s, "digest", "digest", clock.now() + timedelta(hours=1), clock.now())
        parts.timers.schedule(s, "digest", "digest", clock.now() + timedelta(hours=2), clock.now())
    clock.advance(timedelta(hours=1))
    assert parts.runner.fire_due() == 0
    clock.advance(timedelta(hours=1))
    assert parts.runner.fire_due() == 1
    clock.advance(timedelta(days=1))
    assert parts.runner.fire_due() == 1
    assert fired == [0, 1]
    with parts.sessions.begin() as s:
        assert parts.timers.cancel(s, clock.now(), key="digest") == 1
    clock.advance(timedelta(days=1))
    assert parts.runner.fire_due() == 0
