"""SLA clocks and timers with a ManualClock: due times on business calendars (Friday evening, a
DST change, a client's holiday; critical 24/7), the 75 % warning and the breach with the exact DM
each party gets, and the clocks kept in step by assignment, priority changes, resolve and reopen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.sla import SlaTarget
from bot.domain.business_hours import calendar, parse_span
from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.sla import SlaPolicy
from bot.service.timers import sla as sla_timers
from bot.service.timers.escalation import EscalationPolicy, kinds
from bot.service.timers.runner import TimerRunner
from bot.service.timers.schedule import Timers
from bot.service.use_cases import TicketService
from storage.models import (
    AlertStorm,
    AlertStormTicket,
    Client,
    ClientDomain,
    ClientHoliday,
    OutboxRow,
    Ticket,
    TicketEvent,
)
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def targets(**given: str) -> dict[str, SlaTarget]:
    texts = {"critical": "15m/4h", "high": "1h/8h", "medium": "4h/3d", "low": "1d/10d"} | given
    return {
        p: SlaTarget(parse_span(t.split("/")[0]), parse_span(t.split("/")[1]))
        for p, t in texts.items()
    }


class Parts:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        directory: Directory,
        clock: ManualClock,
        policy: SlaPolicy,
    ) -> None:
        settings = NotifySettings(
            tech_channel="CTECHS", critical_mention="<!here>", email_domain="msp.example"
        )
        self.sessions, self.clock, self.policy = sessions, clock, policy
        self.notifier = Notifier(settings, directory, OutboxWriter(clock))
        # No escalation timers: they would fire beside the SLA timers.
        off = timedelta(0)
        escalation = EscalationPolicy(
            reping_after=timedelta(days=365),
            remind_after=dict.fromkeys(("critical", "high", "medium", "low"), off),
            confirm_remind_after=off,
            auto_close_after=off,
        )
        self.timers = Timers.of([*kinds(escalation), *sla_timers.kinds(policy)])
        self.service = TicketService(
            session_factory=sessions,
            directory=directory,
            notifier=self.notifier,
            clock=clock,
            timers=self.timers,
            sla=policy,
        )
        self.runner = TimerRunner(
            session_factory=sessions, timers=self.timers, notifier=self.notifier, clock=clock
        )

    def open(self, priority: str = "high") -> int:
        return self.service.open_ticket(Actor(EMPLOYEE), title="Printer jammed", priority=priority)

    def ticket(self, ticket_id: int) -> Ticket:
        with self.sessions() as s:
            ticket = s.get(Ticket, ticket_id)
            assert ticket is not None
            s.expunge(ticket)
            return ticket

    def mark(self) -> int:
        with self.sessions() as s:
            return max(s.scalars(select(OutboxRow.id)).all(), default=0)

    def outbox_after(self, mark: int) -> list[OutboxRow]:
        with self.sessions() as s:
            return list(s.scalars(select(OutboxRow).where(OutboxRow.id > mark).order_by("id")))

    def dms(self, mark: int) -> list[tuple[str, str]]:
        return [
            (r.stream.removeprefix("slack-dm:"), r.payload["text"])
            for r in self.outbox_after(mark)
            if r.stream.startswith("slack-dm:")
        ]

    def cards(self, mark: int) -> list[OutboxRow]:
        return [r for r in self.outbox_after(mark) if r.kind == "card"]

    def events(self, ticket_id: int, kind: str) -> list[str]:
        with self.sessions() as s:
            query = select(TicketEvent.text).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind
            )
            return list(s.scalars(query.order_by(TicketEvent.id)))

    def add_client(self, *, holidays: tuple[date, ...] = (), hours: str | None = None) -> None:
        with self.sessions.begin() as s:
            client = Client(
                name="Acme",
                contact_email="it@acme.example",
                timezone="Europe/Berlin",
                hours=hours,
                created_at=self.clock.now(),
            )
            client.domains = [ClientDomain(domain="acme.example")]
            client.holidays = [ClientHoliday(day=d) for d in holidays]
            s.add(client)


def make_parts(
    sessions: sessionmaker[Session],
    directory: Directory,
    start: datetime,
    **given: str,
) -> Parts:
    policy = SlaPolicy(
        targets=targets(**given), default=calendar("Europe/Berlin", "Mon-Fri 08:00-18:00")
    )
    return Parts(sessions, directory, ManualClock(start), policy)


def at(parts: Parts, when: datetime) -> int:
    """Move the clock to `when` and fire what is due; how many fired."""
    parts.clock.advance(when - parts.clock.now())
    return parts.runner.fire_due()


def _link(ticket_id: int) -> str:
    return f"*#{ticket_id}* Printer jammed"


def test_friday_1759_plus_two_business_minutes_breaches_monday_0801(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 4, 17, 59), high="2m/8h")
    ticket_id = parts.open()
    ticket = parts.ticket(ticket_id)
    assert ticket.response_due_at == berlin(2026, 12, 7, 8, 1)
    # 8 business hours: 1 minute on Friday, 7 h 59 min on Monday.
    assert ticket.resolve_due_at == berlin(2026, 12, 7, 15, 59)

    # 75 % of two business minutes: 1 min 30 s, i.e. Monday 08:00:30. Nothing over the weekend.
    assert at(parts, berlin(2026, 12, 7, 7, 59)) == 0
    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 7, 8, 0, 30)) == 1
    due = "<!date^1796626860^{date_short_pretty} at {time}|Mon 7 Dec 08:01 CET>"
    unassigned = " Nobody is assigned: assign it from its card in the technician channel."
    assert parts.dms(mark) == [
        (
            MANAGER,
            f"🟠 SLA warning: {_link(ticket_id)} — first response is due {due} "
            f"(75 % of its 2m target used).{unassigned}",
        )
    ]
    assert len(parts.cards(mark)) == 1  # the card turns amber
    assert parts.ticket(ticket_id).response_warned_at == berlin(2026, 12, 7, 8, 0, 30)

    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 7, 8, 0, 59)) == 0
    assert at(parts, berlin(2026, 12, 7, 8, 1)) == 1
    assert parts.dms(mark) == [
        (
            MANAGER,
            f"🔴 SLA breached: {_link(ticket_id)} — first response was due {due} "
            f"(2m target).{unassigned}",
        )
    ]
    assert len(parts.cards(mark)) == 1  # the card turns red
    assert parts.ticket(ticket_id).response_breached_at == berlin(2026, 12, 7, 8, 1)
    assert parts.events(ticket_id, "sla_warning") == ["75 % of the first response SLA (2m) used"]
    assert parts.events(ticket_id, "sla_breach") == [
        "first response SLA breached: due Mon 7 Dec 08:01 CET (2m target)"
    ]
    # Fired once: nothing more, however long the wait.
    assert at(parts, berlin(2026, 12, 7, 15, 0)) == 1  # only the resolution warning
    assert parts.events(ticket_id, "sla_breach") == [
        "first response SLA breached: due Mon 7 Dec 08:01 CET (2m target)"
    ]


def test_a_dst_change_moves_the_due_time_in_utc(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    # Friday 27 March 2026 17:00 CET; the clocks go forward on Sunday 29 March.
    parts = make_parts(sessions, directory, berlin(2026, 3, 27, 17, 0))
    ticket_id = parts.open(priority="medium")  # 4h/3d
    ticket = parts.ticket(ticket_id)
    # One business hour on Friday, three on Monday: 11:00 CEST, 09:00 UTC (not 10:00 UTC).
    assert ticket.response_due_at == berlin(2026, 3, 30, 11, 0)
    assert ticket.response_due_at == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    # Three business days: Friday 17:00 + 3 → Wednesday 1 April 17:00 CEST.
    assert ticket.resolve_due_at == berlin(2026, 4, 1, 17, 0)

    assert at(parts, berlin(2026, 3, 30, 9, 59)) == 0
    mark = parts.mark()
    assert at(parts, berlin(2026, 3, 30, 10, 0)) == 1  # 3 h of 4: the warning
    due = "<!date^1774861200^{date_short_pretty} at {time}|Mon 30 Mar 11:00 CEST>"
    assert parts.dms(mark) == [
        (
            MANAGER,
            f"🟠 SLA warning: {_link(ticket_id)} — first response is due {due} "
            "(75 % of its 4h target used). Nobody is assigned: assign it from its card in the "
            "technician channel.",
        )
    ]


def test_a_client_holiday_stops_the_clock(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 24, 17, 30))
    parts.add_client(holidays=(date(2026, 12, 25),))
    ticket_id = parts.open()  # high: 1h/8h, on Acme's calendar
    ticket = parts.ticket(ticket_id)
    assert ticket.client_id is not None
    # Thursday 24th: 30 minutes; Friday 25th is Acme's holiday; Monday 28th: the other 30.
    assert ticket.response_due_at == berlin(2026, 12, 28, 8, 30)
    assert ticket.resolve_due_at == berlin(2026, 12, 28, 15, 30)
    assert at(parts, berlin(2026, 12, 25, 23, 0)) == 0
    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 28, 8, 15)) == 1  # the warning, 45 business minutes in
    assert parts.dms(mark) == [
        (
            MANAGER,
            f"🟠 SLA warning: {_link(ticket_id)} — first response is due "
            "<!date^1798443000^{date_short_pretty} at {time}|Mon 28 Dec 08:30 CET> "
            "(75 % of its 1h target used). Nobody is assigned: assign it from its card in the "
            "technician channel.",
        )
    ]


def test_client_hours_and_the_msp_default(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 12, 30))
    parts.add_client(hours="Mon-Fri 08:00-12:00,13:00-17:00")
    ticket_id = parts.open()  # Acme's lunch break does not count
    assert parts.ticket(ticket_id).response_due_at == berlin(2026, 12, 7, 14, 0)


def test_critical_runs_around_the_clock(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 4, 17, 59))
    ticket_id = parts.open(priority="critical")
    ticket = parts.ticket(ticket_id)
    assert ticket.response_due_at == berlin(2026, 12, 4, 18, 14)
    assert ticket.resolve_due_at == berlin(2026, 12, 4, 21, 59)
    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 4, 18, 14)) == 2  # warning (overdue) is moot: breach only
    texts = [text for _, text in parts.dms(mark)]
    assert texts == [
        f"🔴 SLA breached: {_link(ticket_id)} — first response was due "
        "<!date^1796404440^{date_short_pretty} at {time}|Fri 4 Dec 18:14 CET> (15m target). "
        "Nobody is assigned: assign it from its card in the technician channel."
    ]


def test_assignment_is_the_first_response_and_the_assignee_gets_the_warnings(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 9, 0))
    ticket_id = parts.open()  # high: 1h/8h
    parts.clock.advance(timedelta(minutes=20))
    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    ticket = parts.ticket(ticket_id)
    assert ticket.responded_at == berlin(2026, 12, 7, 9, 20)
    assert at(parts, berlin(2026, 12, 7, 10, 0)) == 0  # no response timers any more
    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 7, 15, 0)) == 1  # 6 of 8 business hours
    assert parts.dms(mark) == [
        (
            TECHNICIAN,
            f"🟠 SLA warning: {_link(ticket_id)} — resolution is due "
            "<!date^1796659200^{date_short_pretty} at {time}|Mon 7 Dec 17:00 CET> "
            "(75 % of its 8h target used).",
        )
    ]


def test_a_priority_change_recomputes_from_the_opening(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 9, 0))
    ticket_id = parts.open(priority="low")  # 1d/10d
    assert parts.ticket(ticket_id).response_due_at == berlin(2026, 12, 8, 9, 0)
    parts.clock.advance(timedelta(minutes=30))
    parts.service.change_priority(Actor(TECHNICIAN), ticket_id, "high")
    ticket = parts.ticket(ticket_id)
    assert ticket.resolve_due_at == berlin(2026, 12, 7, 17, 0)
    # A technician's priority change is their attention: the first response.
    assert ticket.responded_at == berlin(2026, 12, 7, 9, 30)


def test_resolve_stops_the_resolution_clock_and_reopen_moves_it_on(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 9, 0))
    ticket_id = parts.open()  # resolve due 17:00
    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    parts.clock.advance(timedelta(hours=1))
    parts.service.resolve(Actor(TECHNICIAN), ticket_id, "printer tested")
    assert at(parts, berlin(2026, 12, 8, 12, 0)) == 0  # awaiting confirmation: no breach
    parts.service.reopen(Actor(EMPLOYEE), ticket_id, "jammed again")
    # Stopped from Monday 10:00 to Tuesday 12:00 (12 business hours): the 7 hours left at the
    # resolve run from the reopen (6 on Tuesday, 1 on Wednesday).
    assert parts.ticket(ticket_id).resolve_due_at == berlin(2026, 12, 9, 9, 0)
    mark = parts.mark()
    # The warning (due Tuesday 14:00, 75 % from the opening) unfired: moot at the breach.
    assert at(parts, berlin(2026, 12, 9, 9, 0)) == 2
    assert [text[:14] for _, text in parts.dms(mark)][-1] == "🔴 SLA breached"


@pytest.mark.parametrize("priority", ["high", "critical"])
def test_a_closed_ticket_has_no_sla_timers_left(
    sessions: sessionmaker[Session], directory: Directory, priority: str
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 9, 0))
    ticket_id = parts.open(priority=priority)
    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    parts.service.resolve(Actor(TECHNICIAN), ticket_id, "printer tested")
    parts.service.confirm(Actor(EMPLOYEE), ticket_id)
    assert at(parts, berlin(2026, 12, 20, 9, 0)) == 0
    assert parts.events(ticket_id, "sla_breach") == parts.events(ticket_id, "sla_warning") == []


def test_a_ticket_of_an_alert_storm_breaches_without_dms_of_its_own(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    parts = make_parts(sessions, directory, berlin(2026, 12, 7, 9, 0))
    ticket_id = parts.open(priority="critical")
    now = parts.clock.now()
    with sessions.begin() as s:
        storm = AlertStorm(channel="CTECHS", started_at=now, last_ticket_at=now, ticket_count=12)
        s.add(storm)
        s.flush()
        s.add(AlertStormTicket(storm_id=storm.id, ticket_id=ticket_id, added_at=now))
    mark = parts.mark()
    assert at(parts, berlin(2026, 12, 7, 9, 15)) == 2  # the warning (moot) and the breach
    assert parts.dms(mark) == []
    assert len(parts.cards(mark)) == 1
    assert parts.events(ticket_id, "sla_breach") == [
        "first response SLA breached: due Mon 7 Dec 09:15 CET (15m target)"
    ]
