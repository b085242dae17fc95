"""The unit of work every use-case is made of: one transaction, retried on an optimistic-lock
race, in which the actor and the ticket are loaded, the move is checked against the state
machine, and the ticket and its timeline rows are written."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from bot.domain import tickets
from bot.domain.clock import Clock
from bot.domain.text import TEXT_MAX
from bot.domain.tickets import Event, Role, State
from bot.messages.view import TicketView
from bot.people.directory import Directory
from bot.people.identity import Profile
from bot.service.actor import Actor
from bot.service.errors import NotFoundError
from bot.service.notify.matrix import Notifier
from bot.service.sla import SlaPolicy
from bot.service.timers.escalation import EscalationPolicy, kinds
from bot.service.timers.schedule import Timers
from bot.service.views import ticket_view
from storage.batch import batch
from storage.models import Person, Ticket, ticket_events_table, tickets_table

log = logging.getLogger(__name__)

# Helpers joined into the one SELECT, not the mapping's separate selectin round trip; a statement
# built once costs less per use than Session.get's own.
_TICKET_BY_ID = (
    select(Ticket).options(joinedload(Ticket.helpers)).where(Ticket.id == bindparam("ticket_id"))
)
_TICKET_KEYS = frozenset(inspect(Ticket).attrs.keys())
# A change of only these is saved with one Core UPDATE (see UnitOfWork._save).
_PLAIN_COLUMNS = frozenset(inspect(Ticket).column_attrs.keys()) - {"id", "version"}

T = TypeVar("T")

# Roles whose status changes count as a technician's attention (silent-assignee reminders).
_STAFF_ROLES = frozenset({Role.TECHNICIAN, Role.MANAGER, Role.ASSIGNEE, Role.HELPER})


class UnitOfWork:
    """The collaborators and the steps the use-cases share; each concept's use-cases
    (bot.service.lifecycle, conversation, queries) build on it."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        directory: Directory,
        notifier: Notifier,
        clock: Clock,
        timers: Timers | None = None,
        sla: SlaPolicy | None = None,
    ) -> None:
        """`timers`: the deployment's timer kinds (default: escalation with default delays);
        `sla`: its SLA targets and default calendar (default: the settings' defaults)."""
        self._sessions = session_factory
        self._directory = directory
        self._notify = notifier
        self._clock = clock
        self._timers = timers or Timers.of(kinds(EscalationPolicy()))
        self._sla = sla or SlaPolicy.of_defaults()

    @property
    def directory(self) -> Directory:
        return self._directory

    def _run(self, fn: Callable[[Session], T], *, retry_stale: bool = True) -> T:
        """Run `fn` in one transaction; retry on an optimistic-lock race unless told not to."""
        attempts = 3 if retry_stale else 1
        for attempt in range(attempts):
            try:
                with self._sessions.begin() as s:
                    return fn(s)
            except StaleDataError:
                if attempt == attempts - 1:
                    raise
                log.info("optimistic lock race; retrying (attempt %d)", attempt + 2)
        raise AssertionError("unreachable")

    def _on_ticket(
        self, actor: Actor, ticket_id: int, fn: Callable[[Session, Person, Ticket], None]
    ) -> None:
        info = self._fresh_info(actor)

        def run(s: Session) -> None:
            person, ticket = self._actor_and_ticket(s, actor, ticket_id, info)
            timers_at = self._clock.now()
            before = self._timers.plan(ticket, timers_at)
            fn(s, person, ticket)
            self._timers.changed(s, ticket, before, timers_at)
            self._save(s, ticket)

        self._run(run)

    def _save(self, s: Session, ticket: Ticket) -> None:
        """Write the ticket with one Core UPDATE, in the write batch, when only its own columns
        changed.

        The UPDATE carries the version the ticket was read at, as the ORM's would, so a concurrent
        change still raises StaleDataError (as the transaction commits). The saved ticket leaves
        the session (the unit of work would cost several times the UPDATE for one row); any other
        change is left to it.
        """
        state = inspect(ticket)
        changed = _TICKET_KEYS - state.unmodified
        if not changed or not changed <= _PLAIN_COLUMNS or s.new or s.deleted:
            return
        values = {key: getattr(ticket, key) for key in changed}
        seen = ticket.version
        batch(s).update_versioned(tickets_table, ticket.id, seen, {**values, "version": seen + 1})
        for key, value in values.items():
            set_committed_value(ticket, key, value)
        set_committed_value(ticket, "version", seen + 1)
        s.expunge(ticket)

    def _fresh_info(self, actor: Actor) -> Profile | None:
        if actor.profile is not None:
            return actor.profile
        if self._directory.is_fresh(actor.key):
            return None
        with self._sessions() as s:
            stale = self._directory.needs_lookup(s, actor.key)
        return self._directory.lookup_user(actor.key) if stale else None

    def _actor_and_ticket(
        self, s: Session, actor: Actor, ticket_id: int, info: Profile | None
    ) -> tuple[Person, Ticket]:
        ticket = self._ticket(s, ticket_id)
        return self._directory.person(s, actor.key, info), ticket

    def _ticket(self, s: Session, ticket_id: int) -> Ticket:
        ticket = s.execute(_TICKET_BY_ID, {"ticket_id": ticket_id}).unique().scalar_one_or_none()
        if ticket is None:
            raise NotFoundError(f"There is no ticket #{ticket_id}.")
        return ticket

    def _check(self, ticket: Ticket, person: Person, event: Event) -> None:
        roles = self._directory.roles(person, ticket)
        tickets.apply(ticket.id, State(ticket.state), event, roles, note="checked separately")

    def _transition(
        self, ticket: Ticket, person: Person, event: Event, note: str | None = None
    ) -> None:
        roles = self._directory.roles(person, ticket)
        ticket.state = tickets.apply(ticket.id, State(ticket.state), event, roles, note=note).value
        self._touch(ticket)
        if not _STAFF_ROLES.isdisjoint(roles):
            ticket.last_tech_update_at = ticket.updated_at
            SlaPolicy.responded(ticket)

    def _touch(self, ticket: Ticket) -> None:
        ticket.updated_at = self._clock.now()

    def _view(self, ticket: Ticket) -> TicketView:
        return ticket_view(ticket, self._clock.now())

    def _record(
        self,
        s: Session,
        ticket: Ticket,
        actor: Person | None,
        kind: str,
        text: str,
        surface: str,
        *,
        data: dict[str, Any] | None = None,
        source: tuple[str, str] | None = None,
    ) -> None:
        # Into the write batch, sent as the transaction commits: timeline rows are never read
        # back in the transaction that writes them.
        if actor is not None and actor.id is None:  # added in this transaction: give it its id
            s.flush()
        batch(s).insert(
            ticket_events_table,
            {
                "ticket_id": ticket.id,
                "at": self._clock.now(),
                "actor_id": actor.id if actor else None,
                "actor_label": actor.name if actor else "system",
                "kind": kind,
                "surface": surface,
                "text": text[:TEXT_MAX],
                "data": data or {},
                "source_channel": source[0] if source else None,
                "source_ts": source[1] if source else None,
            },
        )
