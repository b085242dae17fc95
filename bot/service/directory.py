"""Who people are: Slack identities cached in `people`, their roles, client companies.

Managers come from settings; technicians from settings or the technician channel's members as
stored in `people` (kept current by `bot.service.membership`); deactivated people have no role.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from bot.clock import Clock
from bot.tickets import Role
from storage.models import Client, ClientDomain, Person, Ticket

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)
# People are read on every request, so each row read is also kept in memory for this long: the
# bound on how stale another process's change to a name or email can look here.
REMEMBER_PEOPLE_FOR = timedelta(minutes=5)

_PERSON_BY_SLACK_ID = select(Person).where(Person.slack_user_id == bindparam("slack_id"))
_ROLE_ROWS = select(Person.slack_user_id, Person.tech_member, Person.deactivated_at).where(
    or_(Person.tech_member, Person.deactivated_at.is_not(None))
)
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


class UserLookup(Protocol):
    """The Slack calls the directory needs (users.info, conversations.members)."""

    def user_info(self, user_id: str) -> SlackUser | None: ...

    def channel_members(self, channel_id: str) -> list[str]: ...


class Directory:
    """Resolves Slack users to `Person` rows and knows who the managers and technicians are."""

    def __init__(
        self,
        *,
        lookup: UserLookup,
        clock: Clock,
        managers: Iterable[str],
        technicians: Iterable[str] = (),
        tech_channel: str | None = None,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._managers = frozenset(managers)
        self._configured_technicians = frozenset(technicians)
        self._tech_channel = tech_channel
        # As stored in `people` when last loaded (load_roles), for the lists of technicians.
        self._members: frozenset[str] = frozenset()
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
    def configured_technicians(self) -> frozenset[str]:
        return self._configured_technicians

    @property
    def configured_managers(self) -> frozenset[str]:
        """TICKETBOT_MANAGERS, deactivated or not."""
        return self._managers

    @property
    def tracks_members(self) -> bool:
        """Technicians are the technician channel's members (TICKETBOT_TECHNICIANS is unset)."""
        return not self._configured_technicians and self._tech_channel is not None

    @property
    def managers(self) -> frozenset[str]:
        """The configured managers who are not deactivated."""
        with self._lock:
            return self._managers - self._deactivated

    @property
    def technicians(self) -> frozenset[str]:
        """Technicians and managers: configured ids, else the technician channel's members."""
        with self._lock:
            base = self._configured_technicians or self._members
            return (base | self._managers) - self._deactivated

    def load_roles(self, session: Session) -> None:
        """Take the stored membership and deactivations as this process's lists."""
        rows = session.execute(_ROLE_ROWS).all()
        members = frozenset(sid for sid, member, _ in rows if member and sid)
        deactivated = frozenset(sid for sid, _, at in rows if at is not None and sid)
        with self._lock:
            self._members, self._deactivated = members, deactivated

    def is_manager(self, slack_id: str) -> bool:
        return slack_id in self.managers

    def is_technician(self, slack_id: str) -> bool:
        return slack_id in self.technicians

    def lookup_user(self, slack_id: str) -> SlackUser | None:
        """Ask Slack about a user; call outside a write transaction (it is network I/O)."""
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
        person = session.scalar(select(Person).where(Person.slack_user_id == slack_id))
        if person is None or now - person.refreshed_at > REFRESH_AFTER:
            return True
        self._refreshed[slack_id] = person.refreshed_at
        return False

    def is_fresh(self, slack_id: str) -> bool:
        """True when the cached identity is recent enough (no database read)."""
        known = self._refreshed.get(slack_id)
        return known is not None and self._clock.now() - known <= REFRESH_AFTER

    def person(self, session: Session, slack_id: str, info: SlackUser | None = None) -> Person:
        """The cached Person for a Slack user, created or refreshed from `info` when given."""
        if info is None:
            remembered = self._remembered(session, slack_id)
            if remembered is not None:
                return remembered
        epoch = self._epoch
        person = session.scalar(_PERSON_BY_SLACK_ID, {"slack_id": slack_id})
        if person is not None and info is None:
            self._remember(session, person, epoch)
            return person
        now = self._clock.now()
        self._writing(session, slack_id)
        if person is None:
            person = self._create(session, slack_id, info, now)
        elif info is not None:
            person.name = info.name
            person.email = info.email
            person.refreshed_at = now
        if info is not None:
            self._refreshed[slack_id] = now
            if person.client_id is None and person.email:
                client = self.client_for_email(session, person.email)
                if client is not None:  # setting None again would still cost an UPDATE
                    person.client_id = client.id
        return person

    def _create(
        self, session: Session, slack_id: str, info: SlackUser | None, now: datetime
    ) -> Person:
        """Insert the person; when a concurrent request just did, use that row instead."""
        person = Person(
            slack_user_id=slack_id,
            name=info.name if info else slack_id,
            email=info.email if info else None,
            refreshed_at=now if info else now - REFRESH_AFTER * 2,
            tech_member=False,
        )
        try:
            with session.begin_nested():
                session.add(person)
        except IntegrityError:
            existing = session.scalar(select(Person).where(Person.slack_user_id == slack_id))
            if existing is None:
                raise
            return existing
        return person

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
            slack_user_id=slack_id,
            name=row.name,
            email=row.email,
            client_id=row.client_id,
            refreshed_at=row.refreshed_at,
            tech_member=row.tech_member,
            deactivated_at=row.deactivated_at,
        )
        make_transient_to_detached(person)  # persistent as if loaded, once added
        session.add(person)
        return person

    def _remember(self, session: Session, person: Person, epoch: int) -> None:
        """Keep a copy of a row just read, unless a write of a person may have raced the read."""
        if person.slack_user_id is None or session.info.get(_WRITTEN):
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
        )
        with self._lock:
            if self._epoch == epoch:
                self._people[person.slack_user_id] = row

    def _writing(self, session: Session, slack_id: str) -> None:
        """`session` is about to change this person's row: forget the copy now, and again when the
        transaction ends (another request may have remembered the old row in between)."""
        written: set[str] | None = session.info.get(_WRITTEN)
        if written is None:
            written = session.info[_WRITTEN] = set()
            event.listen(session, "after_transaction_end", self._transaction_ended)
        written.add(slack_id)
        self._forget(written)

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
        return session.scalar(_PERSON_BY_SLACK_ID, {"slack_id": slack_id})

    def set_flags(
        self,
        session: Session,
        person: Person,
        *,
        tech_member: bool | None = None,
        deactivated: bool | None = None,
    ) -> bool:
        """Store membership and deactivation as given (None: unchanged); True when either changed.

        The new roles count in this process once the transaction commits and `load_roles` runs.
        """
        member = person.tech_member if tech_member is None else tech_member
        gone = (person.deactivated_at is not None) if deactivated is None else deactivated
        if member == person.tech_member and gone == (person.deactivated_at is not None):
            return False
        if person.slack_user_id is not None:
            self._writing(session, person.slack_user_id)
        person.tech_member = member
        person.deactivated_at = (person.deactivated_at or self._clock.now()) if gone else None
        return True

    def client_for_email(self, session: Session, email: str) -> Client | None:
        domain = email.rsplit("@", 1)[-1].lower()
        row = session.get(ClientDomain, domain)
        return row.client if row else None

    def client_for_ticket(
        self, session: Session, person: Person, channel_id: str | None
    ) -> Client | None:
        """The client of a new ticket: the channel's, else the person's, else their email domain's.

        A domain match becomes the person's client (a client added since we last saw them). One
        statement for all three lookups; a client list is short enough to scan.
        """
        domain = person.email.rsplit("@", 1)[-1].lower() if person.email else None
        if not (channel_id or person.client_id is not None or domain):
            return None
        params = {"channel": channel_id or None, "client_id": person.client_id, "domain": domain}
        rows = session.execute(_CLIENTS_FOR_TICKET, params).all()
        for client, _ in rows:
            if channel_id and client.slack_channel_id == channel_id:
                return client
        for client, _ in rows:
            if client.id == person.client_id:
                return client
        if not person.email:
            return None
        by_domain = next((client for client, matched in rows if matched is not None), None)
        client_id = by_domain.id if by_domain is not None else None
        if person.client_id != client_id:  # even an unchanged value would cost a flush
            if person.slack_user_id is not None:
                self._writing(session, person.slack_user_id)
            person.client_id = client_id
        return by_domain

    def roles(self, person: Person, ticket: Ticket) -> frozenset[Role]:
        """The actor's roles relative to this ticket, from `person` as stored (remembered rows
        included): a deactivated person has none."""
        if person.deactivated_at is not None:
            return frozenset()
        roles: set[Role] = set()
        slack_id = person.slack_user_id or ""
        technician = (
            slack_id in self._configured_technicians
            if self._configured_technicians
            else person.tech_member
        )
        if slack_id in self._managers:
            roles |= {Role.MANAGER, Role.TECHNICIAN}
        elif technician:
            roles.add(Role.TECHNICIAN)
        else:
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

    def people(self, session: Session, slack_ids: Iterable[str]) -> list[Person]:
        ids = sorted(set(slack_ids))
        if not ids:
            return []
        rows = session.scalars(select(Person).where(Person.slack_user_id.in_(ids))).all()
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
