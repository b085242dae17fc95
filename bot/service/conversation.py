"""The conversation use-cases: replies in a ticket's threads (technician updates, internal notes,
client replies), their edits and deletions, and the bot's answers to one person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain import replies, tickets
from bot.domain.text import clean_text
from bot.domain.tickets import Event, Role, State
from bot.messages import chat as messages
from bot.messages import escape
from bot.messages.view import SlackMessage, TeamsMessage
from bot.service.actor import Actor
from bot.service.sla import SlaPolicy
from bot.service.unit_of_work import UnitOfWork
from bot.service.views import person_ref
from storage.models import ChatMessage, Person, ProcessedEvent, Ticket, TicketEvent

# A card-thread reply starting with one of these is an internal note: recorded, never mirrored.
INTERNAL_MARKERS = re.compile(r"^\s*(internal:|\[internal\]|note to self:|🔒)", re.IGNORECASE)


class DuplicateDeliveryError(Exception):
    """This inbound delivery (Slack event retry) was processed before."""


@dataclass(frozen=True)
class ThreadOutcome:
    ticket_id: int
    kind: str  # update | internal_note | internal_comment | client_reply


class Conversation(UnitOfWork):
    """What people write in a ticket's threads, and what the bot answers them."""

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

    # ---- answers to one person -------------------------------------------------------------
    def answer_in_teams(self, conversation: str, msg: SlackMessage | TeamsMessage) -> None:
        """Answer a Teams message (a command) in its conversation, through the outbox: a
        message activity gets no answer in its HTTP response."""
        with self._sessions.begin() as s:
            self._notify.teams_answer(s, conversation, msg)

    def tell(self, user: str, channel: str, text: str) -> None:
        """Send `user` an ephemeral message in `channel` (through the outbox)."""
        with self._sessions.begin() as s:
            self._notify.ephemeral(s, user, channel, messages.refused(text))

    # ---- internals -------------------------------------------------------------------------
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


def _role_label(roles: frozenset[Role]) -> str:
    if Role.TECHNICIAN in roles:
        return "technician"
    if Role.CONTACT in roles:
        return "client contact"
    return "client"
