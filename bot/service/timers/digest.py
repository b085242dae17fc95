"""The daily digest: one timer (kind "digest", no ticket) that posts the digest in the
technician channel(s) at a local time and re-arms itself for the next day; fired once across
processes by the timer runner, and once after downtime however many days were missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.messages.digest import DigestTicket, DigestView, digest
from bot.service.timers import keyed as keyed_timer
from bot.service.timers.schedule import Firing, TimerKind, Timers
from bot.service.views import sla_clocks
from storage.models import Ticket

DIGEST = "digest"  # the timer's kind and key
OPEN_STATES = ("new", "assigned", "in_progress", "awaiting_confirmation")


@dataclass(frozen=True)
class DailyDigest:
    """Posts the digest at `at` local time in `tz`."""

    tz: tzinfo
    at: time

    @classmethod
    def of(cls, settings: Settings) -> DailyDigest | None:
        """None when TICKETBOT_DIGEST_AT is off."""
        if settings.digest_at is None:
            return None
        return cls(tz=ZoneInfo(settings.timezone), at=settings.digest_at)

    def kind(self) -> TimerKind:
        return TimerKind(DIGEST, fire=self.fire)

    def next_after(self, moment: datetime) -> datetime:
        """The first digest time strictly after `moment` (UTC): `at` on a local calendar day, so
        08:30 stays 08:30 across DST changes (a time in a spring-forward gap runs an hour on)."""
        day = moment.astimezone(self.tz).date()
        while True:
            due = datetime.combine(day, self.at, self.tz).astimezone(UTC)
            if due > moment:
                return due
            day += timedelta(days=1)

    def ensure(self, sessions: sessionmaker[Session], timers: Timers, now: datetime) -> None:
        """At start: arm the digest unless it is armed for this time of day already. An overdue
        one is left as it is, so it fires once after downtime."""
        keyed_timer.arm(
            sessions, timers, DIGEST, due_at=self.next_after(now), at=self._at(), now=now
        )

    def fire(self, f: Firing) -> datetime:
        today = f.now.astimezone(self.tz).date()
        f.notifier.digest(f.session, digest(self.view(f.session, today)))
        f.data["at"] = self._at()
        return self.next_after(f.now)  # after downtime: this one digest, then tomorrow's

    def view(self, session: Session, today: date) -> DigestView:
        """What the digest for `today` shows: open tickets now, and yesterday's closures."""
        start = datetime.combine(today - timedelta(days=1), time(0), self.tz).astimezone(UTC)
        end = datetime.combine(today, time(0), self.tz).astimezone(UTC)
        open_rows = session.scalars(select(Ticket).where(Ticket.state.in_(OPEN_STATES))).all()
        closed = session.scalars(
            select(Ticket).where(
                Ticket.state == "closed", Ticket.closed_at >= start, Ticket.closed_at < end
            )
        ).all()
        return DigestView(
            day=today,
            open=tuple(_line(t) for t in open_rows),
            closed_yesterday=tuple(_line(t) for t in closed),
        )

    def _at(self) -> str:
        return self.at.strftime("%H:%M")


def start(
    settings: Settings, sessions: sessionmaker[Session], timers: Timers, now: datetime
) -> None:
    """At a process's start: arm the digest as the settings say, or stop it when they say off."""
    daily = DailyDigest.of(settings)
    if daily is not None:
        daily.ensure(sessions, timers, now)
    else:
        keyed_timer.disarm(sessions, timers, DIGEST, now)


def _line(ticket: Ticket) -> DigestTicket:
    statuses = {clock.status for clock in sla_clocks(ticket)}
    sla = "breached" if "breached" in statuses else "at_risk" if "at_risk" in statuses else None
    return DigestTicket(
        id=ticket.id,
        title=ticket.title,
        priority=ticket.priority,
        state=ticket.state,
        assignee=ticket.assignee.name if ticket.assignee else None,
        client=ticket.client.name if ticket.client else None,
        sla=sla,
    )
