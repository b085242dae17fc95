"""Alert storms: a burst of new alert tickets in the technician channel is shown as one summary
message that counts them, instead of a card each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.service.notify.matrix import Notifier
from storage.models import AlertStorm, AlertStormTicket, ChatMessage, Ticket

STORM_WINDOW = timedelta(minutes=1)
_STORM = "ticketbot.storm"  # Session.info: the storm this delivery's tickets join
_STORM_JOINS = "ticketbot.storm_joins"  # Session.info: storm id → (storm, tickets joined)
_STORM_LOCK = 0x7469636B_73746D  # pg_advisory_xact_lock key: starting an alert storm


class Storms:
    """Starts and joins the storm of a technician channel, in the ingestion's transaction."""

    def __init__(self, notifier: Notifier, *, channel: str | None, threshold: int) -> None:
        """`channel`: the Slack technician channel (None: no storm summaries, as in Teams);
        `threshold`: new alert tickets in a minute past which a storm starts."""
        self._notify = notifier
        self._channel = channel
        self._threshold = threshold

    def join(self, s: Session, ticket: Ticket, now: datetime) -> tuple[AlertStorm | None, bool]:
        """Join the running storm, or start one when this minute's new alert tickets pass the
        threshold; tickets of the minute whose cards are not posted yet join it too.

        A running storm's count moves in `count_joined`, at the end of the transaction, so that
        concurrent deliveries hold its row only briefly.
        """
        since = now - STORM_WINDOW
        channel = self._channel
        if channel is None:  # a storm summary is a Slack message: in Teams, one card each
            return None, False
        storm = self._running(s, channel, since)
        if storm is None and s.bind is not None and s.bind.dialect.name == "postgresql":
            # One storm per channel: a concurrent delivery deciding the same waits here, then
            # finds the storm this one started.
            s.execute(select(func.pg_advisory_xact_lock(_STORM_LOCK)))
            storm = self._running(s, channel, since)
        if storm is not None:
            s.add(AlertStormTicket(storm_id=storm.id, ticket_id=ticket.id, added_at=now))
            joined: dict[int, tuple[AlertStorm, int]] = s.info.setdefault(_STORM_JOINS, {})
            _, count = joined.get(storm.id, (storm, 0))
            joined[storm.id] = (storm, count + 1)
            return storm, False
        recent = s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.source == "monitoring", Ticket.created_at >= since)
        )
        if int(recent or 0) <= self._threshold:
            return None, False
        carded = select(ChatMessage.ticket_id).where(ChatMessage.role == "card")
        waiting = s.scalars(
            select(Ticket.id).where(
                Ticket.source == "monitoring",
                Ticket.created_at >= since,
                Ticket.id != ticket.id,
                Ticket.id.not_in(carded),
            )
        ).all()
        storm = AlertStorm(
            channel=channel, started_at=now, last_ticket_at=now, ticket_count=len(waiting) + 1
        )
        s.add(storm)
        s.flush()
        s.info[_STORM] = storm
        for ticket_id in [*waiting, ticket.id]:
            s.add(AlertStormTicket(storm_id=storm.id, ticket_id=ticket_id, added_at=now))
        for ticket_id in waiting:
            self._notify.storm_card(s, ticket_id)
        self._notify.storm_changed(s, storm)
        return storm, True

    def _running(self, s: Session, channel: str, since: datetime) -> AlertStorm | None:
        """The storm running in the channel; once found, remembered for the delivery."""
        storm: AlertStorm | None = s.info.get(_STORM)
        if storm is None:
            storm = s.scalar(
                select(AlertStorm)
                .where(AlertStorm.channel == channel, AlertStorm.last_ticket_at >= since)
                .order_by(AlertStorm.id.desc())
                .limit(1)
            )
            if storm is not None:
                s.info[_STORM] = storm
        return storm

    def count_joined(self, s: Session, now: datetime) -> None:
        """Count this delivery's tickets into the storms they joined, then have each summary
        refreshed. The count is one atomic UPDATE; it locks the storm row until commit, and
        only then is the summary's outbox row looked at (see Dispatcher._storm)."""
        joined: dict[int, tuple[AlertStorm, int]] = s.info.pop(_STORM_JOINS, {})
        for storm_id, (storm, count) in joined.items():
            s.execute(
                update(AlertStorm)
                .where(AlertStorm.id == storm_id)
                .values(ticket_count=AlertStorm.ticket_count + count, last_ticket_at=now)
                .execution_options(synchronize_session=False)
            )
            self._notify.storm_changed(s, storm)
