"""TicketService saving a ticket: one Core UPDATE guarded by the version the ticket was read at.

`_save` writes a ticket whose own columns changed (start, change_priority, request_help,
resolve, …); a change of a relationship (offer_help's helpers) is left to the ORM's flush. Both
carry the version check, and `_run` retries a lost race twice before letting StaleDataError out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.use_cases import TicketService
from bot.service.views import timeline
from storage.engine import make_engine
from storage.models import OutboxRow, Person, Ticket, TicketEvent, tickets_table
from tests.fakes import EMPLOYEE, MANAGER, Statements, StaticUsers

Change = Callable[[TicketService, int], None]


def _build_service(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> TicketService:
    settings = NotifySettings(tech_channel="CTECHS", critical_mention="<!here>", email_domain=None)
    notifier = Notifier(settings, directory, OutboxWriter(clock))
    return TicketService(
        session_factory=sessions, directory=directory, notifier=notifier, clock=clock
    )


@pytest.fixture
def service(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> TicketService:
    return _build_service(sessions, directory, clock)


def _open(service: TicketService) -> int:
    return service.open_ticket(Actor(EMPLOYEE), title="Printer jammed", description="Tray 2")


def _ticket(sessions: sessionmaker[Session], ticket_id: int) -> Ticket:
    with sessions() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def _written(sessions: sessionmaker[Session], ticket_id: int) -> tuple[list[str], int]:
    """The ticket's timeline kinds and how many outbox rows it has."""
    with sessions() as s:
        kinds = s.scalars(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.id)
        ).all()
        rows = s.scalar(select(func.count()).where(OutboxRow.ticket_id == ticket_id))
        return list(kinds), int(rows or 0)


# ---- a save that wins ----------------------------------------------------------------------
def test_save_bumps_the_version_by_one_and_persists_the_changed_columns(
    service: TicketService,
    sessions: sessionmaker[Session],
    clock: ManualClock,
    statements: Statements,
) -> None:
    ticket_id = _open(service)
    opened = _ticket(sessions, ticket_id)
    assert opened.version == 1

    clock.advance(timedelta(minutes=3))
    statements.clear()
    service.change_priority(Actor(MANAGER), ticket_id, "high")
    # On PostgreSQL the UPDATE is one part of the write batch's single statement.
    updates = [s for s in statements.sent if re.search(r"\bUPDATE tickets SET\b", s)]
    assert len(updates) == 1

    saved = _ticket(sessions, ticket_id)
    assert (saved.priority, saved.updated_at, saved.version) == ("high", clock.now(), 2)
    unchanged = ("title", "description", "state", "created_at", "submitter_id", "client_id")
    assert {k: getattr(saved, k) for k in unchanged} == {k: getattr(opened, k) for k in unchanged}

    clock.advance(timedelta(minutes=1))
    service.request_help(Actor(MANAGER), ticket_id)
    again = _ticket(sessions, ticket_id)
    assert (again.priority, again.updated_at, again.version) == ("high", clock.now(), 3)
    assert _written(sessions, ticket_id)[0] == ["created", "priority", "help_requested"]


# ---- a save that lost a race (PostgreSQL: SQLite has one writer at a time) -----------------
class Rival:
    """Another session that renames the ticket and commits just before our UPDATE of it.

    Only on PostgreSQL can another writer get in between: on SQLite the use-case reads the
    ticket inside its BEGIN IMMEDIATE transaction, so a rival would wait for it to end.
    """

    def __init__(self, engine: Engine, url: str, ticket_id: int, *, times: int) -> None:
        self._other = make_engine(url)  # a pool of its own: a different session and connection
        self._ticket_id = ticket_id
        self._times = times
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if self.commits == self._times:
            return
        if not re.search(r"\bUPDATE tickets SET\b", statement):  # alone or in the write batch
            return
        self.commits += 1
        with self._other.begin() as conn:
            conn.execute(
                update(tickets_table)
                .where(tickets_table.c.id == self._ticket_id)
                .values(title=f"renamed {self.commits}", version=tickets_table.c.version + 1)
            )

    def close(self) -> None:
        self._other.dispose()


@pytest.fixture
def pg_service(
    pg_sessions: sessionmaker[Session], users: StaticUsers, clock: ManualClock
) -> TicketService:
    directory = Directory(lookup=users, clock=clock, managers=[MANAGER])
    return _build_service(pg_sessions, directory, clock)


def _raise_to_high(service: TicketService, ticket_id: int) -> None:
    service.change_priority(Actor(MANAGER), ticket_id, "high")  # saved by _save's Core UPDATE


def _offer_help(service: TicketService, ticket_id: int) -> None:
    service.offer_help(Actor(MANAGER), ticket_id)  # a new helper row: saved by the ORM's flush


