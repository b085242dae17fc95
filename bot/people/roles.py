"""Who the managers and technicians are: the names the settings give (Slack ids, object ids or
emails), the technician channels' members and deactivations as stored in `people` (kept current
by `bot.people.membership` and the Teams handlers), and a person's roles on a ticket."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.domain.tickets import Role
from bot.people.identity import SLACK_ID, TEAMS_PREFIX, config_key, keys_of, person_key
from storage.models import Person, Ticket


class Roles:
    """The lists of managers and technicians this process holds, and the roles they give.
    A deactivated person has no role."""

    def __init__(
        self,
        *,
        managers: Iterable[str],
        technicians: Iterable[str],
        tech_channel: str | None,
        teams_tech_channel: str | None,
    ) -> None:
        self._managers = frozenset(config_key(m) for m in managers)
        self._configured_technicians = frozenset(config_key(t) for t in technicians)
        self._tech_channel = tech_channel
        self._teams_tech_channel = teams_tech_channel
        # As stored in `people` when last loaded (load_roles), for the lists of technicians: keys
        # of the channels' members, of people configured by email, of deactivated people.
        self._members: frozenset[str] = frozenset()
        # A configured name (Slack id, `teams:` key, email) → every key of the person it names,
        # and the one key to message them by (Slack first).
        self._aliases: dict[str, frozenset[str]] = {}
        self._primary: dict[str, str] = {}
        self._deactivated: frozenset[str] = frozenset()
        self._lists_lock = threading.Lock()

    @property
    def tech_channel(self) -> str | None:
        return self._tech_channel

    @property
    def teams_tech_channel(self) -> str | None:
        return self._teams_tech_channel

    @property
    def configured_technicians(self) -> frozenset[str]:
        """TICKETBOT_TECHNICIANS as Slack ids (what Slack can be asked about)."""
        return frozenset(k for k in self._configured_technicians if SLACK_ID.fullmatch(k))

    @property
    def configured_managers(self) -> frozenset[str]:
        """TICKETBOT_MANAGERS as Slack ids, deactivated or not."""
        return frozenset(k for k in self._managers if SLACK_ID.fullmatch(k))

    @property
    def tracks_members(self) -> bool:
        """Technicians are the technician channel's members (TICKETBOT_TECHNICIANS is unset)."""
        return not self._configured_technicians and self._tech_channel is not None

    @property
    def tracks_teams_members(self) -> bool:
        """Technicians include the Teams technician channel's team (TICKETBOT_TECHNICIANS unset)."""
        return not self._configured_technicians and self._teams_tech_channel is not None

    @property
    def managers(self) -> frozenset[str]:
        """Every key of the managers who are not deactivated (configured by email: once seen)."""
        with self._lists_lock:
            return self._expand(self._managers) - self._deactivated

    @property
    def manager_contacts(self) -> frozenset[str]:
        """One key per manager who is not deactivated: where a manager's DM goes."""
        with self._lists_lock:
            keys = {self._primary.get(m) or (m if "@" not in m else "") for m in self._managers}
            return frozenset(k for k in keys if k) - self._deactivated

    @property
    def technicians(self) -> frozenset[str]:
        """Keys of technicians and managers: configured ones, else the channels' members."""
        with self._lists_lock:
            base = self._expand(self._configured_technicians) or self._members
            return (base | self._expand(self._managers)) - self._deactivated

    def _expand(self, configured: frozenset[str]) -> frozenset[str]:
        """Configured names as keys: each with every key of the person it names (a Slack id
        also names that person in Teams); an email once its person is seen."""
        keys: set[str] = set()
        for item in configured:
            keys |= self._aliases.get(item) or ({item} if "@" not in item else set())
        return frozenset(keys)

    def load_roles(self, session: Session) -> None:
        """Take the stored membership, deactivations and configured people as this process's
        lists."""
        configured = self._managers | self._configured_technicians
        members: set[str] = set()
        deactivated: set[str] = set()
        aliases: dict[str, frozenset[str]] = {}
        primary: dict[str, str] = {}
        for person in session.scalars(_role_rows(configured)):
            keys = keys_of(person)
            if person.tech_member or person.teams_tech_member:
                members.update(keys)
            if person.deactivated_at is not None:
                deactivated.update(keys)
            names = {*keys, (person.email or "").lower()} & configured
            for name in names:
                aliases[name] = frozenset(keys)
                primary[name] = person_key(person)
        with self._lists_lock:
            self._members, self._deactivated = frozenset(members), frozenset(deactivated)
            self._aliases, self._primary = aliases, primary

    def is_manager(self, slack_id: str) -> bool:
        return slack_id in self.managers

    def is_technician(self, slack_id: str) -> bool:
        return slack_id in self.technicians

    def _note_if_configured(self, person: Person) -> None:
        """A person the settings name (by email, or by their other chat's id) is stored for the
        first time: put them on this process's lists now rather than at the next reload (in the
        Assign list, say). Other processes see them at their next reload."""
        keys = frozenset(keys_of(person))
        names = (set(keys) | {(person.email or "").lower()}) & (
            self._managers | self._configured_technicians
        )
        if not names:
            return
        with self._lists_lock:
            aliases, primary = dict(self._aliases), dict(self._primary)
            for name in names:
                aliases[name] = aliases.get(name, frozenset()) | keys
                primary.setdefault(name, person_key(person))
            self._aliases, self._primary = aliases, primary

    def staff_roles(self, person: Person) -> frozenset[Role]:
        """MANAGER and TECHNICIAN, TECHNICIAN, or nothing: from `person` as stored (a person
        named in the settings by any of their names counts before the lists are reloaded)."""
        if person.deactivated_at is not None:
            return frozenset()
        names = set(keys_of(person))
        if person.email:
            names.add(person.email.lower())
        if names & self._managers:
            return frozenset({Role.MANAGER, Role.TECHNICIAN})
        technician = (
            bool(names & self._configured_technicians)
            if self._configured_technicians
            else person.tech_member or person.teams_tech_member
        )
        return frozenset({Role.TECHNICIAN}) if technician else frozenset()

    def roles(self, person: Person, ticket: Ticket) -> frozenset[Role]:
        """The actor's roles relative to this ticket, from `person` as stored (remembered rows
        included): a deactivated person has none."""
        roles = set(self.staff_roles(person))
        if person.deactivated_at is not None:
            return frozenset()
        if not roles:
            roles.add(Role.EMPLOYEE)
        if ticket.submitter_id == person.id:
            roles.add(Role.SUBMITTER)
        if ticket.assignee_id == person.id:
            roles.add(Role.ASSIGNEE)
        if any(h.person_id == person.id for h in ticket.helpers):
            roles.add(Role.HELPER)
        contact = ticket.client.contact_email if ticket.client else None
        if contact and person.email and contact.lower() == person.email.lower():
            roles.add(Role.CONTACT)
        return frozenset(roles)


def _role_rows(configured: Iterable[str]) -> Select[Any]:
    """People whose stored flags or configured names give them a role, or who lost them all."""
    items = set(configured)
    slack = sorted(k for k in items if SLACK_ID.fullmatch(k))
    aad = sorted(k[len(TEAMS_PREFIX) :] for k in items if k.startswith(TEAMS_PREFIX))
    emails = sorted(k for k in items if "@" in k)
    return select(Person).where(
        or_(
            Person.tech_member,
            Person.teams_tech_member,
            Person.deactivated_at.is_not(None),
            Person.slack_user_id.in_(slack),
            Person.teams_aad_id.in_(aad),
            func.lower(Person.email).in_(emails),
        )
    )
