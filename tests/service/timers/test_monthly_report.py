"""The monthly report email timer with a ManualClock: armed for the 1st at 07:00 local, one mail
per client contact with last month's report (HTML part and attachment), re-armed for the next
month, once after downtime for the month it was due for, stopped by TICKETBOT_MONTHLY_REPORT=off;
a written row goes through the real SMTP adapter to the SMTP sink."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config.email import SmtpSettings
from bot.config.settings import Settings
from bot.domain.clock import ManualClock
from bot.email.sender import EmailSender, build_message
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.sandbox.mail import MailSink
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.timers import monthly_report
from bot.service.timers.monthly_report import MONTHLY_REPORT, MonthlyReport
from bot.service.timers.runner import TimerRunner
from bot.service.timers.schedule import Timers
from storage.models import OutboxRow, Timer
from tests.reports.month_fixture import ACME, ACME_CONTACT, GLOBEX_CONTACT, TZ, at, write_month

SETTINGS = Settings(timezone=TZ, monthly_report_at=time(7, 0))


class Parts:
    def __init__(self, sessions: sessionmaker[Session], directory: Directory, start: datetime):
        self.sessions, self.clock = sessions, ManualClock(start)
        self.ids: dict[str, int] = {}
        notify = NotifySettings(
            tech_channel="CTECHS", critical_mention="<!here>", email_domain="msp.example"
        )
        self.notifier = Notifier(notify, directory, OutboxWriter(self.clock))
        monthly = MonthlyReport.of(SETTINGS)
        assert monthly is not None
        self.timers = Timers.of([monthly.kind()])
        self.runner = TimerRunner(
            session_factory=sessions, timers=self.timers, notifier=self.notifier, clock=self.clock
        )
        monthly_report.start(SETTINGS, sessions, self.timers, start)

    def move_to(self, when: datetime) -> int:
        self.clock.advance(when - self.clock.now())
        return self.runner.fire_due()

    def timer(self) -> Timer:
        with self.sessions() as s:
            row = s.scalar(select(Timer).where(Timer.key == MONTHLY_REPORT))
            assert row is not None
            return row

    def mails(self) -> list[OutboxRow]:
        with self.sessions() as s:
            query = select(OutboxRow).where(OutboxRow.channel == "email")
            return list(s.scalars(query.order_by(OutboxRow.id)))


@pytest.fixture
def parts(sessions: sessionmaker[Session], directory: Directory) -> Parts:
    with sessions.begin() as s:
        ids = write_month(s)
    made = Parts(sessions, directory, at(20, 12))
    made.ids = ids
    return made


def test_on_the_1st_at_0700_each_contact_gets_last_months_report_then_it_rearms(
    parts: Parts,
) -> None:
    assert parts.timer().due_at == at(1, 7, month=12)
    assert parts.timer().ticket_id is None
    assert parts.move_to(at(1, 6, 59, month=12)) == 0
    assert parts.move_to(at(1, 7, month=12)) == 1
    assert parts.move_to(at(1, 7, 1, month=12)) == 0  # once
    acme, globex = parts.mails()
    assert (acme.payload["to"], globex.payload["to"]) == (ACME_CONTACT, GLOBEX_CONTACT)
    assert acme.ticket_id is None and acme.kind == "email"
    p = acme.payload
    assert p["subject"] == f"Ticket report November 2026 — {ACME}"
    assert p["message_id"] == f"<report-2026-11-{parts.ids[ACME]}@msp.example>"
    assert "Tickets opened            5 (1 cancelled)" in p["text"]
    assert "Overall" not in p["text"] and "Globex" not in p["text"]  # the client's own only
    assert p["html"].startswith("<!DOCTYPE html>") and "Acme &lt;b&gt;Corp" in p["html"]
    assert p["attachment"]["filename"] == "ticket-report-2026-11.html"
    assert "Tickets opened\t5" not in p["html"] and "<svg" in p["html"]
    assert parts.timer().due_at == at(1, 7, month=1).replace(year=2027)


def test_after_months_down_one_report_for_the_month_it_was_due_for(parts: Parts) -> None:
    assert parts.move_to(at(1, 7, month=12)) == 1
    parts.clock.advance(datetime(2027, 3, 15, tzinfo=UTC) - parts.clock.now())
    monthly_report.start(SETTINGS, parts.sessions, parts.timers, parts.clock.now())
    assert parts.runner.fire_due() == 1
    assert parts.runner.fire_due() == 0
    subjects = [m.payload["subject"] for m in parts.mails()]
    assert [s.split(" — ")[0] for s in subjects] == ["Ticket report November 2026"] * 2 + [
        "Ticket report December 2026"
    ] * 2
    assert parts.timer().due_at == datetime(2027, 4, 1, 5, 0, tzinfo=UTC)  # 07:00 CEST


def test_off_stops_it(parts: Parts) -> None:
    monthly_report.start(Settings(), parts.sessions, parts.timers, parts.clock.now())
    assert parts.timer().state == "cancelled"
    assert parts.move_to(at(2, 9, month=12)) == 0
    assert parts.mails() == []


def test_the_report_mail_reaches_the_smtp_sink_with_its_html_attached(parts: Parts) -> None:
    assert parts.move_to(at(1, 7, month=12)) == 1
    payload = parts.mails()[0].payload
    random.seed(3)
    before = random.getstate()
    built = build_message(payload, "helpdesk@msp.example")
    assert random.getstate() == before  # no multipart boundary from the caller's generator
    with MailSink() as sink:
        smtp = SmtpSettings.from_url(sink.url)
        EmailSender(smtp, "helpdesk@msp.example").send(payload)
        [mail] = sink.wait_for(lambda: sink.messages)
    message: EmailMessage = mail.message
    assert mail.rcpt_tos == (ACME_CONTACT,)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/html",
    ]
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "ticket-report-2026-11.html"
    assert attached.get_content() == payload["html"]
    assert built["Subject"] == message["Subject"]
