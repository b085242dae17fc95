"""The daily digest timer with a ManualClock: armed at start for the next local 08:30, posted
once in the technician channel, re-armed for the next day across a DST change, once after
downtime (not once per missed day), and stopped by TICKETBOT_DIGEST_AT=off."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.timers import digest
from bot.service.timers.digest import DIGEST, DailyDigest
from bot.service.timers.escalation import EscalationPolicy, kinds
from bot.service.timers.runner import TimerRunner
from bot.service.timers.schedule import Timers
from bot.service.use_cases import TicketService
from storage.models import OutboxRow, Timer
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = Settings(timezone="Europe/Berlin", digest_at=time(8, 30))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


class Parts:
    def __init__(
        self, sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
    ) -> None:
        notify = NotifySettings(
            tech_channel="CTECHS", critical_mention="<!here>", email_domain="msp.example"
        )
        self.sessions, self.clock = sessions, clock
        self.notifier = Notifier(notify, directory, OutboxWriter(clock))
        daily = DailyDigest.of(SETTINGS)
        assert daily is not None
        quiet = EscalationPolicy(reping_after=timedelta(days=365))  # no re-pings in the way
        self.timers = Timers.of([*kinds(quiet), daily.kind()])
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

    def move_to(self, when: datetime) -> int:
        self.clock.advance(when - self.clock.now())
        return self.runner.fire_due()

    def timer(self) -> Timer:
        with self.sessions() as s:
            row = s.scalar(select(Timer).where(Timer.key == DIGEST))
            assert row is not None
            return row

    def posts(self) -> list[OutboxRow]:
        with self.sessions() as s:
            query = select(OutboxRow).where(OutboxRow.stream == "slack:digest")
            return list(s.scalars(query.order_by(OutboxRow.id)))


def make(sessions: sessionmaker[Session], directory: Directory, start: datetime) -> Parts:
    parts = Parts(sessions, directory, ManualClock(start))
    digest.start(SETTINGS, sessions, parts.timers, start)
    return parts


def test_the_digest_posts_once_at_0830_local_and_rearms_for_tomorrow(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make(sessions, directory, berlin(2026, 12, 2, 9, 0))
    assert parts.timer().due_at == berlin(2026, 12, 3, 8, 30)
    assert parts.timer().ticket_id is None

    critical = parts.service.open_ticket(
        Actor(EMPLOYEE), title="Internet down", priority="critical"
    )
    closed = parts.service.open_ticket(Actor(EMPLOYEE), title="Printer jammed", priority="low")
    parts.service.assign(Actor(MANAGER), closed, TECHNICIAN)
    parts.service.resolve(Actor(TECHNICIAN), closed, "tested")
    parts.service.confirm(Actor(EMPLOYEE), closed)

    assert parts.move_to(berlin(2026, 12, 3, 8, 29)) == 0
    assert parts.move_to(berlin(2026, 12, 3, 8, 30)) == 1
    assert parts.move_to(berlin(2026, 12, 3, 8, 31)) == 0  # once
    [post] = parts.posts()
    assert post.ticket_id is None and post.payload["channel"] == "CTECHS"
    assert post.payload["text"] == (
        "Daily digest: 1 open ticket: 1 critical · 1 unassigned · 1 closed yesterday"
    )
    sections = [b["text"]["text"] for b in post.payload["blocks"] if b["type"] == "section"]
    assert sections[1:] == [
        f"*🔴 Critical (1)*\n• 🔴 *#{critical}* Internet down — _unassigned_, new",
        f"*🏁 Closed yesterday (1)*\n• ⚪ *#{closed}* Printer jammed — Tom Tech, closed",
    ]
    assert parts.timer().due_at == berlin(2026, 12, 4, 8, 30)
    assert parts.timer().state == "pending"


def test_the_next_digest_keeps_0830_across_the_spring_dst_change(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make(sessions, directory, berlin(2026, 3, 28, 8, 0))
    assert parts.timer().due_at == datetime(2026, 3, 28, 7, 30, tzinfo=UTC)  # CET
    assert parts.move_to(berlin(2026, 3, 28, 8, 30)) == 1
    assert parts.timer().due_at == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)  # CEST: 23 h later
    assert parts.move_to(berlin(2026, 3, 29, 8, 30)) == 1
    assert parts.timer().due_at == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


def test_after_three_days_down_one_digest_then_the_next_morning(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make(sessions, directory, berlin(2026, 12, 2, 9, 0))
    # Every process down from Wednesday to Sunday noon; a restart must not drop the overdue one.
    parts.clock.advance(berlin(2026, 12, 6, 12, 0) - parts.clock.now())
    digest.start(SETTINGS, sessions, parts.timers, parts.clock.now())
    assert parts.timer().due_at == berlin(2026, 12, 3, 8, 30)
    assert parts.runner.fire_due() == 1
    assert parts.runner.fire_due() == 0
    assert len(parts.posts()) == 1
    assert parts.timer().due_at == berlin(2026, 12, 7, 8, 30)


def test_a_new_time_rearms_and_off_stops_it(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make(sessions, directory, berlin(2026, 12, 2, 9, 0))
    later = Settings(timezone="Europe/Berlin", digest_at=time(7, 45))
    digest.start(later, sessions, parts.timers, parts.clock.now())
    assert parts.timer().due_at == berlin(2026, 12, 3, 7, 45)
    digest.start(Settings(digest_at=None), sessions, parts.timers, parts.clock.now())
    assert parts.timer().state == "cancelled"
    assert parts.move_to(berlin(2026, 12, 10, 9, 0)) == 0
    assert parts.posts() == []


def test_two_processes_starting_together_arm_one_digest(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make(sessions, directory, berlin(2026, 12, 2, 9, 0))
    digest.start(SETTINGS, sessions, parts.timers, parts.clock.now() + timedelta(seconds=1))
    with sessions() as s:
        assert len(s.scalars(select(Timer).where(Timer.kind == DIGEST)).all()) == 1
    assert parts.move_to(berlin(2026, 12, 3, 8, 30)) == 1
    other = TimerRunner(
        session_factory=sessions, timers=parts.timers, notifier=parts.notifier, clock=parts.clock
    )
    assert other.fire_due() == 0
    assert len(parts.posts()) == 1
