"""Who people are: one `people` row per person across Slack, Teams and email, found by any of
their keys (bot.people.identity), created or refreshed from what Slack or Teams says of them.
A Teams identity and a Slack one with the same email address are the same person."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.clock import Clock
from bot.people.clients import ClientMatching
from bot.people.identity import TEAMS_PREFIX, Profile, SlackUser, TeamsUser, UserLookup, keys_of
from bot.people.remembered import RememberedPeople
from bot.people.roles import Roles
from storage.models import Person

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(hours=24)
_PERSON_BY_SLACK_ID = select(Person).where(Person.slack_user_id == bindparam("slack_id"))
_PERSON_BY_AAD_ID = select(Person).where(Person.teams_aad_id == bindparam("aad_id"))
_BY_EMAIL = select(Person).where(func.lower(Person.email) == bindparam("email")).order_by(Person.id)


def _complete(info: SlackUser | TeamsUser) -> bool:
    return not isinstance(info, TeamsUser) or info.from_roster


class Directory(Roles, ClientMatching):
    """Resolves people's keys to `Person` rows (remembering the rows it reads), knows who the
    managers and technicians are (Roles) and which client a person belongs to (ClientMatching)."""

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
        Roles.__init__(
            self,
            managers=managers,
            technicians=technicians,
            tech_channel=tech_channel,
            teams_tech_channel=teams_tech_channel,
        )
        RememberedPeople.__init__(self, clock)
        self._lookup = lookup
        # When each cached person was last refreshed from Slack: skips a query per request.
        self._refreshed: dict[str, datetime] = {}

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
