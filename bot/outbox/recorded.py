"""The chat messages delivery recorded for tickets (cards, thread roots, mirrors), and how a row
needing one that is not posted yet waits for the row that will post it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import Clock
from bot.outbox.claims import Claimed
from bot.outbox.errors import Deferred, Orphaned
from storage.models import ChatMessage, Ticket, outbox_table

# How long after a message's row is due (or now) a row needing that message looks again.
RECORDER_POLL = timedelta(seconds=0.5)


class Recorded:
    """The messages recorded on one surface (`ChatMessage.surface`)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        reads: sessionmaker[Session],
        clock: Clock,
        surface: str,
    ) -> None:
        self._sessions = sessions
        self._reads = reads
        self._clock = clock
        self._surface = surface

    def find(
        self,
        ticket_id: int | None,
        *,
        role: str,
        source: tuple[str, ...] | None = None,
        root: bool = False,
    ) -> tuple[str, str] | None:
        """The latest message recorded with `role`; with `root`, the thread it belongs to."""
        if ticket_id is None:
            return None
        query = select(ChatMessage).where(
            ChatMessage.ticket_id == ticket_id,
            ChatMessage.role == role,
            ChatMessage.surface == self._surface,
        )
        if source is not None:
            query = query.where(
                ChatMessage.source_channel == source[0], ChatMessage.source_ts == source[1]
            )
        with self._reads() as s:
            msg = s.scalars(query.order_by(ChatMessage.id.desc()).limit(1)).first()
            if msg is None:
                return None
            return msg.channel, (msg.thread_ts or msg.ts) if root else msg.ts

    def needed(
        self,
        row: Claimed,
        *,
        role: str,
        source: tuple[str, ...] | None = None,
        root: bool = False,
    ) -> tuple[str, str] | None:
        """The message `row` needs (see find); None when no row will ever post it.

        While an undelivered row that will post it (in another stream, or earlier in this one)
        is on its way, raises Deferred: no attempt is counted. When that row is parked, raises
        Orphaned: this one is parked too, naming it; `ticketbot outbox retry` of both sends
        them in turn.
        """
        found = self.find(row.ticket_id, role=role, source=source, root=root)
        if found is None and row.ticket_id is not None:
            self._wait_for_recorder(row, role, source)
            # Its row may have been delivered between the two reads: the message is in by now.
            found = self.find(row.ticket_id, role=role, source=source, root=root)
        return found

    def _wait_for_recorder(self, row: Claimed, role: str, source: tuple[str, ...] | None) -> None:
        o = outbox_table.c
        query = (
            select(o.id, o.stream, o.status, o.payload, o.next_attempt_at)
            .where(
                o.ticket_id == row.ticket_id,
                o.channel == row.channel,
                o.kind == ("card" if role == "card" else "post"),
                o.status.in_(("pending", "sending", "parked")),
                o.id != row.id,
            )
            .order_by(o.id)
        )
        with self._reads() as s:
            recorders = [
                r
                for r in s.execute(query)
                if not (r.stream == row.stream and r.id > row.id)  # those wait behind this one
                and (role == "card" or r.payload.get("record_role") == role)
                and (source is None or tuple(r.payload.get("source") or ()) == source)
            ]
        on_the_way = [r.next_attempt_at for r in recorders if r.status != "parked"]
        if on_the_way:
            raise Deferred(max(self._clock.now(), min(on_the_way)) + RECORDER_POLL)
        if recorders:
            parked = ", ".join(str(r.id) for r in recorders)
            raise Orphaned(f"waits for its {role} message, in parked outbox row(s) {parked}")

    def record(
        self,
        ticket_id: int,
        role: str,
        channel: str,
        ts: str,
        thread_ts: str | None,
        source: tuple[str | None, ...] | None,
        *,
        rendered_version: int | None = None,
    ) -> None:
        """Record a posted message (once: a re-send that found its earlier post may find it
        recorded too)."""
        with self._sessions.begin() as s:
            known = select(ChatMessage.id).where(
                ChatMessage.channel == channel, ChatMessage.ts == ts
            )
            if s.scalar(known) is not None:
                return
            s.add(
                ChatMessage(
                    ticket_id=ticket_id,
                    role=role,
                    surface=self._surface,
                    channel=channel,
                    ts=ts,
                    thread_ts=thread_ts,
                    source_channel=source[0] if source else None,
                    source_ts=source[1] if source else None,
                    rendered_version=rendered_version,
                    created_at=self._clock.now(),
                )
            )

    def rendered(self, channel: str, ts: str, version: int) -> None:
        """A card updated in place now shows ticket `version`."""
        with self._sessions.begin() as s:
            s.execute(
                update(ChatMessage)
                .where(ChatMessage.channel == channel, ChatMessage.ts == ts)
                .values(rendered_version=version)
            )


def card_message(s: Session, ticket_id: int, surface: str) -> ChatMessage | None:
    """The ticket's card as recorded on `surface`, when it is posted."""
    return s.scalar(
        select(ChatMessage).where(
            ChatMessage.ticket_id == ticket_id,
            ChatMessage.role == "card",
            ChatMessage.surface == surface,
        )
    )


@dataclass(frozen=True)
class CardToDraw:
    """A ticket whose card on a surface is behind it: post it (`target` None) or update the card
    at `target` (its channel or conversation, and its ts or activity id) in place."""

    ticket: Ticket
    target: tuple[str, str] | None


def card_to_draw(s: Session, ticket_id: int, surface: str) -> CardToDraw | str:
    """The card `surface` should draw now for the ticket, or why none: the ticket is gone, or its
    card already shows the ticket's version."""
    ticket = s.get(Ticket, ticket_id)
    if ticket is None:
        return "ticket gone"
    existing = card_message(s, ticket_id, surface)
    if existing is not None and existing.rendered_version == ticket.version:
        return "card already current"
    return CardToDraw(ticket, (existing.channel, existing.ts) if existing is not None else None)
