"""Who hears what: the notification matrix (ARCHITECTURE.md, "Who is told what"), one method per
row, written as outbox rows in the use-case's transaction; then the timers' notices."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.messages import chat as messages
from bot.messages import email
from bot.messages.view import PersonRef, TicketView
from bot.service.notify.monitoring import MonitoringNotices
from bot.service.views import person_ref
from storage.models import Person, Ticket


class Notifier(MonitoringNotices):
    """Writes the outbox rows for one ticket event, in the use-case's transaction: the rows of
    the table here, monitoring's in MonitoringNotices, each through the routes to every surface
    the audience is on."""

    def created(self, session: Session, ticket: Ticket, view: TicketView) -> None:
        if self._lifecycle is not None:
            self._lifecycle.created(session, ticket)
        critical = ticket.priority == "critical"
        self.card(session, ticket, ping=critical)
        self.client_root(session, ticket, messages.received(view))
        to = self.client_addresses(ticket)
        self.email(session, ticket, to, email.received(view), root=True)
        if critical:
            self._critical_fanout(session, ticket, view, client_told=True)
        if ticket.client_unknown:
            for manager in self.manager_ids():
                self.dm(session, ticket, manager, messages.unknown_client_dm(view))

    def raised_to_critical(
        self, session: Session, ticket: Ticket, view: TicketView, old: str, by: PersonRef
    ) -> None:
        self.card(session, ticket)
        self.tech_thread(
            session,
            ticket,
            messages.critical_ping(view, self._settings.critical_mention),
            reply_broadcast=True,
            ping=True,
        )
        self.client_thread(session, ticket, messages.priority_changed(view, old, by))
        self._critical_fanout(session, ticket, view, client_told=False)

    def _critical_fanout(
        self, session: Session, ticket: Ticket, view: TicketView, *, client_told: bool
    ) -> None:
        """Email every technician (and the client, unless just told) and DM the managers."""
        to = [p.email for p in self.technician_people(session) if p.email]
        if not client_told:
            to += self.client_addresses(ticket)
        self.email(session, ticket, to, email.critical_alert(view))
        for manager in self.manager_ids():
            self.dm(session, ticket, manager, messages.manager_critical_dm(view))

    def priority_changed(
        self, session: Session, ticket: Ticket, view: TicketView, old: str, by: PersonRef
    ) -> None:
        self.card(session, ticket)
        self.tech_thread(session, ticket, messages.priority_changed(view, old, by))
        self.client_thread(session, ticket, messages.priority_changed(view, old, by))

    def assigned(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        by: PersonRef,
        *,
        previous: Person | None = None,
    ) -> None:
        if self._lifecycle is not None:
            self._lifecycle.assigned(session, ticket, first=previous is None)
        self.card(session, ticket)
        self.client_thread(session, ticket, messages.assigned(view))
        if ticket.assignee is not None:
            self.dm_person(session, ticket, ticket.assignee, messages.assignee_dm(view, by))
        if previous is not None:
            self.dm_person(session, ticket, previous, messages.reassigned_dm(view, by))
        self.email(session, ticket, self.client_addresses(ticket), email.assigned(view))

    def started(self, session: Session, ticket: Ticket, view: TicketView, by: PersonRef) -> None:
        self.card(session, ticket)
        self.client_thread(session, ticket, messages.started(view, by))

    def technician_update(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        author: Person,
        encoded_text: str,
        plain_text: str,
        source: tuple[str, str],
        state_changed: bool,
    ) -> None:
        if state_changed:
            self.card(session, ticket)
        self.client_thread(
            session,
            ticket,
            messages.mirrored(person_ref(author), "technician", encoded_text),
            record_role="mirror",
            source=list(source),
        )
        self.email(
            session,
            ticket,
            self.client_addresses(ticket),
            email.update(view, person_ref(author), plain_text),
        )

    def client_reply(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        author: Person,
        role_label: str,
        encoded_text: str,
        plain_text: str,
        source: tuple[str, str],
    ) -> None:
        self.tech_thread(
            session,
            ticket,
            messages.mirrored(person_ref(author), role_label, encoded_text),
            record_role="mirror",
            source=list(source),
        )
        if (
            ticket.assignee is not None
            and ticket.assignee.email
            and ticket.assignee_id != author.id
        ):
            self.email(
                session,
                ticket,
                [ticket.assignee.email],
                email.update(view, person_ref(author), plain_text),
            )

    def help_requested(
        self, session: Session, ticket: Ticket, view: TicketView, by: PersonRef
    ) -> None:
        self.tech_channel(session, ticket, messages.help_request(view, by), record_role="help")

    def helper_added(
        self, session: Session, ticket: Ticket, view: TicketView, helper: PersonRef
    ) -> None:
        self.card(session, ticket)
        self.tech_thread(session, ticket, messages.helper_added(view, helper))
        if ticket.assignee is not None:
            self.dm_person(session, ticket, ticket.assignee, messages.helper_added(view, helper))

    def onsite(self, session: Session, ticket: Ticket, view: TicketView, by: Person) -> None:
        self.card(session, ticket)
        self.client_thread(session, ticket, messages.onsite(view))
        goer = ticket.onsite_person
        if goer is not None and goer.id != by.id:
            self.dm_person(session, ticket, goer, messages.onsite_dm(view, person_ref(by)))
        self.email(session, ticket, self.client_addresses(ticket), email.onsite(view))

    def resolved(self, session: Session, ticket: Ticket, view: TicketView) -> None:
        if self._lifecycle is not None:
            self._lifecycle.resolved(session, ticket)
        self.card(session, ticket)
        self.client_thread(
            session, ticket, messages.awaiting_confirmation(view), record_role="confirm"
        )
        self.email(
            session, ticket, self.client_addresses(ticket), email.awaiting_confirmation(view)
        )

    def reopened(
        self, session: Session, ticket: Ticket, view: TicketView, by: PersonRef, reason: str
    ) -> None:
        self.card(session, ticket)
        msg = messages.reopened(view, by, reason)
        self.replace_recorded(session, ticket, "confirm", messages.confirmation_recorded(view, by))
        self.tech_thread(session, ticket, msg)
        if ticket.assignee is not None:
            self.dm_person(session, ticket, ticket.assignee, msg)
        self.client_thread(session, ticket, msg)
        self.email(session, ticket, self.client_addresses(ticket), email.reopened(view, by, reason))

    def closed(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        by: PersonRef,
        *,
        unconfirmed_for: str | None = None,
    ) -> None:
        """Confirmed by `by`; or closed by itself after waiting `unconfirmed_for`."""
        if self._lifecycle is not None:
            self._lifecycle.closed(session, ticket)
        involved = self.involved(session, ticket)
        refs: Sequence[PersonRef] = [person_ref(p) for p in involved]
        msg = messages.closed(view, by, refs, unconfirmed_for=unconfirmed_for)
        self.card(session, ticket)
        recorded = messages.confirmation_recorded(view, by, unconfirmed_for=unconfirmed_for)
        self.replace_recorded(session, ticket, "confirm", recorded)
        self.tech_thread(session, ticket, msg)
        self.client_thread(session, ticket, msg)
        addresses = [p.email for p in involved if p.email] + self.client_addresses(ticket)
        self.email(
            session, ticket, addresses, email.closed(view, by, unconfirmed_for=unconfirmed_for)
        )

    # ---- Timers ----------------------------------------------------------------------------
    def reping(self, session: Session, ticket: Ticket, view: TicketView, waited: str) -> None:
        """An unassigned critical ticket: ping the technician channel(s) again in the card's
        thread (the card is not re-posted), and DM the managers; no email."""
        mention = self._settings.critical_mention
        self.tech_thread(session, ticket, messages.reping(view, mention, waited), ping=True)
        for manager in self.manager_ids():
            self.dm(session, ticket, manager, messages.reping_manager_dm(view, waited))

    def silent_assignee(
        self, session: Session, ticket: Ticket, view: TicketView, silent: str
    ) -> None:
        if ticket.assignee is not None:
            msg = messages.silent_assignee_dm(view, silent)
            self.dm_person(session, ticket, ticket.assignee, msg)

    def silent_escalated(
        self, session: Session, ticket: Ticket, view: TicketView, silent: str
    ) -> None:
        for manager in self.manager_ids():
            self.dm(session, ticket, manager, messages.silent_manager_dm(view, silent))

    def confirm_reminder(
        self, session: Session, ticket: Ticket, view: TicketView, waited: str
    ) -> None:
        """Whoever was asked to confirm is asked again: the client thread and the same mail."""
        self.client_thread(session, ticket, messages.confirm_reminder(view, waited))
        to = self.client_addresses(ticket)
        self.email(session, ticket, to, email.confirm_reminder(view, waited))

    def confirm_overdue(
        self, session: Session, ticket: Ticket, view: TicketView, waited: str
    ) -> None:
        for manager in self.manager_ids():
            self.dm(session, ticket, manager, messages.confirm_overdue_dm(view, waited))
