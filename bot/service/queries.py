"""The read-only use-cases: a ticket's status and detail, a person's open tickets, the
technicians' load, the monthly report, and which ticket a chat message belongs to."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import tickets
from bot.messages.view import DeliveryView, PersonRef, TicketView, TimelineEntry
from bot.reports.build import ReportError, build_report
from bot.reports.figures import Report
from bot.reports.month import Month
from bot.service.actor import Actor
from bot.service.errors import ForbiddenError, NotFoundError
from bot.service.unit_of_work import UnitOfWork
from bot.service.views import deliveries, monitoring_view, person_ref, timeline
from storage.models import ChatMessage, Ticket, TicketHelper

_OPEN_PER_ASSIGNEE = (
    select(Ticket.assignee_id, func.count())
    .where(Ticket.state.in_(("assigned", "in_progress", "awaiting_confirmation")))
    .where(Ticket.assignee_id.is_not(None))
    .group_by(Ticket.assignee_id)
)


@dataclass(frozen=True)
class TicketDetail:
    view: TicketView
    timeline: tuple[TimelineEntry, ...]  # every entry: the renderer leaves internal ones to staff
    deliveries: tuple[DeliveryView, ...]  # empty unless `staff`
    staff: bool


class Queries(UnitOfWork):
    """What people may see of tickets; each reads in its own session and writes nothing."""

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
        """The technicians, each with their open tickets' count (for the Assign modal)."""
        with self._sessions() as s:
            counts = {
                int(pid): int(n) for pid, n in s.execute(_OPEN_PER_ASSIGNEE) if pid is not None
            }
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

    def is_staff(self, actor: Actor) -> bool:
        """A technician or manager now (who sees internal notes)."""
        if self._directory.is_technician(actor.key):
            return True
        with self._sessions() as s:
            person = self._directory.find(s, actor.key)
            return person is not None and bool(self._directory.staff_roles(person))

    # ---- internals -------------------------------------------------------------------------
    def _may_see(self, s: Session, actor: Actor, ticket: Ticket) -> bool:
        if self._directory.is_technician(actor.key):
            return True
        person = self._directory.find(s, actor.key)
        if person is None:
            return False
        if self._directory.staff_roles(person) or ticket.submitter_id == person.id:
            return True
        return ticket.client_id is not None and ticket.client_id == person.client_id