def _applied(sessions: sessionmaker[Session], ticket_id: int, change: Change) -> bool:
    ticket = _ticket(sessions, ticket_id)
    if change is _raise_to_high:
        return ticket.priority == "high"
    return [h.person.name for h in ticket.helpers] == ["Maya Manager"]


CHANGES = [
    pytest.param(_raise_to_high, id="core-update"),
    pytest.param(_offer_help, id="orm-flush"),
]


@pytest.mark.parametrize("change", CHANGES)
def test_change_that_lost_a_race_is_retried_and_applied_once(
    change: Change,
    pg_service: TicketService,
    pg_sessions: sessionmaker[Session],
    pg_engine: Engine,
    pg_url: str,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The same change on a ticket nobody else touches: what the user should end up with.
    calm = _open(pg_service)
    clock.advance(timedelta(minutes=1))
    change(pg_service, calm)
    expected_kinds, expected_rows = _written(pg_sessions, calm)

    raced = _open(pg_service)
    clock.advance(timedelta(minutes=1))
    rival = Rival(pg_engine, pg_url, raced, times=1)
    try:
        with caplog.at_level(logging.INFO, logger="bot.service.unit_of_work"):
            change(pg_service, raced)
    finally:
        rival.close()

    assert rival.commits == 1
    assert "optimistic lock race; retrying (attempt 2)" in caplog.messages
    ticket = _ticket(pg_sessions, raced)
    assert _applied(pg_sessions, raced, change)
    assert ticket.title == "renamed 1"  # the rival's change is not overwritten
    assert ticket.version == 3  # 1 at open, 2 by the rival, 3 by the retried change
    assert _written(pg_sessions, raced) == (expected_kinds, expected_rows)


@pytest.mark.parametrize("change", CHANGES)
def test_change_that_keeps_losing_raises_stale_data_and_writes_nothing(
    change: Change,
    pg_service: TicketService,
    pg_sessions: sessionmaker[Session],
    pg_engine: Engine,
    pg_url: str,
    clock: ManualClock,
) -> None:
    ticket_id = _open(pg_service)
    before = _written(pg_sessions, ticket_id)
    clock.advance(timedelta(minutes=1))
    rival = Rival(pg_engine, pg_url, ticket_id, times=10)
    try:
        with pytest.raises(StaleDataError):
            change(pg_service, ticket_id)
    finally:
        rival.close()

    assert rival.commits == 3  # the first attempt and two retries, no more
    ticket = _ticket(pg_sessions, ticket_id)
    assert not _applied(pg_sessions, ticket_id, change)
    assert (ticket.title, ticket.version) == ("renamed 3", 4)
    assert _written(pg_sessions, ticket_id) == before


# ---- timeline rows go in the write batch ---------------------------------------------------
def test_a_timeline_row_by_a_person_added_in_the_same_transaction_carries_their_id(
    service: TicketService, sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    ticket_id = _open(service)
    with sessions.begin() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        newcomer = Person(slack_user_id="UNEW", name="Nora New", refreshed_at=clock.now())
        s.add(newcomer)  # not flushed yet: no id until the timeline row needs one
        service._record(s, ticket, newcomer, "update", "hello", "slack")
    with sessions() as s:
        row = s.scalars(select(TicketEvent).where(TicketEvent.kind == "update")).one()
        actor = s.get(Person, row.actor_id)
        assert actor is not None and actor.slack_user_id == "UNEW"


# ---- the timeline a client sees ------------------------------------------------------------
def test_edit_rows_stored_before_they_carried_their_source_follow_their_original(
    service: TicketService, sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    """Edits used to be stored as plain "edited" rows naming only their original (`of`): an edit of
    an internal note must not show a client what the note says now."""
    ticket_id = _open(service)

    def row(kind: str, text: str, **fields: object) -> TicketEvent:
        return TicketEvent(
            ticket_id=ticket_id,
            at=clock.now(),
            actor_label="Tom Tech",
            kind=kind,
            surface="slack",
            text=text,
            **fields,
        )

    with sessions.begin() as s:
        note = row(
            "internal_note",
            "internal: the admin password is on the sticky note",
            data={},
            source_channel="CTECHS",
            source_ts="1.000100",
        )
        update = row(
            "update", "Replacing the switch", data={}, source_channel="CTECHS", source_ts="1.000200"
        )
        s.add_all([note, update])
        s.flush()
        for original, text in ((note, "internal: password rotated"), (update, "Switch replaced")):
            s.add(row("edited", text, data={"of": original.id}))
    with sessions() as s:
        shown = {e.text: e.internal for e in timeline(s, ticket_id) if e.actor == "Tom Tech"}
    assert shown == {
        "internal: the admin password is on the sticky note": True,
        "internal: password rotated": True,
        "Replacing the switch": False,
        "Switch replaced": False,
    }
