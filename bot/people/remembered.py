"""People are read on every request, so each committed `people` row read is also kept in memory
for a while; a transaction that writes a person forgets that person's row."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from bot.domain.clock import Clock
from storage.models import Person

# How long a row read is kept: the bound on how stale another process's change to a name or
# email can look here.
REMEMBER_PEOPLE_FOR = timedelta(minutes=5)
_WRITTEN = "ticketbot.people_written"  # Session.info: Slack ids whose rows this session changes


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


class RememberedPeople:
    """The remembered rows, by key. Every write of a person goes through the Directory and
    forgets the row (see _writing); `_epoch` counts those writes, so that a read that raced one
    is not remembered."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._people: dict[str, _Remembered] = {}
        self._epoch = 0
        self._rows_lock = threading.Lock()

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
        with self._rows_lock:
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

    def _transaction_ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost one: committed or rolled back
            self._forget(session.info.pop(_WRITTEN, ()))

    def _forget(self, slack_ids: Iterable[str]) -> None:
        with self._rows_lock:
            self._epoch += 1
            for slack_id in slack_ids:
                self._people.pop(slack_id, None)
