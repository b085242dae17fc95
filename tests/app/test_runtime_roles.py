"""`bot.app.runtime` composes a process from its role: what a web and a worker process build, and
how a web process learns the technicians a worker read from Slack."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.app.process import Runtime
from bot.app.roles import ProcessRole
from bot.app.runtime import WEB_ROLES_RELOAD, build_runtime
from bot.config.settings import Settings
from bot.domain.clock import ManualClock
from bot.sandbox.slack.emulator import SlackEmulator

SLACK_READS = ("conversations.members", "users.info")


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-roles") as emu:
        emu.add_user("UMGR", "Maya Manager", email="maya@msp.example")
        emu.add_user("UTOM", "Tom Tech", email="tom@msp.example")
        emu.add_channel("CTECH", "technicians", members=["UMGR"])
        yield emu


def _runtime(emu: SlackEmulator, engine: Engine, role: ProcessRole, clock: ManualClock) -> Runtime:
    settings = Settings.from_mapping(
        {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": "CTECH",
            "TICKETBOT_MANAGERS": "UMGR",
            "ALERT_WEBHOOK_TOKEN": "alert-token-1234567890",
            "DATABASE_URL": str(engine.url),
        }
    )
    return build_runtime(settings, role=role, clock=clock, engine=engine)


class _Http:
    """Serves `runtime.web` on a free loopback port (uvicorn in a thread, as `run` serves it)."""

    def __init__(self, runtime: Runtime) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        runtime.serve_http(sock, in_thread=True)
        runtime.wait_http_started()

    def request(self, method: str, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=b"{}" if method == "POST" else None)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()


def _slack_reads(emu: SlackEmulator) -> int:
    return sum(len(emu.calls_to(method)) for method in SLACK_READS)


def test_a_web_process_serves_slack_and_alerts_and_delivers_nothing(
    emu: SlackEmulator, engine: Engine
) -> None:
    runtime = _runtime(emu, engine, ProcessRole.WEB, ManualClock())
    try:
        assert runtime.dispatchers == () and runtime.bolt is not None
        web = _Http(runtime)
        assert web.request("POST", "/slack/events")[0] == 401  # unsigned
        assert web.request("POST", "/alerts/alertmanager")[0] == 401  # no bearer token
        assert web.request("GET", "/healthz") == (200, '{"ok":true}')
        assert "ticketbot_outbox_rows" not in web.request("GET", "/metrics")[1]
    finally:
        runtime.stop()


def test_a_worker_delivers_and_serves_only_health_and_metrics(
    emu: SlackEmulator, engine: Engine
) -> None:
    runtime = _runtime(emu, engine, ProcessRole.WORKER, ManualClock())
    try:
        assert runtime.bolt is None
        assert len(runtime.dispatchers) == 3  # Slack, email, webhooks
        web = _Http(runtime)
        for path in ("/slack/events", "/alerts/alertmanager", "/api/messages"):
            assert web.request("POST", path)[0] == 404, path
        assert web.request("GET", "/healthz") == (200, '{"ok":true}')
        assert "ticketbot_outbox_rows" in web.request("GET", "/metrics")[1]
    finally:
        runtime.stop()


def test_a_web_process_takes_the_technicians_a_worker_stored_without_asking_slack(
    emu: SlackEmulator, engine: Engine
) -> None:
    clock = ManualClock()
    web = _runtime(emu, engine, ProcessRole.WEB, clock)
    worker = _runtime(emu, engine, ProcessRole.WORKER, clock)
    try:
        assert web.scheduler.run_now(web.members_refresh)
        assert _slack_reads(emu) == 0 and "UTOM" not in web.directory.technicians
        emu.set_members("CTECH", ["UMGR", "UTOM"])
        assert worker.scheduler.run_now(worker.members_refresh)
        assert _slack_reads(emu) > 0 and "UTOM" in worker.directory.technicians
        reads = _slack_reads(emu)

        reload = web.scheduler.apscheduler.get_job(web.members_refresh)
        assert reload.trigger.interval == WEB_ROLES_RELOAD  # not due before that
        assert web.scheduler.run_now(web.members_refresh)
        assert "UTOM" in web.directory.technicians
        assert _slack_reads(emu) == reads
    finally:
        web.stop()
        worker.stop()
