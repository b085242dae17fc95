"""Where each audience is reached, per surface: the card and its thread in each technician
channel, the client thread, DMs, ephemerals, mirrors of edited replies, command answers and the
digest."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.messages.view import SlackMessage, TeamsMessage
from bot.people.identity import TEAMS_PREFIX, person_key
from bot.service.notify.rows import Rows, message_fields
from bot.service.notify.streams import Surface, stream
from storage.models import Person, Ticket


class Routes(Rows):
    """One method per audience; each writes the rows of every surface that audience is on."""

    def card(self, session: Session, ticket: Ticket, *, ping: bool = False) -> None:
        """Post the card in each technician channel, or update it in place; rendered from the
        ticket at delivery time. `ping`: a first post mentions everyone (critical)."""
        if self._settings.tech_channel:
            mention = {"mention": self._settings.critical_mention} if ping else {}
            self._slack(session, ticket, stream("slack", "card", ticket.id), "card", mention)
        if self._settings.teams_tech_channel:
            self._teams(
                session, ticket, stream("teams", "card", ticket.id), "card", {"mention": ping}
            )

    def tech_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        """A message in the card's thread, in each technician channel."""
        if self._settings.tech_channel:
            self._post(
                session, ticket, stream("slack", "card", ticket.id), msg, anchor="card", **extra
            )
        if self._settings.teams_tech_channel:
            fields = {k: v for k, v in extra.items() if k != "reply_broadcast"}
            payload = {"anchor": "card", **fields, **message_fields(msg)}
            self._teams(session, ticket, stream("teams", "card", ticket.id), "post", payload)

    def client_thread(
        self, session: Session, ticket: Ticket, msg: SlackMessage, **extra: object
    ) -> None:
        """A message in the client thread (and to the client's Workflows webhook)."""
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            payload = {"anchor": "client_root", **extra, **message_fields(msg)}
            self._teams(session, ticket, stream("teams", "client", ticket.id), "post", payload)
        elif where is not None:
            self._post(
                session,
                ticket,
                stream("slack", "client", ticket.id),
                msg,
                anchor="client_root",
                **extra,
            )
        self._webhook(session, ticket, msg)

    def client_root(self, session: Session, ticket: Ticket, msg: SlackMessage) -> None:
        """The client thread's first message. In Slack, in the submitter's DM when the client
        channel cannot take it (the thread, and so the rest of its stream, then lives there)."""
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            target = {"conversation": where.channel} if where.channel else {"user": where.user}
            payload = {**target, "record_role": "client_root", **message_fields(msg)}
            self._teams(session, ticket, stream("teams", "client", ticket.id), "post", payload)
        elif where is not None:
            self._post(
                session,
                ticket,
                stream("slack", "client", ticket.id),
                msg,
                channel=where.channel,
                record_role="client_root",
                fallback_dm=where.fallback_dm,
            )
        self._webhook(session, ticket, msg)

    def dm(self, session: Session, ticket: Ticket, key: str, msg: SlackMessage) -> None:
        """A direct message to a person by key: a Slack DM, or a Teams 1:1 chat."""
        if key.startswith(TEAMS_PREFIX):
            if self._settings.teams_on:
                aad = key[len(TEAMS_PREFIX) :]
                payload = {"user": aad, **message_fields(msg)}
                self._teams(
                    session, ticket, stream("teams", "dm", aad), "post", payload, target=key
                )
        elif self._settings.slack_on:
            self._post(session, ticket, stream("slack", "dm", key), msg, channel=key)

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
                stream("slack", "card", ticket.id),
                msg,
                channel=self._settings.tech_channel,
                **extra,
            )
        if self._settings.teams_tech_channel:
            payload = {
                "conversation": self._settings.teams_tech_channel,
                **extra,
                **message_fields(msg),
            }
            self._teams(session, ticket, stream("teams", "card", ticket.id), "post", payload)

    def replace_recorded(
        self, session: Session, ticket: Ticket, role: str, msg: SlackMessage
    ) -> None:
        """Update in place the latest message recorded with `role`: the confirm buttons, which
        live in the client thread."""
        payload = {"role": role, **message_fields(msg)}
        where = self.client_thread_of(ticket)
        if where is not None and where.surface == "teams":
            self._teams(session, ticket, stream("teams", "client", ticket.id), "replace", payload)
        elif where is not None:
            self._slack(session, ticket, stream("slack", "client", ticket.id), "replace", payload)

    def ephemeral(self, session: Session, user: str, channel: str, msg: SlackMessage) -> None:
        """Only `user` sees it. Teams has no such message in a channel: a 1:1 chat instead."""
        if user.startswith(TEAMS_PREFIX):
            if self._settings.teams_on:
                aad = user[len(TEAMS_PREFIX) :]
                self._outbox.add(
                    session,
                    channel="teams",
                    kind="post",
                    stream=stream("teams", "dm", aad),
                    payload={"user": aad, **message_fields(msg)},
                    target=user,
                )
            return
        self._outbox.add(
            session,
            channel="slack",
            kind="ephemeral",
            stream=stream("slack", "ephemeral", user),
            payload={"channel": channel, "user": user, **message_fields(msg)},
        )

    def mirror_edit(
        self, session: Session, ticket: Ticket, source: tuple[str, str], msg: SlackMessage
    ) -> None:
        payload = {"source": list(source), **message_fields(msg)}
        for surface, mirror in self._mirror_streams(ticket, source):
            self._chat(surface, session, ticket, mirror, "update_mirror", payload)

    def mirror_delete(self, session: Session, ticket: Ticket, source: tuple[str, str]) -> None:
        payload = {"source": list(source)}
        for surface, mirror in self._mirror_streams(ticket, source):
            self._chat(surface, session, ticket, mirror, "delete_mirror", payload)

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
                return [("teams", stream("teams", "client", ticket.id))]
            return [("slack", stream("slack", "client", ticket.id))]
        streams = []
        if settings.tech_channel:
            streams.append(("slack", stream("slack", "card", ticket.id)))
        if settings.teams_tech_channel:
            streams.append(("teams", stream("teams", "card", ticket.id)))
        return streams

    def teams_answer(
        self, session: Session, conversation: str, msg: SlackMessage | TeamsMessage
    ) -> None:
        """A message in a Teams conversation that belongs to no ticket (a command's answer)."""
        payload: dict[str, object] = {"conversation": conversation}
        if isinstance(msg, TeamsMessage):
            payload |= {"text": msg.text, "card": msg.card}
        else:
            payload |= message_fields(msg)
        self._outbox.add(
            session,
            channel="teams",
            kind="post",
            stream=stream("teams", "conversation", conversation),
            payload=payload,
            target=conversation,
        )

    def digest(self, session: Session, msg: SlackMessage) -> None:
        """The daily digest: a new post in each technician channel (no ticket)."""
        channels: tuple[tuple[Surface, str, str | None], ...] = (
            ("slack", "channel", self._settings.tech_channel),
            ("teams", "conversation", self._settings.teams_tech_channel),
        )
        for surface, field, channel in channels:
            if channel:
                self._outbox.add(
                    session,
                    channel=surface,
                    kind="post",
                    stream=stream(surface, "digest"),
                    payload={field: channel, **message_fields(msg)},
                    target=channel,
                )
