"""Timers as rows: planned from a ticket's facts in the use-case's transaction, fired once by
the runner with a ManualClock, cancelled by the change that makes them moot, coalesced after
downtime, and a failing timer holds up no other."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.clock import ManualClock
from bot.outbox.writer import OutboxWriter
from bot.people.directory import Directory
from bot.service.actor import Actor
from bot.service.notify.matrix import Notifier
from bot.service.notify.settings import NotifySettings
from bot.service.timers.escalation import REPING, EscalationPolicy, kinds
from bot.service.timers.runner import TimerRunner
from bot.service.timers.schedule import Firing, TimerKind, Timers
from bot.service.use_cases import TicketService
from storage.models import OutboxRow, TicketEvent, Timer
from tests.fakes import EMPLOYEE, MANAGER, TECHNICIAN, Statements

POLICY = EscalationPolicy(reping_after=timedelta(minutes=5))


class Parts:
    def __init__(
        self, sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
    ) -> None:
        settings = NotifySettings(
            tech_channel="CTECHS", critical_mention="<!here>", email_domain="msp.example"
        )
        self.sessions = sessions
        self.clock = clock
        self.notifier = Notifier(settings, directory, OutboxWriter(clock))
        self.timers = Timers.of(kinds(POLICY))
        self.service = TicketService(
            session_factory=sessions,
            directory=directory,
            notifier=self.notifier,
            clock=clock,
            timers=self.timers,
        )
        self.runner = TimerRunner(
            session_factory=sessions, timers=self.timers, notifier=self.notifier, clock=clock
        )

    def open(self, priority: str = "critical") -> int:
        return self.service.open_ticket(
            Actor(EMPLOYEE), title="Internet down at HQ", priority=priority
        )

    def timer(self, ticket_id: int, kind: str) -> Timer | None:
        with self.sessions() as s:
            return s.scalar(select(Timer).where(Timer.ticket_id == ticket_id, Timer.kind == kind))

    def outbox_after(self, mark: int) -> list[OutboxRow]:
        with self.sessions() as s:
            return list(s.scalars(select(OutboxRow).where(OutboxRow.id > mark).order_by("id")))

    def mark(self) -> int:
        with self.sessions() as s:
            return max(s.scalars(select(OutboxRow.id)).all(), default=0)

    def events(self, ticket_id: int, kind: str) -> list[TicketEvent]:
        with self.sessions() as s:
            query = select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind
            )
            return list(s.scalars(query.order_by(TicketEvent.id)))


@pytest.fixture
def parts(sessions: sessionmaker[Session], directory: Directory, clock: ManualClock) -> Parts:
    return Parts(sessions, directory, clock)


def test_an_unassigned_critical_ticket_repings_every_interval_until_assigned(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open()
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.state == "pending"
    assert timer.due_at == clock.now() + timedelta(minutes=5)

    clock.advance(timedelta(minutes=4, seconds=59))
    mark = parts.mark()
    assert parts.runner.fire_due() == 0

    clock.advance(timedelta(seconds=1))
    assert parts.runner.overdue() == 1
    assert parts.runner.fire_due() == 1
    assert parts.runner.overdue() == 0
    rows = parts.outbox_after(mark)
    thread = [r for r in rows if r.stream == f"slack:{ticket_id}:card"]
    assert [(r.kind, r.payload["anchor"], r.payload["ping"]) for r in thread] == [
        ("post", "card", True)
    ]
    assert thread[0].payload["text"] == (
        f"<!here> ⏰ *#{ticket_id}* Internet down at HQ is critical and still unassigned "
        "after 5 min. Managers: please assign it from the card above."
    )
    dms = [r for r in rows if r.stream == f"slack-dm:{MANAGER}"]
    assert [r.payload["text"] for r in dms] == [
        f"⏰ Critical ticket *#{ticket_id}* Internet down at HQ — client an unknown company — "
        "is still unassigned after 5 min. Assign it from its card in the technician channel."
    ]
    assert not [r for r in rows if r.channel == "email"]
    assert [e.text for e in parts.events(ticket_id, "reping")] == [
        "re-pinged the technicians and managers: unassigned for 5 min"
    ]

    clock.advance(timedelta(minutes=5))
    assert parts.runner.fire_due() == 1
    assert [e.text.split(" for ")[1] for e in parts.events(ticket_id, "reping")] == [
        "5 min",
        "10 min",
    ]

    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    assert (t := parts.timer(ticket_id, REPING)) is not None and t.state == "cancelled"
    assert t.fires == 2
    clock.advance(timedelta(minutes=29))  # the assignee's own reminder comes at 30 min
    assert parts.runner.fire_due() == 0


def test_a_ticket_raised_to_critical_starts_repinging_from_then(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open(priority="high")
    assert parts.timer(ticket_id, REPING) is None
    clock.advance(timedelta(hours=1))
    parts.service.change_priority(Actor(MANAGER), ticket_id, "critical")
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.due_at == clock.now() + timedelta(minutes=5)

    parts.service.change_priority(Actor(MANAGER), ticket_id, "high")  # moot again
    assert (t := parts.timer(ticket_id, REPING)) is not None and t.state == "cancelled"
    clock.advance(timedelta(minutes=1))
    parts.service.change_priority(Actor(MANAGER), ticket_id, "critical")  # armed afresh
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.state == "pending" and timer.fires == 0
    assert timer.due_at == clock.now() + timedelta(minutes=5)


def test_after_downtime_an_overdue_repeating_timer_fires_once_then_every_interval(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = parts.open()
    clock.advance(timedelta(hours=2))  # 24 intervals missed while every process was down
    assert parts.runner.fire_due() == 1
    assert parts.runner.fire_due() == 0
    timer = parts.timer(ticket_id, REPING)
    assert timer is not None and timer.due_at == clock.now() + timedelta(minutes=5)
    assert len(parts.events(ticket_id, "reping")) == 1


def test_a_failing_timer_is_retried_later_and_holds_up_no_other(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    parts = Parts(sessions, directory, clock)
    calls: list[str] = []

    def broken(f: Firing) -> datetime | None:
        calls.append(f.key)
        raise RuntimeError("boom")

    parts.timers.register(TimerKind("broken", fire=broken))
    parts.runner = TimerRunner(
        session_factory=sessions, timers=parts.timers, notifier=parts.notifier, clock=clock, batch=3
    )
    first, second = parts.open(), parts.open()
    with sessions.begin() as s:
        parts.timers.schedule(s, "broken:1", "broken", clock.now(), clock.now())
    clock.advance(timedelta(minutes=5))
    assert parts.runner.fire_due() == 2
    assert calls == ["broken:1", "broken:1"]  # in the batch, then on its own
    assert len(parts.events(first, "reping")) == len(parts.events(second, "reping")) == 1
    with sessions() as s:
        broken_row = s.scalar(select(Timer).where(Timer.key == "broken:1"))
        assert broken_row is not None and broken_row.state == "pending"
        assert broken_row.due_at == clock.now() + timedelta(minutes=1)


def test_schedule_upserts_by_key_and_cancel_by_key(parts: Parts, clock: ManualClock) -> None:
    fired: list[int] = []

    def digest(f: Firing) -> datetime | None:
        fired.append(f.fires)
        return f.now + timedelta(days=1)

    parts.timers.register(TimerKind("digest", fire=digest))
    with parts.sessions.begin() as s:
        parts.timers.schedule(s, "digest", "digest", clock.now() + timedelta(hours=1), clock.now())
        parts.timers.schedule(s, "digest", "digest", clock.now() + timedelta(hours=2), clock.now())
    clock.advance(timedelta(hours=1))
    assert parts.runner.fire_due() == 0
    clock.advance(timedelta(hours=1))
    assert parts.runner.fire_due() == 1
    clock.advance(timedelta(days=1))
    assert parts.runner.fire_due() == 1
    assert fired == [0, 1]
    with parts.sessions.begin() as s:
        assert parts.timers.cancel(s, clock.now(), key="digest") == 1
    clock.advance(timedelta(days=1))
    assert parts.runner.fire_due() == 0


# ---- rule 2: silent assignee ---------------------------------------------------------------
def _assigned_critical(parts: Parts) -> int:
    ticket_id = parts.open()
    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    return ticket_id


def test_a_silent_assignee_is_reminded_then_the_managers_are_told(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = _assigned_critical(parts)
    clock.advance(timedelta(minutes=29))
    mark = parts.mark()
    assert parts.runner.fire_due() == 0
    clock.advance(timedelta(minutes=1))
    assert parts.runner.fire_due() == 1
    rows = parts.outbox_after(mark)
    assert [(r.stream, r.payload["text"]) for r in rows] == [
        (
            f"slack-dm:{TECHNICIAN}",
            f"⏰ No technician update on *#{ticket_id}* Internet down at HQ (🔴 critical) for "
            "30 min. The client is waiting to hear: please post an update in the card's thread.",
        )
    ]
    clock.advance(timedelta(minutes=30))
    mark = parts.mark()
    assert parts.runner.fire_due() == 1
    rows = parts.outbox_after(mark)
    assert [(r.stream, r.payload["text"]) for r in rows] == [
        (
            f"slack-dm:{MANAGER}",
            f"⚠️ *#{ticket_id}* Internet down at HQ (🔴 critical), assigned to <@{TECHNICIAN}>, "
            "has had no technician update for 1 h. Check in with them, or reassign it from its "
            "card in the technician channel.",
        )
    ]
    assert [e.kind for e in parts.events(ticket_id, "reminder")] == ["reminder"]
    assert [e.kind for e in parts.events(ticket_id, "escalated")] == ["escalated"]
    clock.advance(timedelta(days=1))
    assert parts.runner.fire_due() == 0  # once each per silence


def test_a_technician_update_restarts_the_silence(parts: Parts, clock: ManualClock) -> None:
    ticket_id = _assigned_critical(parts)
    clock.advance(timedelta(minutes=25))
    parts.service.start(Actor(TECHNICIAN), ticket_id)
    clock.advance(timedelta(minutes=25))
    assert parts.runner.fire_due() == 0
    remind = parts.timer(ticket_id, "silent_remind")
    assert remind is not None and remind.due_at == clock.now() + timedelta(minutes=5)
    clock.advance(timedelta(minutes=5))
    assert parts.runner.fire_due() == 1
    clock.advance(timedelta(minutes=10))
    parts.service.request_help(Actor(TECHNICIAN), ticket_id)  # attention again: both re-armed
    assert (t := parts.timer(ticket_id, "silent_remind")) is not None and t.state == "pending"
    assert t.due_at == clock.now() + timedelta(minutes=30)
    assert (e := parts.timer(ticket_id, "silent_escalate")) is not None
    assert e.due_at == clock.now() + timedelta(hours=1)


def test_a_change_that_leaves_the_plan_as_it_was_sends_no_timer_statement(
    parts: Parts, clock: ManualClock, statements: Statements
) -> None:
    ticket_id = parts.open()  # critical, unassigned: a re-ping is planned
    clock.advance(timedelta(minutes=1))
    parts.service.request_help(Actor(TECHNICIAN), ticket_id)  # the first response: plan changes
    clock.advance(timedelta(minutes=1))
    statements.clear()
    parts.service.request_help(Actor(MANAGER), ticket_id)  # still unassigned: the same plan
    assert [s for s in statements.sent if "timers" in s] == []
    reping = parts.timer(ticket_id, REPING)
    assert reping is not None and reping.state == "pending"
    statements.clear()
    parts.service.change_priority(Actor(MANAGER), ticket_id, "high")  # no re-ping for high
    assert any("UPDATE timers" in s for s in statements.sent)
    reping = parts.timer(ticket_id, REPING)
    assert reping is not None and reping.state == "cancelled"


def test_a_lower_priority_has_its_own_delay_and_zero_turns_it_off(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    parts = Parts(sessions, directory, clock)
    off = EscalationPolicy(remind_after={"critical": timedelta(minutes=30), "low": timedelta(0)})
    parts.timers = Timers.of(kinds(off))
    parts.service = TicketService(
        session_factory=sessions,
        directory=directory,
        notifier=parts.notifier,
        clock=clock,
        timers=parts.timers,
    )
    low = parts.open(priority="low")
    parts.service.assign(Actor(MANAGER), low, TECHNICIAN)
    assert parts.timer(low, "silent_remind") is None
    parts.service.change_priority(Actor(MANAGER), low, "critical")
    remind = parts.timer(low, "silent_remind")
    assert remind is not None and remind.due_at == clock.now() + timedelta(minutes=30)


# ---- rule 5: awaiting confirmation ---------------------------------------------------------
def _resolved(parts: Parts, priority: str) -> int:
    ticket_id = parts.open(priority=priority)
    parts.service.assign(Actor(MANAGER), ticket_id, TECHNICIAN)
    parts.service.resolve(Actor(TECHNICIAN), ticket_id, "ISP confirmed service restored.")
    return ticket_id


def test_resolving_cancels_the_silence_timers_and_arms_the_confirmation_ones(
    parts: Parts, clock: ManualClock
) -> None:
    ticket_id = _resolved(parts, "high")
    states = {
        kind: (t.state if (t := parts.timer(ticket_id, kind)) else None)
        for kind in ("silent_remind", "silent_escalate", "confirm_remind", "auto_close")
    }
    assert states == {
        "silent_remind": "cancelled",
        "silent_escalate": "cancelled",
        "confirm_remind": "pending",
        "auto_close": "pending",
    }
    close = parts.timer(ticket_id, "auto_close")
    assert close is not None and close.due_at == clock.now() + timedelta(days=5)
    parts.service.reopen(Actor(EMPLOYEE), ticket_id, "Still no internet on floor 2.")
    assert (t := parts.timer(ticket_id, "auto_close")) is not None and t.state == "cancelled"
    assert (r := parts.timer(ticket_id, "silent_remind")) is not None and r.state == "pending"


def test_an_unconfirmed_ticket_is_reminded_then_closed_by_itself(
    parts: Parts, clock: ManualClock, sessions: sessionmaker[Session]
) -> None:
    ticket_id = _resolved(parts, "medium")
    clock.advance(timedelta(days=1))
    mark = parts.mark()
    assert parts.runner.fire_due() == 1
    rows = parts.outbox_after(mark)
    assert [(r.stream, r.payload.get("to")) for r in rows] == [
        (f"slack:{ticket_id}:client", None),
        (f"email:{ticket_id}:erin@acme.example", "erin@acme.example"),
    ]
    assert rows[0].payload["text"] == (
        f"⏳ *#{ticket_id}* Internet down at HQ was resolved 1 d ago and is waiting for your "
        "confirmation. Is it fixed for you? Please answer with the Confirm fixed or Still broken "
        "button above."
    )
    rows.pop(0)
    assert rows[0].payload["subject"] == f"[#{ticket_id}] Internet down at HQ"
    assert (
        rows[0]
        .payload["text"]
        .startswith(
            f"Ticket #{ticket_id} — is it fixed for you?\n\n#{ticket_id} Internet down at HQ was "
            "resolved 1 d ago and is still waiting for your confirmation."
        )
    )
    clock.advance(timedelta(days=4))
    mark = parts.mark()
    assert parts.runner.fire_due() == 1
    with sessions() as s:
        from storage.models import Ticket

        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state == "closed"
        assert ticket.closed_at == clock.now()
    rows = parts.outbox_after(mark)
    kinds_written = sorted((r.channel, r.kind, r.stream.split(":")[-1]) for r in rows)
    assert kinds_written == [  # what a confirmed close writes
        ("email", "email", "erin@acme.example"),
        ("email", "email", "maya@msp.example"),
        ("email", "email", "tom@msp.example"),
        ("slack", "card", "card"),
        ("slack", "post", "card"),
        ("slack", "post", "client"),
        ("slack", "replace", "client"),
    ]
    thread = next(r for r in rows if r.kind == "post")
    assert thread.payload["text"] == (
        f"🏁 *#{ticket_id}* Internet down at HQ is closed automatically — resolved, and nobody "
        f"confirmed it or reported it still broken within 5 d. Thanks to everyone involved: "
        f"<@{EMPLOYEE}>, <@{MANAGER}>, <@{TECHNICIAN}>"
    )
    assert [e.text for e in parts.events(ticket_id, "closed")] == [
        "closed automatically: unconfirmed for 5 d"
    ]
    assert {t.state for t in [parts.timer(ticket_id, "confirm_remind")] if t} == {"cancelled"}


def test_a_critical_ticket_never_closes_by_itself_the_managers_are_reminded(
    parts: Parts, clock: ManualClock, sessions: sessionmaker[Session]
) -> None:
    ticket_id = _resolved(parts, "critical")
    clock.advance(timedelta(days=5))
    mark = parts.mark()
    assert parts.runner.fire_due() == 2  # the reminder, late, and the managers' reminder
    rows = parts.outbox_after(mark)
    dms = [r.payload["text"] for r in rows if r.stream == f"slack-dm:{MANAGER}"]
    assert dms == [
        f"⏳ Critical ticket *#{ticket_id}* Internet down at HQ has waited 5 d for the client "
        "to confirm the fix. Critical tickets are never closed automatically: follow up with "
        "the client, or confirm it on their behalf with the Confirm fixed button in their thread."
    ]
    with sessions() as s:
        from storage.models import Ticket

        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.state == "awaiting_confirmation"


def test_ensure_arms_a_timer_once_and_leaves_an_existing_one_alone(
    parts: Parts, clock: ManualClock
) -> None:
    parts.timers.register(TimerKind("digest", fire=lambda f: f.now + timedelta(days=1)))
    with parts.sessions.begin() as s:
        parts.timers.ensure(s, "digest", "digest", clock.now() + timedelta(hours=1), clock.now())
    clock.advance(timedelta(hours=3))  # down when it fell due; a restart ensures it again
    with parts.sessions.begin() as s:
        parts.timers.ensure(s, "digest", "digest", clock.now() + timedelta(hours=22), clock.now())
    assert parts.runner.fire_due() == 1  # the overdue one, not pushed to tomorrow


def test_a_storm_of_alert_tickets_is_not_repinged_one_by_one(
    sessions: sessionmaker[Session], directory: Directory, clock: ManualClock
) -> None:
    from bot.alerts.ingest import AlertPolicy, AlertService
    from bot.alerts.model import Alert, AlertStatus
    from bot.service.sla import SlaPolicy
    from bot.service.timers import sla as sla_timers

    parts = Parts(sessions, directory, clock)
    for kind in sla_timers.kinds(SlaPolicy.of_defaults()):
        parts.timers.register(kind)
    alerts = AlertService(
        session_factory=sessions,
        notifier=parts.notifier,
        clock=clock,
        policy=AlertPolicy(tech_channel="CTECHS", severity_map={}, storm_threshold=2),
        timers=parts.timers,
    )
    created = alerts.ingest(
        [
            Alert(
                source="generic",
                group_key=f"site-{n}",
                fingerprint=f"site-{n}",
                status=AlertStatus.FIRING,
                title=f"Site {n} offline",
            )
            for n in range(4)
        ]
    ).created
    with sessions() as s:
        planned = s.scalars(select(Timer.ticket_id).where(Timer.kind == REPING)).all()
        breach = s.scalars(select(Timer.ticket_id).where(Timer.kind == "sla_response_breach"))
        sla_clocked = breach.all()
    assert len(created) == 4 and sorted(planned) == created[:2]  # the two before the storm
    assert sorted(sla_clocked) == sorted(created)  # every ticket's SLA clock runs
