"""TicketService: every use-case is one transaction (ticket + timeline + outbox), never chat I/O."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, insert, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from bot.domain import replies, tickets
from bot.domain.clock import Clock
from bot.domain.tickets import Event, Role, State
from bot.messages import chat as messages
from bot.messages import escape
from bot.messages.view import (
    AFFECTED_CHOICES,
    PRIORITIES,
    DeliveryView,
    PersonRef,
    SlackMessage,
    TeamsMessage,
    TicketView,
    TimelineEntry,
)
from bot.people.directory import Directory, Profile
from bot.reports import Month, Report, ReportError, build_report
from bot.service.errors import ConflictError, ForbiddenError, NotFoundError, UserInputError
from bot.service.notify.matrix import Notifier
from bot.service.sla import SlaPolicy
from bot.service.timers.escalation import EscalationPolicy, kinds
from bot.service.timers.schedule import Timers
from bot.service.views import deliveries, monitoring_view, person_ref, ticket_view, timeline
from storage.batch import batch
from storage.models import (
    ChatMessage,
    Person,
    ProcessedEvent,
    Ticket,
    TicketEvent,
    TicketHelper,
    ticket_events_table,
    tickets_table,
)

log = logging.getLogger(__name__)

_INSERT_TICKET = insert(tickets_table).returning(tickets_table.c.id)
# Helpers joined into the one SELECT, not the mapping's separate selectin round trip; a statement
# built once costs less per use than Session.get's own.
_TICKET_BY_ID = (
    select(Ticket).options(joinedload(Ticket.helpers)).where(Ticket.id == bindparam("ticket_id"))
)
_TICKET_KEYS = frozenset(inspect(Ticket).attrs.keys())
# A change of only these is saved with one Core UPDATE (see TicketService._save).
_PLAIN_COLUMNS = frozenset(inspect(Ticket).column_attrs.keys()) - {"id", "version"}

T = TypeVar("T")

# Roles whose status changes count as a technician's attention (silent-assignee reminders).
_STAFF_ROLES = frozenset({Role.TECHNICIAN, Role.MANAGER, Role.ASSIGNEE, Role.HELPER})

TITLE_MAX = 150
TEXT_MAX = 40_000
# A card-thread reply starting with one of these is an internal note: recorded, never mirrored.
INTERNAL_MARKERS = re.compile(r"^\s*(internal:|\[internal\]|note to self:|🔒)", re.IGNORECASE)
# C0/C1 controls other than tab and newline: nobody types them, and PostgreSQL rejects NUL.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class DuplicateDeliveryError(Exception):
    """This inbound delivery (Slack event retry) was processed before."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a person's key (a Slack id, or `teams:<Entra object id>`) and the surface used.
    A Teams handler passes the `profile` it read from the conversation roster."""

    key: str
    surface: str = "slack"
    profile: Profile | None = None


@dataclass(frozen=True)
class ThreadOutcome:
    ticket_id: int
    kind: str  # update | internal_note | internal_comment | client_reply


@dataclass(frozen=True)
class TicketDetail:
    view: TicketView
    timeline: tuple[TimelineEntry, ...]  # every entry: the renderer leaves internal ones to staff
    deliveries: tuple[DeliveryView, ...]  # empty unless `staff`
    staff: bool


class TicketService:
    """The use-cases. Handlers parse Slack payloads and call exactly one method."""

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

    # ---- thread messages (Slack events) ----------------------------------------------------
    def thread_message(
        self,
        actor: Actor,
        *,
        channel: str,
        thread_ts: str,
        ts: str,
        text: str,
        delivery_key: str,
    ) -> ThreadOutcome | None:
        """A reply in a ticket's card thread or client thread. None when it is not a ticket's.

        In Teams the client thread can be the thread of the client's own post (the bot answered
        in it): its root is then the recorded client_root's `thread_ts`.
        """
        with self._sessions() as s:
            anchor = s.scalar(
                select(ChatMessage)
                .where(
                    ChatMessage.channel == channel,
                    or_(
                        ChatMessage.ts == thread_ts,
                        and_(
                            ChatMessage.surface == "teams",
                            ChatMessage.role == "client_root",
                            ChatMessage.thread_ts == thread_ts,
                        ),
                    ),
                    ChatMessage.role.in_(("card", "client_root")),
                )
                .limit(1)
            )
            if anchor is None:
                return None
            anchor_role, ticket_id = anchor.role, anchor.ticket_id
        info = self._fresh_info(actor)
        source = (channel, ts)
        text = clean_text(text)

        def run(s: Session) -> ThreadOutcome:
            self._claim_delivery(s, delivery_key)
            person, ticket = self._actor_and_ticket(s, actor, ticket_id, info)
            timers_at = self._clock.now()
            before = self._timers.plan(ticket, timers_at)
            outcome = reply(s, person, ticket)
            self._timers.changed(s, ticket, before, timers_at)
            return outcome

        def reply(s: Session, person: Person, ticket: Ticket) -> ThreadOutcome:
            plain = escape.slack_to_plain(text, self._names(s))
            if anchor_role == "card":
                roles = self._directory.roles(person, ticket)
                if Role.TECHNICIAN not in roles:  # managers are technicians too
                    return self._internal_comment(s, ticket, person, text, plain, actor, source)
                if INTERNAL_MARKERS.match(plain):
                    tickets.apply(ticket.id, State(ticket.state), Event.INTERNAL_NOTE, roles)
                    self._touch(ticket)
                    self._record(
                        s,
                        ticket,
                        person,
                        "internal_note",
                        plain,
                        actor.surface,
                        data={"encoded": text},
                        source=source,
                    )
                    return ThreadOutcome(ticket.id, "internal_note")
                old = ticket.state
                ticket.state = tickets.apply(ticket.id, State(old), Event.UPDATE, roles).value
                self._touch(ticket)
                ticket.last_tech_update_at = ticket.updated_at
                SlaPolicy.responded(ticket)
                self._record(
                    s,
                    ticket,
                    person,
                    "update",
                    plain,
                    actor.surface,
                    data={"encoded": text},
                    source=source,
                )
                self._notify.technician_update(
                    s,
                    ticket,
                    self._view(ticket),
                    person,
                    text,
                    plain,
                    source,
                    state_changed=old != ticket.state,
                )
                return ThreadOutcome(ticket.id, "update")
            roles = self._directory.roles(person, ticket)
            tickets.apply(ticket.id, State(ticket.state), Event.CLIENT_REPLY, roles)
            self._touch(ticket)
            self._record(
                s,
                ticket,
                person,
                "client_reply",
                plain,
                actor.surface,
                data={"encoded": text},
                source=source,
            )
            label = _role_label(roles)
            self._notify.client_reply(
                s, ticket, self._view(ticket), person, label, text, plain, source
            )
            return ThreadOutcome(ticket.id, "client_reply")

        try:
            return self._run(run)
        except DuplicateDeliveryError:
            return None

    def _internal_comment(
        self,
        s: Session,
        ticket: Ticket,
        person: Person,
        text: str,
        plain: str,
        actor: Actor,
        source: tuple[str, str],
    ) -> ThreadOutcome:
        """A card-thread reply by someone who is not a technician or manager now: a timeline row
        only (the ticket is not touched, nothing reaches the client), and the author is told."""
        self._record(
            s,
            ticket,
            person,
            "internal_comment",
            plain,
            actor.surface,
            data={"encoded": text},
            source=source,
        )
        if person.deactivated_at is None:  # Slack refuses to show a deactivated account anything
            self._notify.ephemeral(s, actor.key, source[0], messages.not_an_update(ticket.id))
        return ThreadOutcome(ticket.id, "internal_comment")

    def message_edited(self, *, channel: str, ts: str, text: str, delivery_key: str) -> bool:
        """An edit of a reply we recorded: a timeline row saying what it did to the client's view.

        A card-thread reply follows its internal marker: an update edited into an internal note
        loses its mirror (`made_internal`); an internal note edited into an update is mirrored and
        emailed as a fresh update would be (`made_public`), when its author is a technician now and
        the ticket takes updates, else it stays internal and the author is told why. Any other
        edit of a reply the client sees updates the mirror (`edited`); the rest stay internal.
        """
        text = clean_text(text)

        def run(s: Session) -> bool:
            self._claim_delivery(s, delivery_key)
            history = self._reply_history(s, channel, ts)
            if not history or any(r.kind == replies.DELETED for r in history):
                return False
            original = history[0]
            ticket = self._ticket(s, original.ticket_id)
            author = s.get(Person, original.actor_id) if original.actor_id else None
            plain = escape.slack_to_plain(text, self._names(s))
            self._touch(ticket)
            public = replies.is_public(r.kind for r in history)
            marked = INTERNAL_MARKERS.match(plain) is not None
            source = (channel, ts)
            kind = replies.EDITED if public else replies.INTERNAL_EDIT
            if original.kind in replies.CARD_REPLIES and public and marked:
                kind = replies.MADE_INTERNAL
                self._notify.mirror_delete(s, ticket, source)
            elif original.kind in replies.CARD_REPLIES and not public and not marked and author:
                refusal = self._publish(s, ticket, author, text, plain, source)
                if refusal is None:
                    kind = replies.MADE_PUBLIC
                elif author.slack_user_id:
                    self._notify.ephemeral(
                        s, author.slack_user_id, channel, messages.refused(refusal)
                    )
            elif public and author is not None:
                role = (
                    "technician"
                    if original.kind in replies.CARD_REPLIES
                    else _role_label(self._directory.roles(author, ticket))
                )
                self._notify.mirror_edit(
                    s, ticket, source, messages.mirrored(person_ref(author), role, text)
                )
            self._record(
                s,
                ticket,
                author,
                kind,
                plain,
                "slack",
                data={"encoded": text, "of": original.id},
                source=source,
            )
            return True

        try:
            return self._run(run)
        except DuplicateDeliveryError:
            return False

    def _publish(
        self,
        s: Session,
        ticket: Ticket,
        author: Person,
        text: str,
        plain: str,
        source: tuple[str, str],
    ) -> str | None:
        """An internal note edited into an update does what a fresh update does (a state change
        if it starts work, the mirror, the email); or it stays internal and this says why.

        Only someone who is a technician (or manager) at the time of the edit publishes a note.
        """
        if Role.TECHNICIAN not in self._directory.roles(author, ticket):
            return (
                f"Your edited reply on ticket #{ticket.id} stays internal: "
                "only a technician's reply reaches the client."
            )
        old = ticket.state
        roles = self._directory.roles(author, ticket)
        timers_at = self._clock.now()
        before = self._timers.plan(ticket, timers_at)
        try:
            ticket.state = tickets.apply(ticket.id, State(old), Event.UPDATE, roles).value
        except tickets.TransitionError as e:
            return f"{e.message} Your edited reply stays internal."
        ticket.last_tech_update_at = self._clock.now()
        SlaPolicy.responded(ticket)
        self._timers.changed(s, ticket, before, timers_at)
        self._notify.technician_update(
            s,
            ticket,
            self._view(ticket),
            author,
            text,
            plain,
            source,
            state_changed=old != ticket.state,
        )
        return None

    def message_deleted(self, *, channel: str, ts: str, delivery_key: str) -> bool:
        """A recorded reply was deleted: a timeline row; its mirror goes if the client sees it."""

        def run(s: Session) -> bool:
            self._claim_delivery(s, delivery_key)
            history = self._reply_history(s, channel, ts)
            if not history or any(r.kind == replies.DELETED for r in history):
                return False
            original = history[0]
            ticket = self._ticket(s, original.ticket_id)
            actor = s.get(Person, original.actor_id) if original.actor_id else None
            self._touch(ticket)
            self._record(
                s,
                ticket,
                actor,
                replies.DELETED,
                "",
                "slack",
                data={"of": original.id},
                source=(channel, ts),
            )
            if replies.is_public(r.kind for r in history):
                self._notify.mirror_delete(s, ticket, (channel, ts))
            return True

        try:
            return self._run(run)
        except DuplicateDeliveryError:
            return False

    # ---- reading ---------------------------------------------------------------------------
    def status(self, actor: Actor, ticket_id: int) -> tuple[TicketView, list[TimelineEntry]]:
        with self._sessions() as s:
            ticket = self._ticket(s, ticket_id)
            if not self._may_see(s, actor, ticket):
                raise NotFoundError(f"There is no ticket #{ticket_id} you can see.")
            view = self._view(ticket)
            if ticket.source == "monitoring":
                view = replace(view, monitoring=monitoring_view(s, ticket.id))
            return view, timeline(s, ticket.id)

    def detail(self, actor: Actor, ticket_id: int) -> TicketDetail:
        """What the ticket detail modal shows `actor`; NotFoundError unless they may see it.
        Staff also get its notifications' delivery states."""
        view, entries = self.status(actor, ticket_id)
        staff = self._directory.is_technician(actor.key)
        sent: list[DeliveryView] = []
        if staff:
            with self._sessions() as s:
                sent = deliveries(s, ticket_id)
        return TicketDetail(view, tuple(entries), tuple(sent), staff)

    def my_open(self, actor: Actor) -> list[TicketView]:
        with self._sessions() as s:
            person = self._directory.find(s, actor.key)
            if person is None:
                return []
            open_states = [st.value for st in tickets.OPEN_STATES]
            query = select(Ticket).where(Ticket.state.in_(open_states)).order_by(Ticket.id)
            if self._directory.staff_roles(person):
                helping = select(TicketHelper.ticket_id).where(TicketHelper.person_id == person.id)
                query = query.where(
                    (Ticket.assignee_id == person.id)
                    | Ticket.id.in_(helping)
                    | (Ticket.submitter_id == person.id)
                )
            else:
                query = query.where(Ticket.submitter_id == person.id)
            return [self._view(t) for t in s.scalars(query.limit(50)).unique()]

    def ticket_for_message(self, channel: str | None, ts: str | None) -> int | None:
        """The ticket whose card (or other recorded message) is channel/ts."""
        if not channel or not ts:
            return None
        with self._sessions() as s:
            return s.scalar(
                select(ChatMessage.ticket_id).where(
                    ChatMessage.channel == channel, ChatMessage.ts == ts
                )
            )

    def technicians_with_load(self) -> list[tuple[PersonRef, int]]:
        with self._sessions() as s:
            counts = self._directory.open_counts(s)
            people = self._directory.people(s, self._directory.technicians)
            return [(person_ref(p), counts.get(p.id, 0)) for p in people]

    def monthly_report(
        self, actor: Actor, *, client: str | None = None, month: Month | None = None
    ) -> Report:
        """A month's figures (default: the previous month in the MSP's timezone), of `client`
        or of every client; managers only (ForbiddenError), NotFoundError for an unknown client."""
        if not self._directory.is_manager(actor.key):
            raise ForbiddenError("Only IT managers can see ticket reports.")
        now = self._clock.now()
        month = month or Month.containing(now, self._sla.default.tz).previous()
        with self._sessions() as s:
            try:
                return build_report(s, month, self._sla, now=now, client=client)
            except ReportError as e:
                raise NotFoundError(e.message) from None

    def thread_of_reply(self, conversation: str, message_id: str) -> str | None:
        """In a chat without threads (Teams 1:1), the ticket thread a quoted reply belongs to:
        the client_root's id of the ticket whose message `message_id` is; None when none is."""
        with self._sessions() as s:
            ticket_id = s.scalar(
                select(ChatMessage.ticket_id).where(
                    ChatMessage.channel == conversation, ChatMessage.ts == message_id
                )
            )
            if ticket_id is None:
                return None
            return s.scalar(
                select(ChatMessage.ts)
                .where(
                    ChatMessage.ticket_id == ticket_id,
                    ChatMessage.channel == conversation,
                    ChatMessage.role == "client_root",
                )
                .order_by(ChatMessage.id.desc())
                .limit(1)
            )

    def answer_in_teams(self, conversation: str, msg: SlackMessage | TeamsMessage) -> None:
        """Answer a Teams message (a command) in its conversation, through the outbox: a
        message activity gets no answer in its HTTP response."""
        with self._sessions.begin() as s:
            self._notify.teams_answer(s, conversation, msg)

    def is_staff(self, actor: Actor) -> bool:
        """A technician or manager now (who sees internal notes)."""
        if self._directory.is_technician(actor.key):
            return True
        with self._sessions() as s:
            person = self._directory.find(s, actor.key)
            return person is not None and bool(self._directory.staff_roles(person))

    def tell(self, user: str, channel: str, text: str) -> None:
        """Send `user` an ephemeral message in `channel` (through the outbox)."""
        with self._sessions.begin() as s:
            self._notify.ephemeral(s, user, channel, messages.refused(text))

    # ---- internals -------------------------------------------------------------------------
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

    def _claim_delivery(self, s: Session, key: str) -> None:
        if s.get(ProcessedEvent, key) is not None:
            raise DuplicateDeliveryError(key)
        try:
            with s.begin_nested():
                s.add(ProcessedEvent(key=key, at=self._clock.now()))
        except IntegrityError:
            raise DuplicateDeliveryError(key) from None

    def _reply_history(self, s: Session, channel: str, ts: str) -> list[TicketEvent]:
        """The timeline rows of the reply posted as channel/ts, oldest (the original) first."""
        return list(
            s.scalars(
                select(TicketEvent)
                .where(TicketEvent.source_channel == channel, TicketEvent.source_ts == ts)
                .order_by(TicketEvent.id)
            )
        )

    def _names(self, s: Session) -> dict[str, str]:
        rows = s.execute(select(Person.slack_user_id, Person.name)).all()
        return {sid: name for sid, name in rows if sid}

    def _may_see(self, s: Session, actor: Actor, ticket: Ticket) -> bool:
        if self._directory.is_technician(actor.key):
            return True
        person = self._directory.find(s, actor.key)
        if person is None:
            return False
        if self._directory.staff_roles(person) or ticket.submitter_id == person.id:
            return True
        return ticket.client_id is not None and ticket.client_id == person.client_id


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


def clean_text(text: str | None) -> str:
    """User text without control characters, trimmed and capped."""
    return CONTROL_CHARS.sub("", text or "").strip()[:TEXT_MAX]


def _role_label(roles: frozenset[Role]) -> str:
    if Role.TECHNICIAN in roles:
        return "technician"
    if Role.CONTACT in roles:
        return "client contact"
    return "client"
