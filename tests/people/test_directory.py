"""Directory: people remembered between requests, forgotten when written; a new ticket's client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.app.clients import ClientSpec, add_client
from bot.domain.clock import ManualClock
from bot.people.directory import Directory
from bot.people.identity import SlackUser
from bot.people.remembered import REMEMBER_PEOPLE_FOR
from storage.models import Client, Person
from tests.fakes import EMPLOYEE, Statements, StaticUsers

ERIN = SlackUser(EMPLOYEE, "Erin Employee", "erin@acme.example")


class Rollback(Exception):
    """Raised inside a transaction to end it with a rollback."""


def _add_client(
    sessions: sessionmaker[Session],
    clock: ManualClock,
    name: str,
    domain: str,
    *,
    channel: str | None = None,
) -> int:
    """Add a client as `ticketbot clients add` does; returns its id."""
    spec = ClientSpec(
        name=name, domains=[domain], contact_email=f"boss@{domain}", slack_channel=channel
    )
    with sessions.begin() as s:
        add_client(s, spec, clock.now())
    with sessions() as s:
        return s.scalars(select(Client.id).where(Client.name == name)).one()


def _stored_client_id(sessions: sessionmaker[Session], slack_id: str) -> int | None:
    """The person's client as committed in the database."""
    with sessions() as s:
        return s.scalars(select(Person.client_id).where(Person.slack_user_id == slack_id)).one()


def _seed(sessions: sessionmaker[Session], directory: Directory, info: SlackUser = ERIN) -> None:
    """The person's row, as the first request from them writes it."""
    with sessions.begin() as s:
        directory.person(s, info.id, info)


def _look_up(sessions: sessionmaker[Session], directory: Directory, slack_id: str) -> Person:
    """person() in a request of its own (a new session), as every use-case does."""
    with sessions.begin() as s:
        return directory.person(s, slack_id)


# ---- remembered between requests -----------------------------------------------------------
def test_person_read_once_is_not_selected_again_in_a_new_session(
    sessions: sessionmaker[Session], directory: Directory, statements: Statements
) -> None:
    _seed(sessions, directory)
    statements.clear()
    first = _look_up(sessions, directory, EMPLOYEE)
    assert len(statements.selects_from("people")) == 1

    statements.clear()
    with sessions.begin() as s:
        again = directory.person(s, EMPLOYEE)
        # A Person of this session as if loaded: usable without another query.
        assert inspect(again).persistent
        assert s.get(Person, again.id) is again
        assert (again.id, again.name, again.email) == (first.id, ERIN.name, ERIN.email)
        assert again.refreshed_at == first.refreshed_at
    assert statements.selects_from("people") == []


def test_person_is_read_again_once_remembered_too_long(
    sessions: sessionmaker[Session],
    directory: Directory,
    statements: Statements,
    clock: ManualClock,
) -> None:
    _seed(sessions, directory)
    _look_up(sessions, directory, EMPLOYEE)
    # Another process renames her: this process does not see it while it remembers the row.
    with sessions.begin() as s:
        s.execute(
            update(Person).where(Person.slack_user_id == EMPLOYEE).values(name="Erin Renamed")
        )

    clock.advance(REMEMBER_PEOPLE_FOR)
    statements.clear()
    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Employee"
    assert statements.selects_from("people") == []

    clock.advance(timedelta(seconds=1))
    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Renamed"
    assert len(statements.selects_from("people")) == 1

    statements.clear()  # the row just read is remembered in turn
    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Renamed"
    assert statements.selects_from("people") == []


# ---- changes are seen, rollbacks are not remembered ----------------------------------------
def test_person_changed_from_slack_info_is_seen_by_the_next_lookup(
    sessions: sessionmaker[Session], directory: Directory
) -> None:
    _seed(sessions, directory)
    _look_up(sessions, directory, EMPLOYEE)
    with sessions.begin() as s:
        directory.person(s, EMPLOYEE, SlackUser(EMPLOYEE, "Erin Married", "erin@acme.example"))

    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Married"
    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Married"  # remembered


