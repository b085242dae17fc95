"""App Home reads (each role, a fixed number of queries, the 30-day figures) and the refresh job
that queues Homes after ticket changes: who is queued, once, and nobody when nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.home.reader import HomeReader
from bot.home.refresh import HomeViewers
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.use_cases import TicketService
from storage.models import OutboxRow, tickets_table
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN, Statements
from tests.service.test_use_cases import _build_service

OTHER = "UOTHER"  # an employee with a Home who has no tickets


@pytest.fixture
def service(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> TicketService:
    return _build_service(sessions, directory, clock)


@pytest.fixture
def viewers(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> HomeViewers:
    return HomeViewers(
        sessions=sessions, directory=directory, writer=OutboxWriter(clock), clock=clock
    )


@pytest.fixture
def reader(sessions: sessionmaker[Session], directory: Directory, clock: ManualClock) -> HomeReader:
    return HomeReader(reads=sessions, directory=directory, clock=clock)


def queued(sessions: sessionmaker[Session]) -> list[str]:
    """Whose Homes wait to be published; then marks them sent, as the dispatcher would."""
    with sessions.begin() as s:
        rows = s.scalars(
            select(OutboxRow.stream).where(OutboxRow.kind == "home", OutboxRow.status == "pending")
        ).all()
        s.execute(update(OutboxRow).where(OutboxRow.kind == "home").values(status="done"))
    return sorted(r.removeprefix("home:") for r in rows)


def test_refresh_queues_the_homes_a_change_shows_and_nobody_when_nothing_changed(
    service: TicketService,
    viewers: HomeViewers,
    sessions: sessionmaker[Session],
    clock: ManualClock,
) -> None:
    for user in (MANAGER, TECHNICIAN, EMPLOYEE, OTHER):
        viewers.opened(user)
    assert queued(sessions) == sorted([MANAGER, TECHNICIAN, EMPLOYEE, OTHER])
    clock.advance(timedelta(minutes=1))

    ticket = service.open_ticket(Actor(EMPLOYEE), title="Printer jammed", priority="medium")
    viewers.refresh()
    assert queued(sessions) == sorted([MANAGER, EMPLOYEE])  # not critical, nobody's yet

    clock.advance(timedelta(minutes=1))
    viewers.refresh()
    assert queued(sessions) == []  # nothing changed since

    clock.advance(timedelta(minutes=1))
    service.assign(Actor(MANAGER), ticket, TECHNICIAN)
    viewers.refresh()
    assert queued(sessions) == sorted([MANAGER, TECHNICIAN, EMPLOYEE])

    clock.advance(timedelta(minutes=1))
    service.open_ticket(Actor(EMPLOYEE), title="Internet down", priority="critical")
    viewers.refresh()
    # Every technician sees the unassigned criticals.
    assert queued(sessions) == sorted([MANAGER, TECHNICIAN, EMPLOYEE])


def test_a_home_is_queued_once_however_often_it_is_asked_for(
    service: TicketService, viewers: HomeViewers, sessions: sessionmaker[Session]
) -> None:
    viewers.opened(MANAGER)
    viewers.show_page(MANAGER, 3)
    service.open_ticket(Actor(EMPLOYEE), title="Printer jammed")
    viewers.refresh()
    viewers.opened(MANAGER)
    assert queued(sessions) == [MANAGER]


def _insert(sessions: sessionmaker[Session], clock: ManualClock, count: int) -> None:
    now = clock.now()
    with sessions.begin() as s:
        s.execute(
            insert(tickets_table),
            [
                {
                    "title": f"T{i}",
                    "description": "",
                    "priority": ("critical", "high", "medium", "low")[i % 4],
                    "state": "new",
                    "source": "slack",
                    "client_unknown": False,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(count)
            ],
        )


def test_a_manager_home_costs_the_same_queries_for_5_or_50_tickets(
    reader: HomeReader,
    sessions: sessionmaker[Session],
    clock: ManualClock,
    statements: Statements,
) -> None:
    counts = []
    for count in (5, 45):
        _insert(sessions, clock, count)
        statements.clear()
        data = reader.read(MANAGER)
        counts.append(len(statements.sent))
    assert data.ticket_count == 50
    assert counts[0] == counts[1] <= 8


def test_a_home_cut_at_its_limit_keeps_the_oldest_open_tickets_and_says_how_many_are_left_out(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    _insert(sessions, clock, 10)  # T0…T9, every fourth critical and nobody assigned
    reader = HomeReader(reads=sessions, directory=directory, clock=clock, max_tickets=4)
    manager = reader.read(MANAGER)
    note, *sections = manager.sections
    assert (note.title, note.tickets) == ("6 newer open tickets are not listed", ())
    assert "lists the 4 oldest" in note.empty
    assert sorted(t.title for s in sections for t in s.tickets) == ["T0", "T1", "T2", "T3"]
    roomy = HomeReader(reads=sessions, directory=directory, clock=clock, max_tickets=10)
    assert "not listed" not in roomy.read(MANAGER).sections[0].title

    _insert(sessions, clock, 10)  # 6 unassigned criticals in all: T0, T4, T8 twice
    tech = HomeReader(reads=sessions, directory=directory, clock=clock, max_tickets=2)
    note, unassigned, *_ = tech.read(TECHNICIAN).sections
    assert note.title == "4 newer unassigned criticals are not listed"
    assert sorted(t.title for t in unassigned.tickets) == ["T0", "T4"]  # the first batch's


def test_figures_count_the_last_30_days(
    service: TicketService, reader: HomeReader, clock: ManualClock
) -> None:
    old = service.open_ticket(Actor(EMPLOYEE), title="Long ago")
    clock.advance(timedelta(days=40))
    service.assign(Actor(MANAGER), old, TECHNICIAN)
    ticket = service.open_ticket(Actor(EMPLOYEE), title="Printer jammed")
    clock.advance(timedelta(minutes=10))
    service.assign(Actor(MANAGER), ticket, TECHNICIAN)
    clock.advance(timedelta(minutes=50))
    service.start(Actor(TECHNICIAN), ticket)
    service.resolve(Actor(TECHNICIAN), ticket, "Printed a test page")

    figures = reader.read(MANAGER).figures
    assert figures is not None
    assert (figures.opened, figures.closed, figures.breaches) == (1, 0, 0)
    assert figures.mean_assign == timedelta(minutes=10)
    assert figures.mean_resolve == timedelta(hours=1)
    load = {t.person.slack_id: t.open for t in reader.read(MANAGER).load}
    assert load[TECHNICIAN] == 2


def test_each_role_reads_its_own_sections(service: TicketService, reader: HomeReader) -> None:
    mine = service.open_ticket(Actor(EMPLOYEE), title="Printer jammed", priority="low")
    critical = service.open_ticket(Actor(EMPLOYEE), title="Internet down", priority="critical")
    service.assign(Actor(MANAGER), mine, TECHNICIAN)

    tech = reader.read(TECHNICIAN)
    assert tech.role == "technician"
    assert [[t.id for t in s.tickets] for s in tech.sections] == [[critical], [mine], []]

    employee = reader.read(EMPLOYEE)
    assert employee.role == "employee"
    assert sorted(t.id for t in employee.sections[0].tickets) == [mine, critical]
    assert employee.figures is None and employee.load == ()

    manager = reader.read(MANAGER)
    assert [s.title.split(" ")[0] for s in manager.sections] == ["Critical", "Low"]
    assert reader.read(OTHER).ticket_count == 0
