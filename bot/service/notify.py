"""The notification matrix: which outbox rows each ticket event writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.render import alerts, email, messages
from bot.render.view import EmailContent, PersonRef, SlackMessage, TicketView
from bot.service.directory import Directory
from bot.service.outbox import OutboxWriter
from bot.views import person_ref
from storage.models import AlertStorm, OutboxRow, Person, Ticket, TicketEvent

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


@dataclass(frozen=True)
class NotifySettings:
    tech_channel: str
    critical_mention: str  # Slack syntax: <!here>, <!channel>, <!subteam^S…>
    email_domain: str | None  # None: email is off


class Notifier:
    """Writes the outbox rows for one ticket event, in the use-case's transaction."""

    def __init__(
        self, settings: NotifySettings, directory: Directory, outbox: OutboxWriter
    ) -> None:
        self._settings = settings
        self._directory = directory
        self._outbox = outbox

    # ---- Slack -----------------------------------------------------------------------------
    # A ticket's Slack rows go in one stream per conversation (see card_stream, client_stream,
    # dm_stream), so that a row retrying in one never holds up another.
    def card(self, session: Session, ticket: Ticket) -> None:
        """Post the card, or update it in place; rendered from the ticket at delivery time."""
        self._slack(session, ticket, card_stream(ticket.id), "card", {})

    def tech_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        self._post(session, ticket, card_stream(ticket.id), msg, anchor="card", **extra)

    def client_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        self._post(session, ticket, client_stream(ticket.id), msg, anchor="client_root", **extra)

    def client_root(self, session: Session, ticket: Ticket, msg: SlackMessage) -> None:
        """The client thread's first message; in the submitter's DM when the client channel
        cannot take it (the thread, and so the rest of its stream, then lives there)."""
        submitter = ticket.submitter.slack_user_id if ticket.submitter else None
        channel = ticket.origin_channel or submitter
        if channel is None:
            return
        self._post(
            session,
            ticket,
            client_stream(ticket.id),
            msg,
            channel=channel,
            record_role="client_root",
            fallback_dm=submitter,
        )

    def dm(self, session: Session, ticket: Ticket, slack_id: str, msg: SlackMessage) -> None:
        self._post(session, ticket, dm_stream(slack_id), msg, channel=slack_id)

    def tech_channel(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        self._post(
            session,
            ticket,
            card_stream(ticket.id),
            msg,
            channel=self._settings.tech_channel,
            **extra,
        )

    def replace_recorded(
        self, session: Session, ticket: Ticket, role: str, msg: SlackMessage
    ) -> None:
        """chat.update the latest message recorded with `role`: the confirm buttons, which
        live in the client thread."""
        self._slack(
            session, ticket, client_stream(ticket.id), "replace", {"role": role, **_msg(msg)}
        )

    def ephemeral(self, session: Session, user: str, channel: str, msg: SlackMessage) -> None:
        self._outbox.add(
            session,
            channel="slack",
            kind="ephemeral",
            stream=f"ephemeral:{user}",
            payload={"channel": channel, "user": user, **_msg(msg)},
        )

    def mirror_edit(
        self, session: Session, ticket: Ticket, source: tuple[str, str], msg: SlackMessage
    ) -> None:
        payload = {"source": list(source), **_msg(msg)}
        self._slack(session, ticket, self._mirror_stream(ticket, source), "update_mirror", payload)

    def mirror_delete(self, session: Session, ticket: Ticket, source: tuple[str, str]) -> None:
        payload = {"source": list(source)}
        self._slack(session, ticket, self._mirror_stream(ticket, source), "delete_mirror", payload)

    def _mirror_stream(self, ticket: Ticket, source: tuple[str, str]) -> str:
        """A technician's update (in the technician channel) is mirrored into the client thread,
        a client's reply into the card's thread. Were it ever the other way round, the
        dispatcher would still hold the edit until its mirror is posted."""
        if source[0] == self._settings.tech_channel:
            return client_stream(ticket.id)
        return card_stream(ticket.id)

    def _post(
        self, session: Session, ticket: Ticket, stream: str, msg: SlackMessage, **fields: object
    ) -> None:
        self._slack(session, ticket, stream, "post", {**fields, **_msg(msg)})

    def _slack(
        self,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
    ) -> None:
        self._outbox.add(
            session,
            channel="slack",
            kind=kind,
            stream=stream,
            payload=dict(payload),
            ticket_id=ticket.id,
            target=self._target(ticket, kind, payload),
        )

    def _target(self, ticket: Ticket, kind: str, payload: Mapping[str, object]) -> str | None:
        """The channel a post lands in, for pacing (updates and deletions are not paced)."""
        if kind == "card" or payload.get("anchor") == "card":
            return self._settings.tech_channel
        if kind != "post":
            return None
        if payload.get("anchor") == "client_root":
            submitter = ticket.submitter.slack_user_id if ticket.submitter else None
            return ticket.origin_channel or submitter
        channel = payload.get("channel")
        return str(channel) if channel else None

    # ---- Email -----------------------------------------------------------------------------
    def email(
        self,
        session: Session,
        ticket: Ticket,
        to: Iterable[str],
        content: EmailContent,
        *,
        root: bool = False,
    ) -> None:
        """One message per ticket event, one outbox row per recipient, threaded on the ticket.

        The ticket's first mail (`root`) has a Message-ID derived from the ticket; every later
        one answers it (In-Reply-To / References), so each mail client shows one thread.
        """
        domain = self._settings.email_domain
        recipients = sorted({a.strip().lower() for a in to if a and "@" in a})
        if domain is None or not recipients:
            return
        stamp = int(ticket.created_at.timestamp())
        root_id = f"<ticket-{ticket.id}.{stamp}@{domain}>"
        headers: dict[str, str | None] = {
            "message_id": root_id,
            "in_reply_to": None,
            "references": None,
        }
        if not root:
            headers = {
                "message_id": f"<ticket-{ticket.id}.{stamp}.{secrets.token_hex(6)}@{domain}>",
                "in_reply_to": root_id,
                "references": root_id,
            }
        for address in recipients:
            self._outbox.add(
                session,
                channel="email",
                kind="email",
                stream=f"email:{ticket.id}:{address}",
                ticket_id=ticket.id,
                payload={
                    "to": address,
                    "subject": content.subject,
                    "text": content.text,
                    "html": content.html,
                    "ticket_id": ticket.id,
                    **headers,
                },
            )

    # ---- Audiences -------------------------------------------------------------------------
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
        return sorted(self._directory.managers)

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

    # ---- The matrix ------------------------------------------------------------------------
    def created(self, session: Session, ticket: Ticket, view: TicketView) -> None:
        critical = ticket.priority == "critical"
        if critical:
            mention = {"mention": self._settings.critical_mention}
            self._slack(session, ticket, card_stream(ticket.id), "card", mention)
        else:
            self.card(session, ticket)
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
        self.card(session, ticket)
        self.client_thread(session, ticket, messages.assigned(view))
        if ticket.assignee is not None and ticket.assignee.slack_user_id:
            self.dm(session, ticket, ticket.assignee.slack_user_id, messages.assignee_dm(view, by))
        if previous is not None and previous.slack_user_id:
            self.dm(session, ticket, previous.slack_user_id, messages.reassigned_dm(view, by))
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
        if ticket.assignee is not None and ticket.assignee.slack_user_id:
            self.dm(
                session, ticket, ticket.assignee.slack_user_id, messages.helper_added(view, helper)
            )

    def onsite(self, session: Session, ticket: Ticket, view: TicketView, by: Person) -> None:
        self.card(session, ticket)
        self.client_thread(session, ticket, messages.onsite(view))
        goer = ticket.onsite_person
        if goer is not None and goer.slack_user_id and goer.id != by.id:
            self.dm(session, ticket, goer.slack_user_id, messages.onsite_dm(view, person_ref(by)))
        self.email(session, ticket, self.client_addresses(ticket), email.onsite(view))

    def resolved(self, session: Session, ticket: Ticket, view: TicketView) -> None:
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
        if ticket.assignee is not None and ticket.assignee.slack_user_id:
            self.dm(session, ticket, ticket.assignee.slack_user_id, msg)
        self.client_thread(session, ticket, msg)
        self.email(session, ticket, self.client_addresses(ticket), email.reopened(view, by, reason))

    def closed(self, session: Session, ticket: Ticket, view: TicketView, by: PersonRef) -> None:
        involved = self.involved(session, ticket)
        refs: Sequence[PersonRef] = [person_ref(p) for p in involved]
        msg = messages.closed(view, by, refs)
        self.card(session, ticket)
        self.replace_recorded(session, ticket, "confirm", messages.confirmation_recorded(view, by))
        self.tech_thread(session, ticket, msg)
        self.client_thread(session, ticket, msg)
        addresses = [p.email for p in involved if p.email] + self.client_addresses(ticket)
        self.email(session, ticket, addresses, email.closed(view, by))

    # ---- Monitoring ------------------------------------------------------------------------
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
        critical = ticket.priority == "critical"
        mention: dict[str, object] = (
            {"mention": self._settings.critical_mention} if critical else {}
        )
        if storm is None:
            self._slack(session, ticket, card_stream(ticket.id), "card", mention)
        else:  # the summary is refreshed when the delivery's storm count is in (AlertService)
            self.storm_card(session, ticket.id)
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
                self._outbox.add(
                    session,
                    channel="slack",
                    kind="post",
                    stream=f"storm-dm:{storm.id}:{manager}",
                    payload={"channel": manager, **_msg(msg)},
                    target=manager,
                )

    def storm_card(self, session: Session, ticket_id: int) -> None:
        """A storm ticket's card, posted into the summary's thread at the channel's pace; its own
        stream, so that the ticket's other messages (client thread, DMs) need not wait for it."""
        self._outbox.add(
            session,
            channel="slack",
            kind="card",
            stream=f"stormcard:{ticket_id}",
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
        stream = f"storm:{storm.id}"
        waiting = session.scalar(
            select(OutboxRow.id)
            .where(
                OutboxRow.stream == stream,
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
            stream=stream,
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
        if ticket.assignee is not None and ticket.assignee.slack_user_id:
            self.dm(session, ticket, ticket.assignee.slack_user_id, alerts.verify_dm(view, at))


def card_stream(ticket_id: int) -> str:
    """The card and everything in its thread (and the help posts beside it)."""
    return f"slack:{ticket_id}:card"


def client_stream(ticket_id: int) -> str:
    """The client thread: its root, its posts and buttons, the mirrors in it."""
    return f"slack:{ticket_id}:client"


def dm_stream(slack_id: str) -> str:
    """One person's DMs, whatever the ticket: one conversation, in the order written."""
    return f"slack-dm:{slack_id}"


def _msg(msg: SlackMessage) -> dict[str, object]:
    return {"text": msg.text, "blocks": list(msg.blocks)}
