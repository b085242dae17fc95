"""SIGKILL in the middle of an alert burst: no accepted alert is lost, nothing is sent twice.

Slack answers 500 and the mail server is down during the burst, so at the moment of the kill every
notification is still pending; after a restart each one must arrive exactly once.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.sandbox.mail import MailSink
from bot.sandbox.process import BotProcess
from bot.sandbox.slack.emulator import SlackEmulator
from bot.sandbox.stack import wait_until
from storage.models import AlertInstance, ChatMessage, OutboxRow, Ticket
from tests.acceptance.alert_helpers import TOKEN, am_alert, am_body

TECH, MANAGER, TECHS, CLIENT = "CTECHS", "UMAYA", ("UTOM", "UTARA"), "CACMEHELP"
POSTS = 24


def send(port: int, body: dict[str, object]) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(
                "POST",
                "/alerts/alertmanager",
                body=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
            return conn.getresponse().status
        finally:
            conn.close()
    except OSError:
        return 0  # the bot died under this request: not accepted


@pytest.mark.parametrize("kind", ["sqlite"])
def test_sigkill_during_a_burst_loses_nothing_and_sends_each_notification_once(
    kind: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ticketbot.db'}"
    with (
        SlackEmulator(signing_secret="s" * 32, bot_token="xoxb-durable") as emu,
        MailSink() as mail,
    ):
        emu.add_user(MANAGER, "Maya Manager", email="maya@msp.example")
        for t in TECHS:
            emu.add_user(t, f"Tech {t}", email=f"{t.lower()}@msp.example")
        emu.add_channel(TECH, "technicians", members=[MANAGER, *TECHS])
        settings = {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": "s" * 32,
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": TECH,
            "TICKETBOT_MANAGERS": MANAGER,
            "TICKETBOT_TECHNICIANS": ",".join(TECHS),
            "DATABASE_URL": url,
            "SMTP_URL": mail.url,
            "EMAIL_FROM": "helpdesk@msp.example",
            "ALERT_WEBHOOK_TOKEN": TOKEN,
            "TICKETBOT_ALERT_STORM_THRESHOLD": "1000",
        }
        bot = BotProcess(settings)
        bot.migrate()
        bot.start()
        emu.faults.random(1.0, kinds=("server_error",), methods=("chat.postMessage", "chat.update"))
        mail.pause()

        bodies = [
            am_body(
                am_alert(f"h{n}:9100", alertname=f"Down{n}", fingerprint=f"{n:016x}"),
                group_key=f'{{}}:{{alertname="Down{n}"}}',
            )
            for n in range(POSTS)
        ]
        statuses: dict[int, int] = {}
        half = threading.Event()
        lock = threading.Lock()

        def worker(indexes: list[int]) -> None:
            for i in indexes:
                status = send(bot.port, bodies[i])
                with lock:
                    statuses[i] = status
                    if sum(1 for s in statuses.values() if s == 200) >= POSTS // 2:
                        half.set()

        threads = [
            threading.Thread(target=worker, args=(list(range(k, POSTS, 4)),)) for k in range(4)
        ]
        for t in threads:
            t.start()
        assert half.wait(60), f"the bot accepted too little: {statuses}"
        bot.kill()
        for t in threads:
            t.join()

        accepted = {i for i, s in statuses.items() if s == 200}
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = set(conn.scalars(select(AlertInstance.fingerprint)))
            tickets_before = conn.scalar(select(func.count()).select_from(Ticket))
        assert {f"{i:016x}" for i in accepted} <= stored, "an accepted alert was lost"

        emu.faults.clear()
        mail.resume()
        bot.start()
        try:

            def drained() -> bool:
                with engine.connect() as conn:
                    busy = conn.scalar(
                        select(func.count())
                        .select_from(OutboxRow)
                        .where(OutboxRow.status.in_(("pending", "sending")))
                    )
                return busy == 0

            wait_until(drained, 90, lambda: "the outbox did not drain after the restart")
            with engine.connect() as conn:
                cards = Counter(
                    conn.scalars(select(ChatMessage.ticket_id).where(ChatMessage.role == "card"))
                )
                parked = conn.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "parked")
                )
                tickets_after = conn.scalar(select(func.count()).select_from(Ticket))
            assert parked == 0
            assert tickets_after == tickets_before == len(stored)
            assert set(cards.values()) == {1} and len(cards) == tickets_after
            posted = Counter(
                (c.params.get("channel"), c.params.get("text"))
                for c in emu.calls_to("chat.postMessage")
                if c.ok
            )
            assert max(posted.values()) == 1, "a Slack message was sent twice"
            mail_ids = Counter((str(m["Message-ID"]), m.rcpt_tos) for m in mail.messages)
            assert mail_ids and max(mail_ids.values()) == 1, "an email was sent twice"
            assert (
                len([m for m in mail.messages if "utom@msp.example" in m.rcpt_tos]) == tickets_after
            )
        finally:
            bot.stop()
            engine.dispose()
        assert not bot.error_lines(), bot.log_tail()
