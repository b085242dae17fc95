"""Who people are: Slack identities cached in `people`, roles from settings, client companies."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.tickets import Role
from storage.models import Client, ClientDomain, Person, Ticket

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    email: str | None
    is_bot: bool = False


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
        self._channel_technicians: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        # When each cached person was last refreshed from Slack: skips a query per request.
        self._refreshed: dict[str, datetime] = {}

    @property
    def managers(self) -> frozenset[str]:
        return self._managers

    @property
    def technicians(self) -> frozenset[str]:
        """Technicians and managers: configured ids, else the technician channel's members."""
        with self._lock:
            base = self._configured_technicians or self._channel_technicians
        return base | self._managers

    def refresh_technicians(self) -> None:
        """Re-read the technician channel's members when TICKETBOT_TECHNICIANS is not set."""
        if self._configured_technicians or not self._tech_channel:
            return
        members = [m for m in self._lookup.channel_members(self._tech_channel)]
        humans = []
        for member in members:
            info = self._lookup.user_info(member)
            if info is not None and not info.is_bot:
                humans.append(member)
        with self._lock:
            self._channel_technicians = frozenset(humans)

    def is_manager(self, slack_id: str) -> bool:
        return slack_id in self._managers

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
        person = session.scalar(select(Person).where(Person.slack_user_id == slack_id))
        now = self._clock.now()
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
                person.client_id = client.id if client is not None else None
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

    def sync(self, session: Session, slack_ids: Iterable[str]) -> None:
        """Fetch and cache several users (technicians and managers at start)."""
        for slack_id in slack_ids:
            self.person(session, slack_id, self.lookup_user(slack_id))

    def client_for_email(self, session: Session, email: str) -> Client | None:
        domain = email.rsplit("@", 1)[-1].lower()
        row = session.get(ClientDomain, domain)
        return row.client if row else None

    def client_for_channel(self, session: Session, channel_id: str | None) -> Client | None:
        if not channel_id:
            return None
        return session.scalar(select(Client).where(Client.slack_channel_id == channel_id))

    def roles(self, person: Person, ticket: Ticket) -> frozenset[Role]:
        """The actor's roles relative to this ticket."""
        roles: set[Role] = set()
        slack_id = person.slack_user_id or ""
        if self.is_manager(slack_id):
            roles |= {Role.MANAGER, Role.TECHNICIAN}
        elif self.is_technician(slack_id):
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
