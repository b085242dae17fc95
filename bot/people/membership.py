"""Keeps roles current from Slack and Teams: the technician channels' members and deactivated
accounts, stored in `people` (shared by every replica) and loaded into this process's Directory."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.people.directory import Directory
from bot.people.identity import SlackUser, TeamsUser, UserLookup
from storage.models import Person

log = logging.getLogger(__name__)

_STORED_MEMBERS = select(Person).where(Person.tech_member).order_by(Person.id)
_STORED_TEAMS_MEMBERS = select(Person).where(Person.teams_tech_member).order_by(Person.id)


def counts_as_technician(info: SlackUser) -> bool:
    """Of the technician channel's members, only active full accounts of people are technicians."""
    return not (info.is_bot or info.is_guest or info.deleted)


class Membership:
    """The Slack side of roles. Each method is one transaction, then a reload of the lists.

    A change stored here counts at once in this process; another process sees it in a person's
    roles once its remembered copy of the row expires (REMEMBER_PEOPLE_FOR), and in its lists of
    technicians and managers at its next `refresh` or `load`.
    """

    def __init__(
        self, *, session_factory: sessionmaker[Session], directory: Directory, lookup: UserLookup
    ) -> None:
        self._sessions = session_factory
        self._directory = directory
        self._lookup = lookup

    def load(self) -> None:
        """Take what the database holds as this process's lists (no Slack call)."""
        with self._sessions() as s:
            self._directory.load_roles(s)

    def refresh(self) -> None:
        """Read the technician channel's members (when they are the technicians), the managers
        and the configured technicians from Slack, and store who is what.

        Raises when Slack cannot be read; what the database holds is loaded all the same.
        """
        try:
            self._sync()
        finally:
            self.load()

    def _sync(self) -> None:
        d = self._directory
        channel = d.tech_channel if d.tracks_members else None
        tracked = channel is not None
        members = set(self._lookup.channel_members(channel)) if channel is not None else set()
        wanted = members | d.configured_technicians | d.configured_managers
        infos: dict[str, SlackUser] = {}
        for slack_id in sorted(wanted):
            info = self._lookup.user_info(slack_id)  # raises when Slack is unreachable
            if info is not None and not info.is_bot:
                infos[slack_id] = info
        technicians = {sid for sid in members if sid in infos and counts_as_technician(infos[sid])}
        with self._sessions.begin() as s:
            for slack_id, info in sorted(infos.items()):
                person = d.person(s, slack_id, info)
                d.set_flags(
                    s,
                    person,
                    tech_member=(slack_id in technicians) if tracked else None,
                    deactivated=info.deleted,
                )
            if tracked:
                for person in s.scalars(_STORED_MEMBERS).all():
                    if person.slack_user_id not in technicians:
                        d.set_flags(s, person, tech_member=False)

    def joined(self, user: str, channel: str) -> None:
        """`user` joined `channel`: a technician from now on, when it is the technician channel,
        the technicians are its members, and `user` is an active person with a full account."""
        d = self._directory
        if not d.tracks_members or channel != d.tech_channel:
            return
        info = d.lookup_user(user)
        if info is None:
            log.warning("could not look up %s, who joined the technician channel", user)
            return
        if not counts_as_technician(info):
            return
        with self._sessions.begin() as s:
            d.set_flags(s, d.person(s, user, info), tech_member=True, deactivated=False)
        self.load()

    def left(self, user: str, channel: str) -> None:
        """`user` left (or was removed from) `channel`: no longer a technician if it is ours."""
        d = self._directory
        if not d.tracks_members or channel != d.tech_channel:
            return
        with self._sessions.begin() as s:
            person = d.find(s, user)
            changed = person is not None and d.set_flags(s, person, tech_member=False)
        if changed:
            self.load()

    def user_changed(self, info: SlackUser) -> None:
        """Slack changed an account (sent for every profile change in the workspace): only a
        deactivation or reactivation is stored, and a person we never saw is stored only when
        deactivated (a configured manager or technician may not have been seen yet)."""
        d = self._directory
        with self._sessions.begin() as s:
            person = d.find(s, info.id)
            if person is None:
                if not info.deleted:
                    return
                person = d.person(s, info.id, info)
            changed = d.set_flags(s, person, deactivated=info.deleted)
        if changed:
            self.load()


class TeamsMembership:
    """The Teams side of roles: the team of the Teams technician channel, when the technicians
    are its members (TICKETBOT_TECHNICIANS unset). Kept current by the team's membership events
    and a periodic read of the channel's roster."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        directory: Directory,
        roster: Callable[[str], list[TeamsUser]],
    ) -> None:
        self._sessions = session_factory
        self._directory = directory
        self._roster = roster

    def refresh(self) -> None:
        """Read the technician channel's roster and store who is a member; raises when Teams
        cannot be read (what the database holds is loaded all the same)."""
        d = self._directory
        channel = d.teams_tech_channel
        try:
            if channel is None or not d.tracks_teams_members:
                return
            members = {u.aad_id: u for u in self._roster(channel) if u.aad_id}
            with self._sessions.begin() as s:
                for user in members.values():
                    d.set_flags(s, d.person(s, user.key, user), teams_tech_member=True)
                for person in s.scalars(_STORED_TEAMS_MEMBERS).all():
                    if person.teams_aad_id not in members:
                        d.set_flags(s, person, teams_tech_member=False)
        finally:
            with self._sessions() as s:
                d.load_roles(s)

    def changed(self, added: list[TeamsUser], removed: list[TeamsUser]) -> None:
        """People joined or left the technician channel's team."""
        d = self._directory
        if not d.tracks_teams_members or not (added or removed):
            return
        with self._sessions.begin() as s:
            for user in added:
                d.set_flags(s, d.person(s, user.key, user), teams_tech_member=True)
            for user in removed:
                person = d.find(s, user.key)
                if person is not None:
                    d.set_flags(s, person, teams_tech_member=False)
        with self._sessions() as s:
            d.load_roles(s)
