"""Timers that fall due while every process is down (a real `ticketbot run`, SIGKILLed) fire
once each when a process starts again: a missed re-ping is sent once, not once per interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.sandbox.process import BotProcess
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import CAST, wait_until
from storage.engine import make_engine, make_session_factory
from storage.models import OutboxRow, TicketEvent, Timer

TICKETS = 3
WAIT = 30.0  # real seconds for the process to start, deliver and tick (every 5 s)


def _open_critical(emu: SlackEmulator, n: int) -> None:
    emu.slash_command(CAST.employee, CAST.client_channel, "")
    answer = emu.submit_view(
        CAST.employee,
        values={"title": f"Site {n} offline", "priority": "critical", "affected": "all"},
    )
    assert answer.status == 200, answer.body


def test_timers_due_while_every_process_was_down_fire_once_each_after_restart(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-restart") as emu:
        emu.add_user(CAST.manager, "Maya Manager", email="maya@msp.example")
        emu.add_user(CAST.tech1, "Tom Tech", email="tom@msp.example")
        emu.add_user(CAST.employee, "Erin Employee", email="erin@acme.example")
        emu.add_channel(CAST.tech_channel, "technicians", members=[CAST.manager, CAST.tech1])
        emu.add_channel(CAST.client_channel, "acme-help", members=[CAST.employee])
        settings = {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": CAST.tech_channel,
            "TICKETBOT_MANAGERS": CAST.manager,
            "DATABASE_URL": database_url,
        }

        def outbox_idle() -> bool:
            with sessions() as s:
                return not s.scalars(
                    select(OutboxRow.id).where(OutboxRow.status.in_(("pending", "sending")))
                ).first()

        first = BotProcess(settings)
        first.migrate()
        try:
            first.start()
            emu.bot_url = f"http://127.0.0.1:{first.port}/slack/events"
            for n in range(TICKETS):
                _open_critical(emu, n)
            wait_until(outbox_idle, WAIT, lambda: "the new tickets were never delivered")
        finally:
            first.kill()

        # Half an hour passes with every process down (armed 35 minutes ago, due 30 minutes
        # ago): six re-ping intervals of 5 minutes missed.
        with sessions.begin() as s:
            due = s.scalars(select(Timer).where(Timer.kind == "reping")).all()
            assert len(due) == TICKETS and {t.state for t in due} == {"pending"}
            now = datetime.now(UTC)
            since = {"since": (now - timedelta(minutes=35)).isoformat()}
            s.execute(
                update(Timer)
                .where(Timer.kind == "reping")
                .values(due_at=now - timedelta(minutes=30), data=since)
            )

        second = BotProcess(settings)
        try:
            second.start()

            def all_fired() -> bool:
                with sessions() as s:
                    rows = s.scalars(select(Timer).where(Timer.kind == "reping")).all()
                    return all(t.fires >= 1 for t in rows)

            wait_until(all_fired, WAIT, lambda: f"not every re-ping fired:\n{second.log_tail()}")
            wait_until(outbox_idle, WAIT, lambda: "the re-pings were never delivered")
        finally:
            second.stop()

        with sessions() as s:
            timers = s.scalars(select(Timer).where(Timer.kind == "reping")).all()
            assert [t.fires for t in timers] == [1] * TICKETS
            assert all(t.due_at > datetime.now(UTC) for t in timers)  # next: 5 min from the fire
            repings = s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "reping"))
            assert sorted(repings) == sorted(t.ticket_id for t in timers)
        cards = [m for m in emu.messages(CAST.tech_channel) if m.bot_id]
        assert len(cards) == TICKETS  # not re-posted
        for card in cards:
            pings = [m.text for m in emu.replies(CAST.tech_channel, card.ts) if m.bot_id]
            assert len(pings) == 1 and "still unassigned after 35 min" in pings[0]
    engine.dispose()
