"""The ticket's lifecycle use-cases: open, assign, start, priority, help, onsite, resolve,
confirm and reopen; each one transaction through the unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.domain.text import CONTROL_CHARS, TEXT_MAX, TITLE_MAX, clean_text
from bot.domain.tickets import Event, State
from bot.messages import escape
from bot.messages.view import AFFECTED_CHOICES, PRIORITIES, TicketView
from bot.service.actor import Actor
from bot.service.errors import ConflictError, UserInputError
from bot.service.unit_of_work import UnitOfWork
from bot.service.views import person_ref, ticket_view
from storage.models import Person, Ticket, TicketEvent, TicketHelper, tickets_table

_INSERT_TICKET = insert(tickets_table).returning(tickets_table.c.id)


class Lifecycle(UnitOfWork):
    """A ticket's moves through the state machine, with their timeline and notifications."""

    # ---- creating --------------------------------------------------------------------------
    def open_ticket(
        self,
        actor: Actor,
        *,
        title: str,
        description: str = "",
        priority: str = "medium",
        affected: str | None = None,
        origin_channel: str | None = None,
        teams_tenant: str | None = None,
    ) -> int:
        """Create a ticket from a person; returns its id. Raises UserInputError on bad fields.
        `origin_channel`: where they asked (a Slack channel, or a Teams conversation)."""
        title, description = split_title(title, description)
        if priority not in PRIORITIES:
            raise UserInputError(f"Priority must be one of {', '.join(PRIORITIES)}.")
        if affected is not None and affected not in AFFECTED_CHOICES:
            raise UserInputError("Please pick how many people are affected from the list.")
        info = self._fresh_info(actor)

        def run(s: Session) -> int:
            now = self._clock.now()
            person = self._directory.person(s, actor.key, info)
            client = self._directory.client_for_ticket(
                s, person, origin_channel, teams_tenant=teams_tenant
            )
            values: dict[str, Any] = {
                "title": title,
                "description": description,
                "priority": priority,
                "state": State.NEW.value,
                "affected": affected,
                "source": actor.surface,
                "client_id": client.id if client is not None else None,
                "client_unknown": client is None,
                "submitter_id": person.id,
                "origin_channel": origin_channel,
                "created_at": now,
                "updated_at": now,
                "version": 1,
                **self._sla.opened(priority, client, now),
            }
            # A Core insert (the unit of work buys nothing for one new row); `ticket` is a
            # transient copy for the view and the notifier, never added to the session.
            ticket_id = s.execute(_INSERT_TICKET, values).scalar_one()
            ticket = Ticket(
                id=ticket_id,
                **values,
                client=client,
                submitter=person,
                assignee=None,
                onsite_person=None,
                helpers=[],
            )
            self._record(
                s,
                ticket,
                person,
                "created",
                f"{priority} — {title}",
                actor.surface,
                data={"priority": priority, "affected": affected},
            )
            self._notify.created(s, ticket, ticket_view(ticket, now))
            self._timers.opened(s, ticket, now)
            return ticket.id

        return self._run(run)

    # ---- manager and technician actions ----------------------------------------------------
    def assign(
        self, actor: Actor, ticket_id: int, assignee_id: str, *, expected_version: int | None = None
    ) -> None:
        """Assign or reassign. With `expected_version`, a concurrent change makes ConflictError."""
        if not self._directory.is_technician(assignee_id):
            raise UserInputError("Please pick one of the technicians from the list.")
        actor_info = self._fresh_info(actor)
        assignee_info = self._fresh_info(Actor(assignee_id))

        def run(s: Session) -> None:
            person, ticket = self._actor_and_ticket(s, actor, ticket_id, actor_info)
            timers_at = self._clock.now()
            before = self._timers.plan(ticket, timers_at)
            self._check(ticket, person, Event.ASSIGN)
            if expected_version is not None and ticket.version != expected_version:
                raise self._assign_conflict(s, ticket)
            assignee = self._directory.person(s, assignee_id, assignee_info)
            if ticket.assignee_id == assignee.id:
                raise UserInputError(f"Ticket #{ticket.id} is already assigned to {assignee.name}.")
            previous = ticket.assignee
            self._transition(ticket, person, Event.ASSIGN)
            ticket.assignee = assignee
            self._record(
                s,
                ticket,
                person,
                "assigned",
                f"assigned to {assignee.name}",
                actor.surface,
                data={"assignee": assignee_id, "previous": previous.name if previous else None},
            )
            self._notify.assigned(
                s, ticket, self._view(ticket), person_ref(person), previous=previous
            )
            self._timers.changed(s, ticket, before, timers_at)

        try:
            self._run(run, retry_stale=expected_version is None)
        except StaleDataError:
            with self._sessions() as s:
                ticket = self._ticket(s, ticket_id)
                raise self._assign_conflict(s, ticket) from None

    def _assign_conflict(self, s: Session, ticket: Ticket) -> ConflictError:
        last = s.scalar(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "assigned")
            .order_by(TicketEvent.id.desc())
            .limit(1)
        )
        if last is not None and ticket.assignee is not None:
            return ConflictError(
                f"Ticket #{ticket.id} was just assigned to {ticket.assignee.name} by "
                f"{last.actor_label}. Nothing was changed; click Reassign to change it."
            )
        return ConflictError(
            f"Ticket #{ticket.id} changed while you were choosing. Nothing was changed; "
            "please try again."
        )

    def start(self, actor: Actor, ticket_id: int) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._transition(ticket, person, Event.START)
            self._record(s, ticket, person, "started", "started work", actor.surface)
            self._notify.started(s, ticket, self._view(ticket), person_ref(person))

        self._on_ticket(actor, ticket_id, run)

    def change_priority(self, actor: Actor, ticket_id: int, priority: str) -> None:
        if priority not in PRIORITIES:
            raise UserInputError(f"Priority must be one of {', '.join(PRIORITIES)}.")

        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._check(ticket, person, Event.CHANGE_PRIORITY)
            old = ticket.priority
            if old == priority:
                raise UserInputError(f"Ticket #{ticket.id} is already {priority}.")
            self._transition(ticket, person, Event.CHANGE_PRIORITY)
            ticket.priority = priority
            self._sla.repriced(ticket, self._clock.now())
            self._record(
                s,
                ticket,
                person,
                "priority",
                f"priority {old} → {priority}",
                actor.surface,
                data={"old": old, "new": priority},
            )
            view, by = self._view(ticket), person_ref(person)
            if priority == "critical":
                self._notify.raised_to_critical(s, ticket, view, old, by)
            else:
                self._notify.priority_changed(s, ticket, view, old, by)

        self._on_ticket(actor, ticket_id, run)

    def request_help(self, actor: Actor, ticket_id: int) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._transition(ticket, person, Event.REQUEST_HELP)
            self._record(s, ticket, person, "help_requested", "asked for more hands", actor.surface)
            self._notify.help_requested(s, ticket, self._view(ticket), person_ref(person))

        self._on_ticket(actor, ticket_id, run)

    def offer_help(self, actor: Actor, ticket_id: int) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._check(ticket, person, Event.OFFER_HELP)
            if ticket.assignee_id == person.id:
                raise UserInputError(f"You're the assignee of #{ticket.id} already.")
            if any(h.person_id == person.id for h in ticket.helpers):
                raise UserInputError(f"You're already helping on #{ticket.id}. Thank you!")
            self._transition(ticket, person, Event.OFFER_HELP)
            ticket.helpers.append(
                TicketHelper(person_id=person.id, person=person, added_at=self._clock.now())
            )
            self._record(
                s, ticket, person, "helper_added", f"{person.name} is helping", actor.surface
            )
            self._notify.helper_added(s, ticket, self._view(ticket), person_ref(person))

        self._on_ticket(actor, ticket_id, run)

    def dispatch_onsite(
        self, actor: Actor, ticket_id: int, *, who: str, eta: str, note: str = ""
    ) -> None:
        eta = escape.one_line(eta or "", 200)
        if not eta:
            raise UserInputError(
                "Please say when they will be there (for example: 14:30, or in 1 hour)."
            )
        if not self._directory.is_technician(who):
            raise UserInputError("Please pick one of the technicians from the list.")
        who_info = self._fresh_info(Actor(who))

        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._transition(ticket, person, Event.DISPATCH_ONSITE)
            goer = self._directory.person(s, who, who_info)
            ticket.onsite_person = goer
            ticket.onsite_eta = eta
            ticket.onsite_note = clean_text(note)
            self._record(
                s,
                ticket,
                person,
                "onsite",
                f"{goer.name} onsite, ETA {eta}",
                actor.surface,
                data={"who": who, "eta": eta},
            )
            self._notify.onsite(s, ticket, self._view(ticket), person)

        self._on_ticket(actor, ticket_id, run)

    def resolve(self, actor: Actor, ticket_id: int, verification: str) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            note = clean_text(verification)
            self._transition(ticket, person, Event.RESOLVE, note=note)
            ticket.resolution_note = note
            self._record(s, ticket, person, "resolved", note, actor.surface)
            self._notify.resolved(s, ticket, self._view(ticket))

        self._on_ticket(actor, ticket_id, run)

    def confirm(self, actor: Actor, ticket_id: int) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            self._transition(ticket, person, Event.CONFIRM)
            ticket.closed_at = self._clock.now()
            self._record(s, ticket, person, "closed", "confirmed fixed", actor.surface)
            self._notify.closed(s, ticket, self._view(ticket), person_ref(person))

        self._on_ticket(actor, ticket_id, run)

    def reopen(self, actor: Actor, ticket_id: int, reason: str) -> None:
        def run(s: Session, person: Person, ticket: Ticket) -> None:
            why = clean_text(reason)
            self._sla.reopened(s, ticket, self._clock.now())
            self._transition(ticket, person, Event.REOPEN, note=why)
            ticket.resolution_note = None
            self._record(s, ticket, person, "reopened", why, actor.surface)
            self._notify.reopened(s, ticket, self._view(ticket), person_ref(person), why)

        self._on_ticket(actor, ticket_id, run)

    def check(self, actor: Actor, ticket_id: int, event: Event) -> TicketView:
        """Raise TransitionError unless `actor` may do `event` now (before opening a modal)."""
        info = self._fresh_info(actor)

        def run(s: Session) -> TicketView:
            person, ticket = self._actor_and_ticket(s, actor, ticket_id, info)
            self._check(ticket, person, event)
            return self._view(ticket)

        return self._run(run)


def split_title(text: str, description: str = "") -> tuple[str, str]:
    """A one-line title of at most TITLE_MAX characters; overflow goes to the description."""
    raw = CONTROL_CHARS.sub("", text or "").strip()
    description = CONTROL_CHARS.sub("", description or "")
    if not any(ch.isprintable() and not ch.isspace() for ch in raw):
        raise UserInputError("Please give the ticket a short title, e.g. `/ticket printer jammed`.")
    first_line = " ".join(raw.splitlines()[0].split())
    title = first_line if len(first_line) <= TITLE_MAX else first_line[: TITLE_MAX - 1] + "…"
    rest = (description or "").strip()
    if title != raw:
        rest = f"{raw}\n\n{rest}".strip() if rest else raw
    return title, rest[:TEXT_MAX]
