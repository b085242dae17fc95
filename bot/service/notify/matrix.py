"""The notification matrix: which outbox rows each ticket event writes, and on which surface
(Slack, Teams, a Teams Workflows webhook, email) each audience is reached."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import alerts, email
from bot.messages import chat as messages
from bot.messages.view import EmailContent, PersonRef, SlackMessage, TeamsMessage, TicketView
from bot.outbox.writer import OutboxWriter
from bot.people.directory import TEAMS_PREFIX, Directory, person_key
from bot.service.lifecycle_metrics import LifecycleMetrics
from bot.service.views import person_ref
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
    tech_channel: str | None  # the Slack technician channel; None: no technicians on Slack
    critical_mention: str  # Slack syntax: <!here>, <!channel>, <!subteam^S…>
    email_domain: str | None  # None: email is off
    teams_tech_channel: str | None = None  # the Teams technician channel's conversation id
    slack_on: bool = True
    teams_on: bool = False


@dataclass(frozen=True)
class ClientThread:
    """Where a ticket's client thread lives: a Slack channel or DM, or a Teams conversation
    (`user` instead: a 1:1 chat with that person, created on delivery)."""

    surface: str  # slack | teams
    channel: str | None = None
    user: str | None = None  # teams: Entra object id
    fallback_dm: str | None = None  # slack: the submitter, when the channel refuses the post


class Notifier:
    """Writes the outbox rows for one ticket event, in the use-case's transaction."""

    def __init__(
        self,
        settings: NotifySettings,
        directory: Directory,
        outbox: OutboxWriter,
        lifecycle: LifecycleMetrics | None = None,
    ) -> None:
        """`lifecycle`: counts the events for /metrics (none: not counted)."""
        self._settings = settings
        self._directory = directory
        self._outbox = outbox
        self._lifecycle = lifecycle

    # ---- Chat routing ----------------------------------------------------------------------
    # A ticket's chat rows go in one stream per conversation (see card_stream, client_stream,
    # dm_stream and their Teams twins), so that a row retrying in one never holds up another.
    # Messages are stored as rendered for Slack; the Teams adapter renders them as cards.
    def card(self, session: Session, ticket: Ticket, *, ping: bool = False) -> None:
        """Post the card in each technician channel, or update it in place; rendered from the
        ticket at delivery time. `ping`: a first post mentions everyone (critical)."""
        if self._settings.tech_channel:
            mention = {"mention": self._settings.critical_mention} if ping else {}
            self._slack(session, ticket, card_stream(ticket.id), "card", mention)
        if self._settings.teams_tech_channel:
            self._teams(session, ticket, teams_card_stream(ticket.id), "card", {"mention": ping})

    def tech_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        """A message in the card's thread, in each technician channel."""
        if self._settings.tech_channel:
            self._post(session, ticket, card_stream(ticket.id), msg, anchor="card", **extra)
        if self._settings.teams_tech_channel:
            fields = {k: v for k, v in extra.items() if k != "reply_broadcast"}
            payload = {"anchor": "card", **fields, **_msg(msg)}
            self._teams(session, ticket, teams_card_stream(ticket.id), "post", payload)

    def client_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        """A message in the client thread (and to the client's Workflows webhook)."""
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            payload = {"anchor": "client_root", **extra, **_msg(msg)}
            self._teams(session, ticket, teams_client_stream(ticket.id), "post", payload)
        elif where is not None:
            self._post(
                session, ticket, client_stream(ticket.id), msg, anchor="client_root", **extra
            )
        self._webhook(session, ticket, msg)

    def client_root(self, session: Session, ticket: Ticket, msg: SlackMessage) -> None:
        """The client thread's first message. In Slack, in the submitter's DM when the client
        channel cannot take it (the thread, and so the rest of its stream, then lives there)."""
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            target = {"conversation": where.channel} if where.channel else {"user": where.user}
            payload = {**target, "record_role": "client_root", **_msg(msg)}
            self._teams(session, ticket, teams_client_stream(ticket.id), "post", payload)
        elif where is not None:
            self._post(
                session,
                ticket,
                client_stream(ticket.id),
                msg,
                channel=where.channel,
                record_role="client_root",
                fallback_dm=where.fallback_dm,
            )
        self._webhook(session, ticket, msg)

    def client_thread_of(self, ticket: Ticket) -> ClientThread | None:
        """Where the client hears about `ticket`: where they asked; else (monitoring) the
        client's Teams channel or the submitter's chat; None: by email only."""
        settings = self._settings
        submitter = ticket.submitter
        if ticket.source == "teams":
            if settings.teams_on and ticket.origin_channel:
                return ClientThread("teams", channel=ticket.origin_channel)
            return None
        slack_id = submitter.slack_user_id if submitter else None
        if settings.slack_on and (ticket.origin_channel or slack_id):
            return ClientThread(
                "slack", channel=ticket.origin_channel or slack_id, fallback_dm=slack_id
            )
        if settings.teams_on:
            if ticket.client is not None and ticket.client.teams_channel_id:
                return ClientThread("teams", channel=ticket.client.teams_channel_id)
            if submitter is not None and submitter.teams_aad_id:
                return ClientThread("teams", user=submitter.teams_aad_id)
        return None

    def dm(self, session: Session, ticket: Ticket, key: str, msg: SlackMessage) -> None:
        """A direct message to a person by key: a Slack DM, or a Teams 1:1 chat."""
        if key.startswith(TEAMS_PREFIX):
            if self._settings.teams_on:
                aad = key[len(TEAMS_PREFIX) :]
                payload = {"user": aad, **_msg(msg)}
                self._teams(session, ticket, teams_dm_stream(aad), "post", payload, target=key)
        elif self._settings.slack_on:
            self._post(session, ticket, dm_stream(key), msg, channel=key)

    def dm_person(
        self, session: Session, ticket: Ticket, person: Person, msg: SlackMessage
    ) -> None:
        if person.slack_user_id or person.teams_aad_id:
            self.dm(session, ticket, person_key(person), msg)

    def tech_channel(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        """A new post (not in the card's thread) in each technician channel."""
        if self._settings.tech_channel:
            self._post(
                session,
                ticket,
                card_stream(ticket.id),
                msg,
                channel=self._settings.tech_channel,
                **extra,
            )
        if self._settings.teams_tech_channel:
            payload = {"conversation": self._settings.teams_tech_channel, **extra, **_msg(msg)}
            self._teams(session, ticket, teams_card_stream(ticket.id), "post", payload)

    def replace_recorded(
        self, session: Session, ticket: Ticket, role: str, msg: SlackMessage
    ) -> None:
        """Update in place the latest message recorded with `role`: the confirm buttons, which
        live in the client thread."""
        payload = {"role": role, **_msg(msg)}
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            self._teams(session, ticket, teams_client_stream(ticket.id), "replace", payload)
        elif where is not None:
            self._slack(session, ticket, client_stream(ticket.id), "replace", payload)

    def ephemeral(self, session: Session, user: str, channel: str, msg: SlackMessage) -> None:
        """Only `user` sees it. Teams has no such message in a channel: a 1:1 chat instead."""
        if user.startswith(TEAMS_PREFIX):
            if self._settings.teams_on:
                aad = user[len(TEAMS_PREFIX) :]
                self._outbox.add(
                    session,
                    channel="teams",
                    kind="post",
                    stream=teams_dm_stream(aad),
                    payload={"user": aad, **_msg(msg)},
                    target=user,
                )
            return
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
        for surface, stream in self._mirror_streams(ticket, source):
            self._chat(surface, session, ticket, stream, "update_mirror", payload)

    def mirror_delete(self, session: Session, ticket: Ticket, source: tuple[str, str]) -> None:
        payload = {"source": list(source)}
        for surface, stream in self._mirror_streams(ticket, source):
            self._chat(surface, session, ticket, stream, "delete_mirror", payload)

    def _mirror_streams(self, ticket: Ticket, source: tuple[str, str]) -> list[tuple[str, str]]:
        """A technician's update (in a technician channel) is mirrored into the client thread,
        a client's reply into the card's thread(s). Were it ever the other way round, the
        dispatcher would still hold the edit until its mirror is posted."""
        settings = self._settings
        if source[0] in (settings.tech_channel, settings.teams_tech_channel):
            where = self.client_thread_of(ticket)
            if where is None:
                return []
            if where.surface == "teams":
                return [("teams", teams_client_stream(ticket.id))]
            return [("slack", client_stream(ticket.id))]
        streams = []
        if settings.tech_channel:
            streams.append(("slack", card_stream(ticket.id)))
        if settings.teams_tech_channel:
            streams.append(("teams", teams_card_stream(ticket.id)))
        return streams

    def _chat(
        self,
        surface: str,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
    ) -> None:
        if surface == "teams":
            self._teams(session, ticket, stream, kind, payload)
        else:
            self._slack(session, ticket, stream, kind, payload)

    def _post(
        self, session: Session, ticket: Ticket, stream: str, msg: SlackMessage, **fields: object
    ) -> None:
        self._slack(session, ticket, stream, "post", {**fields, **_msg(msg)})

    def _teams(
        self,
        session: Session,
        ticket: Ticket,
        stream: str,
        kind: str,
        payload: Mapping[str, object],
        *,
        target: str | None = None,
    ) -> None:
        """A Teams row; `target` (the conversation, for pacing) defaults to where it lands."""
        if target is None and kind in ("card", "post"):
            target = self._teams_target(ticket, payload)
        self._outbox.add(
            session,
            channel="teams",
            kind=kind,
            stream=stream,
            payload=dict(payload),
            ticket_id=ticket.id,
            target=target,
        )

    def _teams_target(self, ticket: Ticket, payload: Mapping[str, object]) -> str | None:
        anchor = payload.get("anchor")
        if anchor == "card" or "anchor" not in payload and "conversation" not in payload:
            return self._settings.teams_tech_channel
        if anchor == "client_root":
            where = self.client_thread_of(ticket)
            if where is None:
                return None
            return where.channel or (TEAMS_PREFIX + where.user if where.user else None)
        conversation = payload.get("conversation")
        if conversation:
            return str(conversation)
        user = payload.get("user")
        return TEAMS_PREFIX + str(user) if user else None

    def teams_answer(
        self, session: Session, conversation: str, msg: SlackMessage | TeamsMessage
    ) -> None:
        """A message in a Teams conversation that belongs to no ticket (a command's answer)."""
        payload: dict[str, object] = {"conversation": conversation}
        if isinstance(msg, TeamsMessage):
            payload |= {"text": msg.text, "card": msg.card}
        else:
            payload |= _msg(msg)
        self._outbox.add(
            session,
            channel="teams",
            kind="post",
            stream=f"teams-conv:{conversation}",
            payload=payload,
            target=conversation,
        )

    def _webhook(self, session: Session, ticket: Ticket, msg: SlackMessage) -> None:
        """A client-thread message for a notify-only client's Teams Workflows webhook."""
        client = ticket.client
        if client is None or not client.teams_webhook_url:
            return
        self._outbox.add(
            session,
            channel="webhook",
            kind="post",
            stream=webhook_stream(ticket.id),
            payload={"client_id": client.id, **_msg(msg)},
            ticket_id=ticket.id,
            target=f"webhook:{client.id}",
        )

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
            where = self.client_thread_of(ticket)
            return where.channel if where is not None else None
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

    def report_email(
        self,
        session: Session,
        *,
        to: str,
        key: str,
        subject: str,
        text: str,
        html: str,
        filename: str,
    ) -> int:
        """A report mail (no ticket): `html` is its HTML part and, as `filename`, an attachment
        to open or print; `key` makes its Message-ID. Returns the rows written (0: email off)."""
        domain = self._settings.email_domain
        address = to.strip().lower()
        if domain is None or "@" not in address:
            return 0
        self._outbox.add(
            session,
            channel="email",
            kind="email",
            stream=f"email:{key}:{address}",
            payload={
                "to": address,
                "subject": subject,
                "text": text,
                "html": html,
                "attachment": {"filename": filename, "content": html, "subtype": "html"},
                "message_id": f"<{key}@{domain}>",
            },
        )
        return 1

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

    # ---- The matrix ------------------------------------------------------------------------
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

    def digest(self, session: Session, msg: SlackMessage) -> None:
        """The daily digest: a new post in each technician channel (no ticket)."""
        if self._settings.tech_channel:
            payload = {"channel": self._settings.tech_channel, **_msg(msg)}
            self._outbox.add(
                session,
                channel="slack",
                kind="post",
                stream="slack:digest",
                payload=payload,
                target=self._settings.tech_channel,
            )
        if self._settings.teams_tech_channel:
            payload = {"conversation": self._settings.teams_tech_channel, **_msg(msg)}
            self._outbox.add(
                session,
                channel="teams",
                kind="post",
                stream="teams:digest",
                payload=payload,
                target=self._settings.teams_tech_channel,
            )

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
        if self._lifecycle is not None:
            self._lifecycle.created(session, ticket)
        critical = ticket.priority == "critical"
        if storm is None:
            self.card(session, ticket, ping=critical)
        else:  # the summary is refreshed when the delivery's storm count is in (AlertService)
            self.storm_card(session, ticket.id)
            if self._settings.teams_tech_channel:  # Teams has no storm summary: plain cards
                self._teams(session, ticket, teams_card_stream(ticket.id), "card", {})
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
        if ticket.assignee is not None:
            self.dm_person(session, ticket, ticket.assignee, alerts.verify_dm(view, at))


def card_stream(ticket_id: int) -> str:
    """The card and everything in its thread (and the help posts beside it)."""
    return f"slack:{ticket_id}:card"


def client_stream(ticket_id: int) -> str:
    """The client thread: its root, its posts and buttons, the mirrors in it."""
    return f"slack:{ticket_id}:client"


def dm_stream(slack_id: str) -> str:
    """One person's DMs, whatever the ticket: one conversation, in the order written."""
    return f"slack-dm:{slack_id}"


def teams_card_stream(ticket_id: int) -> str:
    """The Teams card, its thread and the help posts beside it."""
    return f"teams:{ticket_id}:card"


def teams_client_stream(ticket_id: int) -> str:
    """The client's Teams conversation about the ticket."""
    return f"teams:{ticket_id}:client"


def teams_dm_stream(aad_id: str) -> str:
    """One person's 1:1 chat with the bot in Teams."""
    return f"teams-dm:{aad_id}"


def webhook_stream(ticket_id: int) -> str:
    """A ticket's messages to its client's Workflows webhook, in order."""
    return f"webhook:{ticket_id}"


def _msg(msg: SlackMessage) -> dict[str, object]:
    return {"text": msg.text, "blocks": list(msg.blocks)}
