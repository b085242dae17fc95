"""The monthly report email: one timer (kind "monthly_report", no ticket) that emails last
month's HTML report to each client's primary contact on the 1st at a local time and re-arms
itself for the next month; once after downtime, like the daily digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.messages.escape import one_line
from bot.reports.build import build_report
from bot.reports.month import Month
from bot.reports.page import render_html
from bot.reports.text import render_text
from bot.service.notify.matrix import Notifier
from bot.service.sla import SlaPolicy
from bot.service.timers import keyed as keyed_timer
from bot.service.timers.schedule import Firing, TimerKind, Timers
from storage.models import Client

MONTHLY_REPORT = "monthly_report"  # the timer's kind and key


@dataclass(frozen=True)
class MonthlyReport:
    """Emails the previous month's report on the 1st at `at` local time in the MSP's zone."""

    sla: SlaPolicy
    at: time

    @classmethod
    def of(cls, settings: Settings) -> MonthlyReport | None:
        """None when TICKETBOT_MONTHLY_REPORT is off."""
        if settings.monthly_report_at is None:
            return None
        return cls(sla=SlaPolicy.of(settings), at=settings.monthly_report_at)

    @property
    def tz(self) -> tzinfo:
        return self.sla.default.tz

    def kind(self) -> TimerKind:
        return TimerKind(MONTHLY_REPORT, fire=self.fire)

    def next_after(self, moment: datetime) -> datetime:
        """The first report time strictly after `moment` (UTC): `at` on a 1st, local time."""
        month = Month.containing(moment, self.tz)
        while True:
            first = datetime(month.year, month.month, 1).date()
            due = datetime.combine(first, self.at, self.tz).astimezone(UTC)
            if due > moment:
                return due
            month = month.next()

    def ensure(self, sessions: sessionmaker[Session], timers: Timers, now: datetime) -> None:
        """At start: arm the report unless it is armed for this time already (an overdue one
        fires once after downtime)."""
        keyed_timer.arm(
            sessions, timers, MONTHLY_REPORT, due_at=self.next_after(now), at=self._at(), now=now
        )

    def fire(self, f: Firing) -> datetime:
        # The month before the one it was due in: after downtime, still the month it was for.
        month = Month.containing(f.due_at, self.tz).previous()
        self.send(f.session, f.notifier, month, f.now)
        f.data["at"] = self._at()
        return self.next_after(f.now)

    def send(self, session: Session, notifier: Notifier, month: Month, now: datetime) -> int:
        """One email per client with a primary contact; returns how many were written."""
        clients = session.scalars(
            select(Client).where(Client.contact_email.is_not(None)).order_by(Client.id)
        ).all()
        sent = 0
        for client in clients:
            report = build_report(session, month, self.sla, now=now, client=client.name)
            name = one_line(client.name, 120)
            sent += notifier.report_email(
                session,
                to=client.contact_email or "",
                key=f"report-{month}-{client.id}",
                subject=f"Ticket report {report.month_label} — {name}",
                text=render_text(report),
                html=render_html(report),
                filename=f"ticket-report-{month}.html",
            )
        return sent

    def _at(self) -> str:
        return self.at.strftime("%H:%M")


def start(
    settings: Settings, sessions: sessionmaker[Session], timers: Timers, now: datetime
) -> None:
    """At a process's start: arm the report as the settings say, or stop it when they say off."""
    monthly = MonthlyReport.of(settings)
    if monthly is not None:
        monthly.ensure(sessions, timers, now)
    else:
        keyed_timer.disarm(sessions, timers, MONTHLY_REPORT, now)