def test_client_assigned_from_the_email_domain_is_seen_by_the_next_lookup(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    _seed(sessions, directory)  # before Acme is a client: no client yet
    assert _look_up(sessions, directory, EMPLOYEE).client_id is None
    acme = _add_client(sessions, clock, "Acme Corp", "acme.example")

    with sessions.begin() as s:
        erin = directory.person(s, EMPLOYEE)  # the remembered row, client_id None
        client = directory.client_for_ticket(s, erin, None)
        assert client is not None and client.id == acme

    assert _look_up(sessions, directory, EMPLOYEE).client_id == acme
    assert _stored_client_id(sessions, EMPLOYEE) == acme  # written, not only remembered


def test_person_change_rolled_back_is_not_remembered(
    sessions: sessionmaker[Session], directory: Directory, statements: Statements
) -> None:
    _seed(sessions, directory)
    _look_up(sessions, directory, EMPLOYEE)
    with pytest.raises(Rollback), sessions.begin() as s:
        directory.person(s, EMPLOYEE, SlackUser(EMPLOYEE, "Erin Typo", "typo@acme.example"))
        # Read back in the writing session (a second person() call in one use-case).
        assert directory.person(s, EMPLOYEE).name == "Erin Typo"
        raise Rollback

    erin = _look_up(sessions, directory, EMPLOYEE)
    assert (erin.name, erin.email) == ("Erin Employee", "erin@acme.example")
    statements.clear()
    assert _look_up(sessions, directory, EMPLOYEE).name == "Erin Employee"
    assert statements.selects_from("people") == []


def test_client_assignment_rolled_back_is_not_remembered(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    _seed(sessions, directory)
    _look_up(sessions, directory, EMPLOYEE)
    _add_client(sessions, clock, "Acme Corp", "acme.example")
    with pytest.raises(Rollback), sessions.begin() as s:
        erin = directory.person(s, EMPLOYEE)
        assert directory.client_for_ticket(s, erin, None) is not None
        assert erin.client_id is not None
        assert directory.person(s, EMPLOYEE).client_id == erin.client_id
        raise Rollback

    assert _look_up(sessions, directory, EMPLOYEE).client_id is None
    assert _look_up(sessions, directory, EMPLOYEE).client_id is None


# ---- the client of a new ticket ------------------------------------------------------------
@pytest.fixture
def clients(sessions: sessionmaker[Session], clock: ManualClock) -> dict[str, int]:
    """Three clients: two with a help channel and a domain, one with a domain only."""
    return {
        "Acme": _add_client(sessions, clock, "Acme", "acme.example", channel="CACME"),
        "Bolt": _add_client(sessions, clock, "Bolt", "bolt.example", channel="CBOLT"),
        "Cogs": _add_client(sessions, clock, "Cogs", "cogs.example"),
    }


def _person(
    sessions: sessionmaker[Session],
    directory: Directory,
    slack_id: str,
    email: str | None,
    client_id: int | None = None,
) -> None:
    _seed(sessions, directory, SlackUser(slack_id, slack_id, email))
    with sessions.begin() as s:
        s.execute(
            update(Person).where(Person.slack_user_id == slack_id).values(client_id=client_id)
        )


def _client_for_ticket(
    sessions: sessionmaker[Session], directory: Directory, slack_id: str, channel: str | None
) -> tuple[str | None, int | None]:
    """The new ticket's client name, and the person's client afterwards (committed)."""
    with sessions.begin() as s:
        person = directory.person(s, slack_id)
        client = directory.client_for_ticket(s, person, channel)
        name = client.name if client is not None else None
    return name, _stored_client_id(sessions, slack_id)


def test_client_for_ticket_prefers_the_channels_client(
    sessions: sessionmaker[Session], directory: Directory, clients: dict[str, int]
) -> None:
    # Her own client is Cogs and her email is at Bolt; she writes in Acme's channel.
    _person(sessions, directory, "UPAT", "pat@bolt.example", clients["Cogs"])
    assert _client_for_ticket(sessions, directory, "UPAT", "CACME") == ("Acme", clients["Cogs"])


def test_client_for_ticket_falls_back_to_the_persons_client(
    sessions: sessionmaker[Session], directory: Directory, clients: dict[str, int]
) -> None:
    _person(sessions, directory, "UPAT", "pat@bolt.example", clients["Cogs"])
    assert _client_for_ticket(sessions, directory, "UPAT", None) == ("Cogs", clients["Cogs"])
    # A channel that is no client's counts as no channel.
    assert _client_for_ticket(sessions, directory, "UPAT", "CGENERAL") == ("Cogs", clients["Cogs"])


def test_client_for_ticket_falls_back_to_the_email_domain_and_keeps_it(
    sessions: sessionmaker[Session], directory: Directory, clients: dict[str, int]
) -> None:
    _person(sessions, directory, "UPAT", "Pat@Bolt.Example")
    assert _client_for_ticket(sessions, directory, "UPAT", "CGENERAL") == ("Bolt", clients["Bolt"])
    assert _look_up(sessions, directory, "UPAT").client_id == clients["Bolt"]


def test_client_for_ticket_is_none_without_a_match(
    sessions: sessionmaker[Session], directory: Directory, clients: dict[str, int]
) -> None:
    _person(sessions, directory, "UOSCAR", "oscar@elsewhere.example")
    _person(sessions, directory, "UNOMAIL", None)
    assert _client_for_ticket(sessions, directory, "UOSCAR", None) == (None, None)
    assert _client_for_ticket(sessions, directory, "UOSCAR", "CGENERAL") == (None, None)
    assert _client_for_ticket(sessions, directory, "UNOMAIL", None) == (None, None)
    assert _client_for_ticket(sessions, directory, "UNOMAIL", "CGENERAL") == (None, None)


def test_change_in_flight_is_not_remembered_and_the_old_row_is_forgotten_at_commit(
    pg_sessions: sessionmaker[Session], users: StaticUsers, clock: ManualClock
) -> None:
    # PostgreSQL only: on SQLite every transaction of a process waits for the one before it.
    directory = Directory(lookup=users, clock=clock, managers=[])
    _seed(pg_sessions, directory)
    with pg_sessions.begin() as writing:
        directory.person(writing, EMPLOYEE, SlackUser(EMPLOYEE, "Erin Married", ERIN.email))
        # Read back in the writing session: its uncommitted row must not be remembered.
        assert directory.person(writing, EMPLOYEE).name == "Erin Married"
        # Another request sees (and remembers) the committed row meanwhile.
        assert _look_up(pg_sessions, directory, EMPLOYEE).name == "Erin Employee"

    assert _look_up(pg_sessions, directory, EMPLOYEE).name == "Erin Married"
