"""Who is in each audience: the client's addresses, the technicians, the managers, and everyone
involved in a ticket."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.service.notify.rows import Rows
from storage.models import Person, Ticket, TicketEvent

# Timeline kinds whose actor counts as "involved" for the closing notice.
INVOLVING_KINDS = (
    "update",
    "made_public",
    "client_reply",
    "helper_added",
    "onsite",
    "resolved",
    "assigned",
)


class Audiences(Rows):
    """The people a notice goes to."""

    def client_addresses(self, ticket: Ticket) -> list[str]:
        out = []
        if ticket.submitter is not None and ticket.submitter.email:
            out.append(ticket.submitter.email)
        if ticket.client is not None and ticket.client.contact_email:
            out.append(ticket.client.contact_email)
        return out

    def technician_people(self, session: Session) -> list[Person]:
        """The technicians (read once per transaction: an alert storm opens many tickets)."""
        cached: list[Person] | None = session.info.get("ticketbot.technicians")
        if cached is None:
            cached = session.info["ticketbot.technicians"] = self._directory.people(
                session, self._directory.technicians
            )
        return cached

    def manager_ids(self) -> list[str]:
        """One key per manager (a Slack id, else a `teams:` key): where a manager's DM goes."""
        return sorted(self._directory.manager_contacts)

    def involved(self, session: Session, ticket: Ticket) -> list[Person]:
        """Everyone who worked on or took part in the ticket (for the closing notice)."""
        ids: set[int] = set()
        for pid in (ticket.assignee_id, ticket.submitter_id, ticket.onsite_person_id):
            if pid is not None:
                ids.add(pid)
        ids |= {h.person_id for h in ticket.helpers}
        ids |= {
            pid
            for pid in session.scalars(
                select(TicketEvent.actor_id).where(
                    TicketEvent.ticket_id == ticket.id,
                    TicketEvent.kind.in_(INVOLVING_KINDS),
                    TicketEvent.actor_id.is_not(None),
                )
            )
            if pid is not None
        }
        if not ids:
            return []
        people = session.scalars(select(Person).where(Person.id.in_(ids))).all()
        return sorted(people, key=lambda p: p.name.lower())
