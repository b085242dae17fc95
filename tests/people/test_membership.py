"""Membership: stored in the database, seen at once by the process that stored it and, within the
people cache's bound or at its next load, by another one; configured technicians are not tracked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.domain.tickets import Role
from bot.outbox.errors import DeliveryError
from bot.people.directory import Directory
from bot.people.identity import SlackUser
from bot.people.membership import Membership
from bot.people.remembered import REMEMBER_PEOPLE_FOR
from storage.models import Ticket
from tests.fakes import MANAGER, TECHNICIAN

CHANNEL = "CTECHS"
NEWCOMER = "UNINA"


class SlackPeople:
    """users.info and conversations.members over tables a test changes; `down` fails both."""

    def __init__(self) -> None:
        self.users = {
            MANAGER: SlackUser(MANAGER, "Maya Manager", "maya@msp.example"),
            TECHNICIAN: SlackUser(TECHNICIAN, "Tom Tech", "tom@msp.example"),
            NEWCOMER: SlackUser(NEWCOMER, "Nina Newcomer", "nina@msp.example"),
        }
        self.members = {CHANNEL: [MANAGER, TECHNICIAN]}
        self.down = False
        self.asked: list[str] = []

    def user_info(self, user_id: str) -> SlackUser | None:
        self._answer(f"users.info {user_id}")
        return self.users.get(user_id)

    def channel_members(self, channel_id: str) -> list[str]:
        self._answer(f"conversations.members {channel_id}")
        return list(self.members.get(channel_id, []))

    def _answer(self, call: str) -> None:
        self.asked.append(call)
        if self.down:
            raise DeliveryError("Slack error 503", transient=True)


class Replica:
    """One process's Directory and Membership over the shared database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        slack: SlackPeople,
        clock: ManualClock,
        technicians: tuple[str, ...] = (),
    ) -> None:
        self.sessions = sessions
        self.directory = Directory(
            lookup=slack,
            clock=clock,
            managers=[MANAGER],
            technicians=technicians,
            tech_channel=CHANNEL,
        )
        self.membership = Membership(
            session_factory=sessions, directory=self.directory, lookup=slack
        )

    def roles(self, slack_id: str) -> frozenset[Role]:
        """Their roles in a request of their own, on a ticket they have nothing to do with."""
        with self.sessions.begin() as s:
            person = self.directory.person(s, slack_id)
            return self.directory.roles(person, Ticket(id=1, helpers=[], client=None))


def test_leaving_counts_at_once_here_and_within_the_cache_bound_in_another_replica(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    slack = SlackPeople()
    here, there = Replica(sessions, slack, clock), Replica(sessions, slack, clock)
    here.membership.refresh()
    there.membership.load()
    assert Role.TECHNICIAN in here.roles(TECHNICIAN)
    assert Role.TECHNICIAN in there.roles(TECHNICIAN)  # and `there` now remembers his row

    here.membership.left(TECHNICIAN, CHANNEL)

    assert here.roles(TECHNICIAN) == {Role.EMPLOYEE}
    assert TECHNICIAN not in here.directory.technicians
    assert Role.TECHNICIAN in there.roles(TECHNICIAN)  # its remembered copy, for a while
    clock.advance(REMEMBER_PEOPLE_FOR + timedelta(seconds=1))
    assert there.roles(TECHNICIAN) == {Role.EMPLOYEE}
    assert TECHNICIAN in there.directory.technicians  # its lists: until its next load
    there.membership.load()
    assert TECHNICIAN not in there.directory.technicians


def test_joining_counts_at_once_and_is_stored(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    slack = SlackPeople()
    here = Replica(sessions, slack, clock)
    here.membership.refresh()
    here.membership.joined(NEWCOMER, CHANNEL)
    assert Role.TECHNICIAN in here.roles(NEWCOMER)

    restarted = Replica(sessions, slack, clock)
    slack.down = True
    restarted.membership.load()
    assert NEWCOMER in restarted.directory.technicians


def test_refresh_with_slack_down_raises_and_keeps_what_the_database_holds(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    slack = SlackPeople()
    Replica(sessions, slack, clock).membership.refresh()
    slack.down = True
    restarted = Replica(sessions, slack, clock)
    with pytest.raises(DeliveryError):  # so that it is tried again sooner
        restarted.membership.refresh()
    assert restarted.directory.technicians == {MANAGER, TECHNICIAN}


def test_configured_technicians_are_not_tracked_but_deactivation_still_counts(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    slack = SlackPeople()
    here = Replica(sessions, slack, clock, technicians=(TECHNICIAN,))
    here.membership.refresh()
    assert not any(call.startswith("conversations.members") for call in slack.asked)

    slack.asked.clear()
    here.membership.joined(NEWCOMER, CHANNEL)
    here.membership.left(TECHNICIAN, CHANNEL)
    assert slack.asked == []
    assert here.directory.technicians == {MANAGER, TECHNICIAN}
    assert here.roles(NEWCOMER) == {Role.EMPLOYEE}

    gone = SlackUser(MANAGER, "Maya Manager", "maya@msp.example", deleted=True)
    here.membership.user_changed(gone)
    assert here.roles(MANAGER) == frozenset()
    assert here.directory.managers == frozenset()
    assert here.directory.technicians == {TECHNICIAN}

    here.membership.user_changed(SlackUser(MANAGER, "Maya Manager", "maya@msp.example"))
    assert Role.MANAGER in here.roles(MANAGER)


def test_profile_changes_of_people_never_seen_store_nothing(
    sessions: sessionmaker[Session], clock: ManualClock
) -> None:
    here = Replica(sessions, SlackPeople(), clock)
    here.membership.user_changed(SlackUser("UNOBODY", "Nobody", None))
    with sessions() as s:
        assert here.directory.find(s, "UNOBODY") is None
