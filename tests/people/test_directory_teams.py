"""One person across Slack, Teams and email; roles named by Slack id, Entra object id or email."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.domain.tickets import Role
from bot.people.directory import Directory
from bot.people.identity import SlackUser, TeamsUser
from storage.models import Person, Ticket
from tests.fakes import StaticUsers

TOM_AAD = "2e165c64-a15e-49f0-8952-0bcd6ceeb9a7"
MAYA_AAD = "7dde77eb-e2e2-4d3a-94ba-20e90b1d2cf6"
TOM_SLACK = SlackUser("UTOM", "Tom Tech", "tom@msp.example")
TOM_TEAMS = TeamsUser(TOM_AAD, "29:tom", "Tom T.", "Tom@MSP.example")


def _directory(clock: ManualClock, managers: tuple[str, ...] = ()) -> Directory:
    return Directory(lookup=StaticUsers(), clock=clock, managers=managers, tech_channel="CTECHS")


def _people(sessions: sessionmaker[Session]) -> list[Person]:
    with sessions() as s:
        return list(s.scalars(select(Person).order_by(Person.id)))


def _ticket() -> Ticket:
    return Ticket(id=1, client=None, helpers=[], submitter_id=None, assignee_id=None)


@pytest.mark.parametrize("first", ["slack", "teams"])
def test_the_same_email_in_slack_and_teams_is_one_person(
    sessions: sessionmaker[Session], clock: ManualClock, first: str
) -> None:
    d = _directory(clock)
    order = [("UTOM", TOM_SLACK), (TOM_TEAMS.key, TOM_TEAMS)]
    if first == "teams":
        order.reverse()
    for key, info in order:
        with sessions.begin() as s:
            d.person(s, key, info)

    people = _people(sessions)
    assert len(people) == 1
    assert (people[0].slack_user_id, people[0].teams_aad_id) == ("UTOM", TOM_AAD)
    assert people[0].teams_user_id == "29:tom"
    with sessions() as s:
        assert d.find(s, "UTOM").id == d.find(s, TOM_TEAMS.key).id  # type: ignore[union-attr]


def test_different_emails_stay_different_people(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    d = _directory(clock)
    with sessions.begin() as s:
        d.person(s, "UTOM", TOM_SLACK)
        d.person(s, "teams:aaaa", TeamsUser("aaaa", "29:x", "Someone", "someone@msp.example"))
    assert len(_people(sessions)) == 2


@pytest.mark.parametrize(
    "managers", [("UTOM",), (TOM_AAD.upper(),), ("TOM@msp.example",)], ids=["slack", "aad", "email"]
)
def test_a_manager_is_named_by_slack_id_object_id_or_email(
    sessions: sessionmaker[Session], clock: ManualClock, managers: tuple[str, ...]
) -> None:
    from bot.config.settings import Settings

    # As the settings give them: object ids and emails lower-cased.
    configured = Settings.from_mapping(
        {"TICKETBOT_MANAGERS": ",".join(managers)}, require_slack=False
    ).managers
    d = _directory(clock, configured)
    with sessions.begin() as s:
        tom = d.person(s, "UTOM", TOM_SLACK)
        d.person(s, TOM_TEAMS.key, TOM_TEAMS)
        roles = d.roles(tom, _ticket())
        d.load_roles(s)
    assert Role.MANAGER in roles and Role.TECHNICIAN in roles
    assert {"UTOM", TOM_TEAMS.key} <= d.managers
    assert d.is_technician(TOM_TEAMS.key)


def test_teams_channel_membership_makes_a_technician(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    d = Directory(lookup=None, clock=clock, managers=(), teams_tech_channel="19:tech@thread.tacv2")
    with sessions.begin() as s:
        tom = d.person(s, TOM_TEAMS.key, TOM_TEAMS)
        assert Role.TECHNICIAN not in d.roles(tom, _ticket())
        d.set_flags(s, tom, teams_tech_member=True)
        d.load_roles(s)
        assert Role.TECHNICIAN in d.roles(tom, _ticket())
    assert d.technicians == {TOM_TEAMS.key}


def test_an_activity_without_the_roster_is_looked_up_again(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    d = _directory(clock)
    partial = TeamsUser(TOM_AAD, "29:tom", "Tom", None, from_roster=False)
    with sessions.begin() as s:
        d.person(s, partial.key, partial)
    with sessions() as s:
        assert d.needs_lookup(s, partial.key)
        assert not d.is_fresh(partial.key)
    with sessions.begin() as s:
        d.person(s, TOM_TEAMS.key, TOM_TEAMS)
    with sessions() as s:
        assert not d.needs_lookup(s, TOM_TEAMS.key)
        assert s.scalar(select(func.count()).select_from(Person)) == 1
        assert s.scalar(select(Person.email)) == "Tom@MSP.example"


def test_a_teams_ticket_finds_its_client_by_channel_then_tenant_then_email(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    from bot.app.clients import ClientSpec, add_client

    tenant = "6c1e7a52-0000-4000-8000-00000000ac3e"
    channel = "19:acmehelp@thread.tacv2"
    with sessions.begin() as s:
        add_client(
            s,
            ClientSpec(name="Acme", domains=["acme.example"], contact_email="it@acme.example"),
            clock.now(),
        )
        add_client(
            s,
            ClientSpec(
                name="Beta",
                domains=["beta.example"],
                contact_email="it@beta.example",
                teams_tenant=tenant,
            ),
            clock.now(),
        )
        add_client(
            s,
            ClientSpec(
                name="Gamma",
                domains=["gamma.example"],
                contact_email="it@gamma.example",
                teams_channel=channel,
            ),
            clock.now(),
        )
    d = _directory(clock)
    erin = TeamsUser("e0", "29:erin", "Erin", "erin@acme.example")
    with sessions.begin() as s:
        person = d.person(s, erin.key, erin)
        found = {
            "email": d.client_for_ticket(s, person, "a:1chat"),
            "tenant": d.client_for_ticket(s, person, "a:1chat", teams_tenant=tenant),
            "channel": d.client_for_ticket(s, person, channel, teams_tenant=tenant),
        }
    assert {k: c.name if c else None for k, c in found.items()} == {
        "email": "Acme",
        "tenant": "Beta",
        "channel": "Gamma",
    }


def test_a_technician_named_by_email_is_listed_once_first_seen(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    d = Directory(lookup=None, clock=clock, managers=(), technicians=("tom@msp.example",))
    with sessions() as s:
        d.load_roles(s)
    assert not d.technicians
    with sessions.begin() as s:
        d.person(s, TOM_TEAMS.key, TOM_TEAMS)
    assert d.technicians == {TOM_TEAMS.key}
