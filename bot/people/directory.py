"""Who people are: one `people` row per person across Slack, Teams and email, their roles,
client companies.

A person is named by a key: a Slack user id, or `teams:<Entra object id>`. Managers come from
settings (Slack ids, object ids or emails); technicians from settings or the technician channels'
members as stored in `people` (kept current by `bot.people.membership` and the Teams handlers);
deactivated people have no role. A Teams identity and a Slack one with the same email address are
the same person.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Select

from bot.domain.clock import Clock
from bot.domain.tickets import Role
from storage.models import Client, ClientDomain, Person, Ticket

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)
# People are read on every request, so each row read is also kept in memory for this long: the
# bound on how stale another process's change to a name or email can look here.
REMEMBER_PEOPLE_FOR = timedelta(minutes=5)

TEAMS_PREFIX = "teams:"
_SLACK_ID = re.compile(r"[UW][A-Z0-9]+")
_PERSON_BY_SLACK_ID = select(Person).where(Person.slack_user_id == bindparam("slack_id"))
_PERSON_BY_AAD_ID = select(Person).where(Person.teams_aad_id == bindparam("aad_id"))
_BY_EMAIL = select(Person).where(func.lower(Person.email) == bindparam("email")).order_by(Person.id)


def _role_rows(configured: Iterable[str]) -> Select[Any]:
    """People whose stored flags or configured names give them a role, or who lost them all."""
    items = set(configured)
    slack = sorted(k for k in items if _SLACK_ID.fullmatch(k))
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


def _complete(info: SlackUser | TeamsUser) -> bool:
    return not isinstance(info, TeamsUser) or info.from_roster


def keys_of(person: Person) -> list[str]:
    """Every key that names `person`."""
    keys = []
    if person.slack_user_id:
        keys.append(person.slack_user_id)
    if person.teams_aad_id:
        keys.append(TEAMS_PREFIX + person.teams_aad_id)
    return keys


def person_key(person: Person) -> str:
    """The key handlers use for `person`: the Slack id when there is one."""
    keys = keys_of(person)
    return keys[0] if keys else f"person:{person.id}"


def _config_key(item: str) -> str:
    """A configured id as a key: Slack ids as they are, object ids prefixed, emails as they are."""
    if _SLACK_ID.fullmatch(item) or "@" in item:
        return item
    return TEAMS_PREFIX + item.lower()


_WRITTEN = "ticketbot.people_written"  # Session.info: Slack ids whose rows this session changes
# A client by channel, by id, or by email domain (a NULL parameter matches nothing).
_CLIENTS_FOR_TICKET = (
    select(Client, ClientDomain.domain)
    .outerjoin(
        ClientDomain,
        and_(ClientDomain.client_id == Client.id, ClientDomain.domain == bindparam("domain")),
    )
    .where(
        or_(
            Client.slack_channel_id == bindparam("channel"),
            Client.teams_channel_id == bindparam("channel"),
            Client.teams_tenant_id == bindparam("tenant"),
            Client.id == bindparam("client_id"),
            ClientDomain.domain.is_not(None),
        )
    )
)


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    email: str | None
    is_bot: bool = False
    is_guest: bool = False  # a multi- or single-channel guest (is_restricted / is_ultra_restricted)
    deleted: bool = False  # deactivated

    @classmethod
    def from_api(cls, user: Mapping[str, Any]) -> SlackUser:
        """From a Slack user object (users.info's `user`, user_change's `user`)."""
        profile = user.get("profile") or {}
        user_id = str(user.get("id") or "")
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )
        return cls(
            id=user_id,
            name=str(name),
            email=profile.get("email"),
            is_bot=bool(user.get("is_bot")),
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            deleted=bool(user.get("deleted")),
        )


@dataclass(frozen=True)
class TeamsUser:
    """A Teams user as an activity and the conversation roster describe them."""

    aad_id: str  # Entra object id
    user_id: str  # Bot Framework id, 29:…
    name: str
    email: str | None
    tenant_id: str | None = None
    # False: only what the activity says (the roster could not be read): no email, so the
    # person is looked up again on their next activity.
    from_roster: bool = True

    @property
    def key(self) -> str:
        return TEAMS_PREFIX + self.aad_id


Profile = SlackUser | TeamsUser


@dataclass(frozen=True)
class _Remembered:
    """A committed `people` row as read at `read_at`."""

    id: int
    name: str
    email: str | None
    client_id: int | None
    refreshed_at: datetime
    tech_member: bool
    deactivated_at: datetime | None
    read_at: datetime
    slack_user_id: str | None
    teams_aad_id: str | None
    teams_user_id: str | None
    teams_tech_member: bool


class UserLookup(Protocol):
    """The Slack calls the directory needs (users.info, conversations.members)."""

    def user_info(self, user_id: str) -> SlackUser | None: ...

    def channel_members(self, channel_id: str) -> list[str]: ...


class Directory:
    """Resolves people's keys to `Person` rows and knows who the managers and technicians are."""

    def __init__(
        self,
        *,
        lookup: UserLookup | None,
        clock: Clock,
        managers: Iterable[str],
        technicians: Iterable[str] = (),
        tech_channel: str | None = None,
        teams_tech_channel: str | None = None,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._managers = frozenset(_config_key(m) for m in managers)
        self._configured_technicians = frozenset(_config_key(t) for t in technicians)
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
        self._lock = threading.Lock()
        # When each cached person was last refreshed from Slack: skips a query per request.
        self._refreshed: dict[str, datetime] = {}
        # Rows of `people` by Slack id: skips another. Every write of a person goes through this
        # class and forgets the row (see _writing); `_epoch` counts those writes, so that a read
        # that raced one is not remembered.
        self._people: dict[str, _Remembered] = {}
        self._epoch = 0

    @property
    def tech_channel(self) -> str | None:
        return self._tech_channel

    @property
    def teams_tech_channel(self) -> str | None:
        return self._teams_tech_channel

    @property
    def configured_technicians(self) -> frozenset[str]:
        """TICKETBOT_TECHNICIANS as Slack ids (what Slack can be asked about)."""
        return frozenset(k for k in self._configured_technicians if _SLACK_ID.fullmatch(k))

    @property
    def configured_managers(self) -> frozenset[str]:
        """TICKETBOT_MANAGERS as Slack ids, deactivated or not."""
        return frozenset(k for k in self._managers if _SLACK_ID.fullmatch(k))

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
        with self._lock:
            return self._expand(self._managers) - self._deactivated

    @property
    def manager_contacts(self) -> frozenset[str]:
        """One key per manager who is not deactivated: where a manager's DM goes."""
        with self._lock:
            keys = {self._primary.get(m) or (m if "@" not in m else "") for m in self._managers}
            return frozenset(k for k in keys if k) - self._deactivated

    @property
    def technicians(self) -> frozenset[str]:
        """Keys of technicians and managers: configured ones, else the channels' members."""
        with self._lock:
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
        with self._lock:
            self._members, self._deactivated = frozenset(members), frozenset(deactivated)
            self._aliases, self._primary = aliases, primary

    def is_manager(self, slack_id: str) -> bool:
        return slack_id in self.managers

    def is_technician(self, slack_id: str) -> bool:
        return slack_id in self.technicians

    def lookup_user(self, slack_id: str) -> SlackUser | None:
        """Ask Slack about a user; call outside a write transaction (it is network I/O).
        Teams keys are not looked up here: the Teams handlers read the conversation roster."""
        if slack_id.startswith(TEAMS_PREFIX) or self._lookup is None:
            return None
        try:
            return self._lookup.user_info(slack_id)
        except Exception:  # Slack down must not stop a ticket: the cache is refreshed later
            log.warning("users.info failed for %s; using the cached or bare identity", slack_id)
            return None

    def needs_lookup(self, session: Session, slack_id: str) -> bool:
        now = self._clock.now()
        known = self._refreshed.get(slack_id)
        if known is not None and now - known <= REFRESH_AFTER:
            return False
        person = self.find(session, slack_id)
        if person is None or now - person.refreshed_at > REFRESH_AFTER:
            return True
        self._refreshed[slack_id] = person.refreshed_at
        return False

    def is_fresh(self, slack_id: str) -> bool:
        """True when the cached identity is recent enough (no database read)."""
        known = self._refreshed.get(slack_id)
        return known is not None and self._clock.now() - known <= REFRESH_AFTER

    def person(self, session: Session, slack_id: str, info: Profile | None = None) -> Person:
        """The cached Person for a key (a Slack id or `teams:<object id>`), created or refreshed
        from `info` when given."""
        if info is None:
            remembered = self._remembered(session, slack_id)
            if remembered is not None:
                return remembered
        epoch = self._epoch
        person = self.find(session, slack_id)
        if person is not None and info is None:
            self._remember(session, slack_id, person, epoch)
            return person
        now = self._clock.now()
        self._writing(session, slack_id)
        if person is None:
            person = self._create(session, slack_id, info, now)
            self._note_if_configured(person)
        elif info is not None:
            person.name = info.name
            person.email = info.email or person.email
            if _complete(info):
                person.refreshed_at = now
            if isinstance(info, TeamsUser):
                person.teams_user_id = info.user_id
        if info is not None:
            if _complete(info):
                self._refreshed[slack_id] = now
            if person.client_id is None and person.email:
                client = self.client_for_email(session, person.email)
                if client is not None:  # setting None again would still cost an UPDATE
                    person.client_id = client.id
        return person

    def _create(self, session: Session, key: str, info: Profile | None, now: datetime) -> Person:
        """Insert the person, or give the person with the same email (seen on the other chat)
        this identity too; when a concurrent request just did either, use that row instead."""
        teams = key.startswith(TEAMS_PREFIX)
        email = info.email if info else None
        if email:
            for same in session.scalars(_BY_EMAIL, {"email": email.lower()}):
                if (same.teams_aad_id if teams else same.slack_user_id) is None:
                    for other in keys_of(same):
                        self._writing(session, other)
                    self._link(same, key, info)
                    same.refreshed_at = now
                    return same
        person = Person(
            name=info.name if info else ("Teams user" if teams else key),
            email=email,
            refreshed_at=now if info and _complete(info) else now - REFRESH_AFTER * 2,
            tech_member=False,
            teams_tech_member=False,
        )
        self._link(person, key, info)
        try:
            with session.begin_nested():
                session.add(person)
        except IntegrityError:
            existing = self.find(session, key)
            if existing is None:
                raise
            return existing
        return person

    @staticmethod
    def _link(person: Person, key: str, info: Profile | None) -> None:
        if key.startswith(TEAMS_PREFIX):
            person.teams_aad_id = key.removeprefix(TEAMS_PREFIX)
            if isinstance(info, TeamsUser):
                person.teams_user_id = info.user_id
        else:
            person.slack_user_id = key

    def _remembered(self, session: Session, slack_id: str) -> Person | None:
        """The remembered row as a Person of `session`, without a query; None when not known."""
        row = self._people.get(slack_id)
        if row is None or self._clock.now() - row.read_at > REMEMBER_PEOPLE_FOR:
            return None
        if slack_id in session.info.get(_WRITTEN, ()):
            return None
        present = session.identity_map.get(identity_key(Person, row.id))
        if isinstance(present, Person):  # loaded in this session already (say, with a ticket)
            return present
        person = Person(
            id=row.id,
            slack_user_id=row.slack_user_id,
            teams_aad_id=row.teams_aad_id,
            teams_user_id=row.teams_user_id,
            name=row.name,
            email=row.email,
            client_id=row.client_id,
            refreshed_at=row.refreshed_at,
            tech_member=row.tech_member,
            teams_tech_member=row.teams_tech_member,
            deactivated_at=row.deactivated_at,
        )
        make_transient_to_detached(person)  # persistent as if loaded, once added
        session.add(person)
        return person

    def _remember(self, session: Session, key: str, person: Person, epoch: int) -> None:
        """Keep a copy of a row just read, unless a write of a person may have raced the read."""
        if session.info.get(_WRITTEN):
            return
        row = _Remembered(
            id=person.id,
            name=person.name,
            email=person.email,
            client_id=person.client_id,
            refreshed_at=person.refreshed_at,
            tech_member=person.tech_member,
            deactivated_at=person.deactivated_at,
            read_at=self._clock.now(),
            slack_user_id=person.slack_user_id,
            teams_aad_id=person.teams_aad_id,
            teams_user_id=person.teams_user_id,
            teams_tech_member=person.teams_tech_member,
        )
        with self._lock:
            if self._epoch == epoch:
                self._people[key] = row

    def _writing(self, session: Session, slack_id: str) -> None:
        """`session` is about to change this person's row: forget the copy now, and again when the
        transaction ends (another request may have remembered the old row in between)."""
        written: set[str] | None = session.info.get(_WRITTEN)
        if written is None:
            written = session.info[_WRITTEN] = set()
            event.listen(session, "after_transaction_end", self._transaction_ended)
        written.add(slack_id)
        self._forget(written)

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
        with self._lock:
            aliases, primary = dict(self._aliases), dict(self._primary)
            for name in names:
                aliases[name] = aliases.get(name, frozenset()) | keys
                primary.setdefault(name, person_key(person))
            self._aliases, self._primary = aliases, primary

    def _transaction_ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost one: committed or rolled back
            self._forget(session.info.pop(_WRITTEN, ()))

    def _forget(self, slack_ids: Iterable[str]) -> None:
        with self._lock:
            self._epoch += 1
            for slack_id in slack_ids:
                self._people.pop(slack_id, None)

    def find(self, session: Session, slack_id: str) -> Person | None:
        """The stored person as committed now (not a remembered copy), or None; creates none."""
        if slack_id.startswith(TEAMS_PREFIX):
            return session.scalar(_PERSON_BY_AAD_ID, {"aad_id": slack_id[len(TEAMS_PREFIX) :]})
        return session.scalar(_PERSON_BY_SLACK_ID, {"slack_id": slack_id})

    def set_flags(
        self,
        session: Session,
        person: Person,
        *,
        tech_member: bool | None = None,
        deactivated: bool | None = None,
        teams_tech_member: bool | None = None,
    ) -> bool:
        """Store membership and deactivation as given (None: unchanged); True when any changed.

        The new roles count in this process once the transaction commits and `load_roles` runs.
        """
        member = person.tech_member if tech_member is None else tech_member
        teams_member = person.teams_tech_member if teams_tech_member is None else teams_tech_member
        gone = (person.deactivated_at is not None) if deactivated is None else deactivated
        if (
            member == person.tech_member
            and teams_member == person.teams_tech_member
            and gone == (person.deactivated_at is not None)
        ):
            return False
        for key in keys_of(person):
            self._writing(session, key)
        person.tech_member = member
        person.teams_tech_member = teams_member
        person.deactivated_at = (person.deactivated_at or self._clock.now()) if gone else None
        return True

    def client_for_email(self, session: Session, email: str) -> Client | None:
        domain = email.rsplit("@", 1)[-1].lower()
        row = session.get(ClientDomain, domain)
        return row.client if row else None

    def client_for_ticket(
        self,
        session: Session,
        person: Person,
        channel_id: str | None,
        *,
        teams_tenant: str | None = None,
    ) -> Client | None:
        """The client of a new ticket: the channel's (Slack or Teams), else the Teams tenant's,
        else the person's, else their email domain's.

        A domain match becomes the person's client (a client added since we last saw them). One
        statement for all the lookups; a client list is short enough to scan.
        """
        domain = person.email.rsplit("@", 1)[-1].lower() if person.email else None
        if not (channel_id or teams_tenant or person.client_id is not None or domain):
            return None
        params = {
            "channel": channel_id or None,
            "tenant": teams_tenant or None,
            "client_id": person.client_id,
            "domain": domain,
        }
        rows = session.execute(_CLIENTS_FOR_TICKET, params).all()
        for client, _ in rows:
            if channel_id and channel_id in (client.slack_channel_id, client.teams_channel_id):
                return client
        for client, _ in rows:
            if teams_tenant and client.teams_tenant_id == teams_tenant:
                return client
        for client, _ in rows:
            if client.id == person.client_id:
                return client
        if not person.email:
            return None
        by_domain = next((client for client, matched in rows if matched is not None), None)
        client_id = by_domain.id if by_domain is not None else None
        if person.client_id != client_id:  # even an unchanged value would cost a flush
            for key in keys_of(person):
                self._writing(session, key)
            person.client_id = client_id
        return by_domain

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

    def people(self, session: Session, keys: Iterable[str]) -> list[Person]:
        """The stored people named by `keys` (Slack ids and `teams:` keys), by name."""
        wanted = set(keys)
        slack = sorted(k for k in wanted if not k.startswith(TEAMS_PREFIX))
        aad = sorted(k[len(TEAMS_PREFIX) :] for k in wanted if k.startswith(TEAMS_PREFIX))
        if not slack and not aad:
            return []
        rows = session.scalars(
            select(Person).where(or_(Person.slack_user_id.in_(slack), Person.teams_aad_id.in_(aad)))
        ).all()
        return sorted(rows, key=lambda p: p.name.lower())

    def open_counts(self, session: Session) -> dict[int, int]:
        """Open tickets per assignee (person id), for the Assign modal."""
        rows = session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.state.in_(("assigned", "in_progress", "awaiting_confirmation")))
            .where(Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        ).all()
        return {int(pid): int(n) for pid, n in rows if pid is not None}
