"""Who hears what of monitoring: a ticket raised by an alert (folded into a storm's summary in a
burst), new alerts joining an open ticket, and recoveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import alerts, email
from bot.messages import chat as messages
from bot.messages.view import TicketView
from bot.people.identity import TEAMS_PREFIX
from bot.service.notify.audiences import Audiences
from bot.service.notify.mail import Mail
from bot.service.notify.routes import Routes
from bot.service.notify.rows import message_fields
from bot.service.notify.streams import stream
from storage.models import AlertStorm, OutboxRow, Ticket


class MonitoringNotices(Routes, Mail, Audiences):
    """The rows of monitoring's events, in the alert ingestion's transaction."""

    def alert_raised(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        *,
        labels: dict[str, str],
        previous: int | None,
        storm: AlertStorm | None,
        storm_started: bool,
    ) -> None:
        """A ticket raised by monitoring: the human matrix, with a storm folding the channel."""
        if self._lifecycle is not None:
            self._lifecycle.created(session, ticket)
        critical = ticket.priority == "critical"
        if storm is None:
            self.card(session, ticket, ping=critical)
        else:  # the summary is refreshed when the delivery's storm count is in (AlertService)
            self.storm_card(session, ticket.id)
            if self._settings.teams_tech_channel:  # Teams has no storm summary: plain cards
                self._teams(session, ticket, stream("teams", "card", ticket.id), "card", {})
        self.client_root(session, ticket, alerts.received(view, previous))
        self.email(
            session, ticket, self.client_addresses(ticket), alerts.email_received(view), root=True
        )
        if critical:
            to = [p.email for p in self.technician_people(session) if p.email]
            self.email(session, ticket, to, email.critical_alert(view))
        if storm is None:
            if critical:
                for manager in self.manager_ids():
                    self.dm(session, ticket, manager, messages.manager_critical_dm(view))
            if ticket.client_unknown:
                for manager in self.manager_ids():
                    self.dm(session, ticket, manager, alerts.unknown_client_dm(view, labels))
        elif storm_started:
            msg = alerts.storm_dm(storm.ticket_count, storm.started_at)
            for manager in self.manager_ids():
                if manager.startswith(TEAMS_PREFIX):
                    self.dm(session, ticket, manager, msg)
                    continue
                self._outbox.add(
                    session,
                    channel="slack",
                    kind="post",
                    stream=stream("slack", "storm_dm", storm.id, manager),
                    payload={"channel": manager, **message_fields(msg)},
                    target=manager,
                )

    def storm_card(self, session: Session, ticket_id: int) -> None:
        """A storm ticket's card, posted into the summary's thread at the channel's pace; its own
        stream, so that the ticket's other messages (client thread, DMs) need not wait for it."""
        self._outbox.add(
            session,
            channel="slack",
            kind="card",
            stream=stream("slack", "storm_card", ticket_id),
            payload={"storm_card": True},
            ticket_id=ticket_id,
            target=self._settings.tech_channel,
        )

    def storm_changed(self, session: Session, storm: AlertStorm) -> None:
        """Post or refresh the storm summary; rendered from the database at delivery time.

        One queued row per storm is enough: the row in delivery re-renders while the storm's
        ticket count is ahead of what it showed.
        """
        queued: set[int] = session.info.setdefault("ticketbot.storms_queued", set())
        if storm.id in queued:
            return
        summary = stream("slack", "storm", storm.id)
        waiting = session.scalar(
            select(OutboxRow.id)
            .where(
                OutboxRow.stream == summary,
                OutboxRow.kind == "storm",
                OutboxRow.status.in_(("pending", "sending")),
            )
            .limit(1)
        )
        queued.add(storm.id)
        if waiting is not None:
            return
        self._outbox.add(
            session,
            channel="slack",
            kind="storm",
            stream=summary,
            payload={"storm_id": storm.id, "mention": self._settings.critical_mention},
        )

    def alerts_joined(
        self,
        session: Session,
        ticket: Ticket,
        view: TicketView,
        titles: Sequence[str],
        again: Sequence[str],
    ) -> None:
        """New alerts of an open ticket's problem: one coalesced update in the card's thread."""
        self.card(session, ticket)
        self.tech_thread(session, ticket, alerts.joined(view, titles, again))
        if again:  # the problem is back: the client hears it too
            self.client_thread(session, ticket, alerts.joined(view, [], again))
            self.email(
                session, ticket, self.client_addresses(ticket), alerts.email_joined(view, [], again)
            )

    def alerts_partly_recovered(
        self, session: Session, ticket: Ticket, view: TicketView, titles: Sequence[str], still: int
    ) -> None:
        self.tech_thread(session, ticket, alerts.partly_recovered(view, titles, still))

    def alert_recovered(
        self, session: Session, ticket: Ticket, view: TicketView, at: datetime
    ) -> None:
        """Recovery is an update and a prompt to verify; it never closes the ticket."""
        self.card(session, ticket)
        self.tech_thread(session, ticket, alerts.recovered(view, at))
        self.client_thread(session, ticket, alerts.recovered(view, at))
        self.email(session, ticket, self.client_addresses(ticket), alerts.email_recovered(view, at))
        if ticket.assignee is not None:
            self.dm_person(session, ticket, ticket.assignee, alerts.verify_dm(view, at))
