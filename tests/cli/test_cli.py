"""The `ticketbot` command line: settings errors, clients, manifest, outbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main


def test_run_without_settings_lists_every_problem_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    for key in ("SLACK_BOT_TOKEN", "TICKETBOT_TECH_CHANNEL", "TICKETBOT_MANAGERS"):
        assert key in err


def test_secrets_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-very-secret-value")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh-secret-signing")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "very-secret-value" not in err and "shh-secret-signing" not in err


def test_clients_add_list_update_remove(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    assert main(["db", "upgrade"]) == 0
    assert (
        main(
            [
                "clients",
                "add",
                "--name",
                "Acme",
                "--domain",
                "acme.example",
                "--domain",
                "acme-corp.example",
                "--contact-email",
                "it@acme.example",
                "--slack-channel",
                "CACME1",
                "--alert-label",
                "client=acme",
                "--timezone",
                "Europe/London",
                "--hours",
                "Mon-Fri 08:00-18:00",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["clients", "list"]) == 0
    out = capsys.readouterr().out
    assert "Acme" in out and "acme-corp.example" in out and "client=acme" in out
    assert (
        main(["clients", "update", "--name", "Acme", "--contact-email", "boss@acme.example"]) == 0
    )
    capsys.readouterr()
    main(["clients", "list"])
    assert "boss@acme.example" in capsys.readouterr().out
    assert main(["clients", "remove", "--name", "Acme"]) == 0
    capsys.readouterr()
    main(["clients", "list"])
    assert "no clients yet" in capsys.readouterr().out


def test_clients_add_reports_every_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    code = main(
        [
            "clients",
            "add",
            "--name",
            "Bad",
            "--domain",
            "not a domain",
            "--contact-email",
            "nope",
            "--slack-channel",
            "general",
            "--alert-label",
            "novalue",
            "--timezone",
            "Mars/Base",
            "--hours",
            "always",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    for flag in (
        "--domain",
        "--contact-email",
        "--slack-channel",
        "--alert-label",
        "--timezone",
        "--hours",
    ):
        assert flag in err


def test_manifest_prints_urls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "https://bot.example.net"]) == 0
    assert "https://bot.example.net/slack/events" in capsys.readouterr().out


def test_outbox_list_and_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import OutboxRow

    url = f"sqlite:///{tmp_path / 'o.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as s:
        s.add(
            OutboxRow(
                stream="email:1:x@y.example",
                channel="email",
                kind="email",
                payload={"to": "x@y.example"},
                status="parked",
                attempts=12,
                next_attempt_at=now,
                created_at=now,
                last_error="SMTP 550",
            )
        )
        s.add(
            OutboxRow(
                stream="teams-dm:aad-1",
                channel="teams",
                kind="post",
                payload={"user": "aad-1", "text": "hi"},
                target="teams:aad-1",
                status="parked",
                attempts=1,
                next_attempt_at=now,
                created_at=now,
                last_error="Teams 403: the app is not installed for this user",
            )
        )
    assert main(["outbox", "list"]) == 0
    out = capsys.readouterr().out
    assert "x@y.example" in out and "SMTP 550" in out
    assert "teams/post\tteams:aad-1" in out and "not installed" in out
    assert main(["outbox", "retry", "--all"]) == 0
    assert "re-queued 2" in capsys.readouterr().out
    main(["outbox", "list", "--status", "pending"])
    assert "x@y.example" in capsys.readouterr().out


def test_python_dash_m_bot_is_the_same_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "manifest"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "/ticket" in done.stdout


def test_run_with_a_refused_token_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.sandbox.slack.emulator import SlackEmulator

    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-the-right-one") as emu:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-a-wrong-one",
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_API_URL": emu.api_url,
            "TICKETBOT_TECH_CHANNEL": "CTECH",
            "TICKETBOT_MANAGERS": "UMGR",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "Slack refused SLACK_BOT_TOKEN" in err and "invalid_auth" in err
    assert "xoxb-a-wrong-one" not in err and "Traceback" not in err


def _start_and_stop_watching_alerts(tmp_path: Path, **extra: str) -> tuple[str, str]:
    """Start and stop `ticketbot run` watching an alerts channel; (its log, the bot token)."""
    from bot.sandbox.process import BotProcess
    from bot.sandbox.slack.emulator import SlackEmulator

    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-start") as emu:
        emu.add_user("UMGR", "Maya Manager", email="maya@msp.example")
        emu.add_channel("CTECH", "technicians", members=["UMGR"])
        bot = BotProcess(
            {
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_SIGNING_SECRET": "s3cret",
                "SLACK_API_URL": emu.api_url,
                "TICKETBOT_TECH_CHANNEL": "CTECH",
                "TICKETBOT_ALERTS_CHANNEL": "CALERTS",
                "TICKETBOT_MANAGERS": "UMGR",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
                **extra,
            }
        )
        try:
            bot.start()
        finally:
            bot.stop()
    return bot.log_tail(200), emu.bot_token


ALERT_BOTS_WARNING = (
    "TICKETBOT_ALERTS_CHANNEL is set without TICKETBOT_ALERT_BOTS: any bot in that channel "
    "can raise critical tickets"
)


def test_run_warns_at_start_when_any_bot_in_the_alerts_channel_counts(tmp_path: Path) -> None:
    log, _ = _start_and_stop_watching_alerts(tmp_path)
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert any(ALERT_BOTS_WARNING in line for line in warnings), log


def test_run_with_log_format_json_writes_only_json_lines(tmp_path: Path) -> None:
    log, token = _start_and_stop_watching_alerts(tmp_path, LOG_FORMAT="json")
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert lines
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(
        line["level"] == "WARNING" and ALERT_BOTS_WARNING in str(line["message"]) for line in lines
    )
    assert token not in log


def test_run_refuses_secrets_in_clear_to_other_hosts_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": "http://slack.example/api/",
        "TICKETBOT_TECH_CHANNEL": "CTECH",
        "TICKETBOT_MANAGERS": "UMGR",
        "SMTP_URL": "smtp://helpdesk:mail-pass-123@mail.example:587",
        "EMAIL_FROM": "helpdesk@msp.example",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert main(["run"]) == 2

    err = capsys.readouterr().err
    assert "SLACK_API_URL must be an https:// URL" in err
    assert "SMTP_URL has a password but no TLS" in err
    assert "mail-pass-123" not in err


def test_business_hours_options_say_what_they_do(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["clients", "update", "--help"])

    out = " ".join(capsys.readouterr().out.split())
    assert "not used yet" not in out
    assert "SLA clocks of non-critical tickets run only then" in out
    assert "--holiday YYYY-MM-DD" in out and "--remove-holiday YYYY-MM-DD" in out


def test_clients_holidays_added_listed_and_removed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    add = ["clients", "add", "--name", "Acme", "--domain", "acme.example"]
    add += ["--contact-email", "it@acme.example", "--holiday", "2026-12-25"]
    assert main(add) == 0
    update = ["clients", "update", "--name", "Acme", "--timezone", "Europe/Berlin"]
    update += ["--hours", "Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00"]
    update += ["--holiday", "2026-12-24", "--holiday", "2026-12-25", "--holiday", "2027-01-01"]
    assert main(update) == 0
    capsys.readouterr()
    assert main(["clients", "list"]) == 0
    out = capsys.readouterr().out
    assert "holidays: 2026-12-24, 2026-12-25, 2027-01-01" in out
    assert "hours: Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00" in out
    remove = ["clients", "update", "--name", "Acme", "--remove-holiday", "2026-12-24"]
    assert main([*remove, "--remove-holiday", "2027-01-01"]) == 0
    capsys.readouterr()
    main(["clients", "list"])
    assert "holidays: 2026-12-25\n" in capsys.readouterr().out

    bad = ["clients", "update", "--name", "Acme", "--holiday", "25.12.2026"]
    bad += ["--hours", "Mon-Fri 08:00-12:00,11:00-17:00"]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert "--holiday '25.12.2026' is not a date like 2026-12-25" in err
    assert "--hours: opening hours overlap on Mon" in err


def _teams_env(connector: Any, tmp_path: Path, password: str) -> dict[str, str]:
    return {
        "TEAMS_APP_ID": connector.app_id,
        "TEAMS_APP_PASSWORD": password,
        "TEAMS_TENANT_ID": connector.tenant_id,
        "TEAMS_TECH_CHANNEL": "19:techs0001@thread.tacv2",
        "TEAMS_SERVICE_URL": connector.service_url,
        "TEAMS_OPENID_METADATA_URL": connector.openid_metadata_url,
        "TEAMS_LOGIN_URL": connector.login_url,
        "TICKETBOT_MANAGERS": "maya@msp.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        **connector.ca_environment(),
    }


def test_run_on_teams_only_with_refused_credentials_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.sandbox.teams.connector import BotConnector

    with BotConnector(
        "0d2a5c8e-1111-4222-8333-444455556666", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    ) as connector:
        for key, value in _teams_env(connector, tmp_path, "a-wrong-secret").items():
            monkeypatch.setenv(key, value)
        assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "Microsoft refused the Teams bot's credentials" in err
    assert "a-wrong-secret" not in err and "Traceback" not in err


def test_run_on_teams_only_serves_the_bot(tmp_path: Path) -> None:
    """An MSP on Teams only: no SLACK_* settings at all; `ticketbot run` answers Teams."""
    from bot.sandbox.process import BotProcess
    from bot.sandbox.teams.connector import BotConnector

    with BotConnector(
        "0d2a5c8e-1111-4222-8333-444455556666", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    ) as connector:
        erin = connector.add_user("Erin Employee", "erin@acme.example")
        bot = BotProcess(_teams_env(connector, tmp_path, connector.password))
        try:
            bot.start()
            status, _ = connector.post_activity(
                f"http://127.0.0.1:{bot.port}/api/messages",
                connector.activities.personal_message(erin, "help"),
            )
            assert status == 200
            assert "ticket list" in json.dumps(
                connector.wait_for(lambda: [p.cards for p in connector.chat_with(erin)], 15)
            )
        finally:
            bot.stop()
    assert "Teams bot on 127.0.0.1" in bot.log_tail()


def _slack_env(emu: Any, database_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": emu.api_url,
        "TICKETBOT_TECH_CHANNEL": "CTECH",
        "TICKETBOT_MANAGERS": "UMGR",
        "TICKETBOT_TECHNICIANS": "UTOM",
        "ALERT_WEBHOOK_TOKEN": "alert-token-1234567890",
        "DATABASE_URL": database_url,
    }


@pytest.mark.parametrize("role", ["web", "worker"])
def test_run_with_a_role_on_sqlite_exits_2(
    role: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.sandbox.slack.emulator import SlackEmulator

    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-roles") as emu:
        for key, value in _slack_env(emu, f"sqlite:///{tmp_path / 'r.db'}").items():
            monkeypatch.setenv(key, value)
        assert main(["run", "--role", role]) == 2
        assert emu.calls == []  # refused before anything was built
    err = capsys.readouterr().err
    assert f"--role {role} needs PostgreSQL" in err and "without --role" in err
    assert not (tmp_path / "r.db").exists()


def test_run_refuses_a_database_schema_older_than_the_code(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.sandbox.slack.emulator import SlackEmulator
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(pg_url)
    upgrade(engine, "0003")
    engine.dispose()
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-old") as emu:
        for key, value in _slack_env(emu, pg_url).items():
            monkeypatch.setenv(key, value)
        for role in ("all", "web", "worker"):
            assert main(["run", "--role", role]) == 2
            err = capsys.readouterr().err
            assert "the database schema (0003) is older than this version" in err, role
            assert "run `ticketbot db upgrade` once" in err
        assert emu.calls == []


def test_run_on_a_schema_a_newer_version_migrated_starts_with_a_warning(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """During a rollout the new version's `db upgrade` runs first; a process of the previous
    version that restarts then must still start (migrations stay compatible for one version)."""
    from sqlalchemy import text

    from bot.sandbox.slack.emulator import SlackEmulator
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-the-right-one") as emu:
        env = {**_slack_env(emu, pg_url), "SLACK_BOT_TOKEN": "xoxb-a-wrong-one"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # Past the schema check it builds the process: auth.test (refused here) shows it did.
        assert main(["run", "--role", "web"]) == 2
        assert [c.method for c in emu.calls] == ["auth.test"]
    assert "the database schema (9999) is newer than this version of ticketbot" in caplog.text


def _get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_a_web_and_a_worker_process_share_the_work_through_postgresql(pg_url: str) -> None:
    """The web process takes /ticket and writes the card's outbox row, sending nothing; the
    worker, which serves no Slack, Teams or alert endpoint, delivers it."""
    from sqlalchemy import create_engine, func, select

    from bot.sandbox.process import BotProcess
    from bot.sandbox.slack.emulator import SlackEmulator
    from storage.models import OutboxRow

    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-split") as emu:
        emu.add_user("UMGR", "Maya Manager", email="maya@msp.example")
        emu.add_user("UTOM", "Tom Tech", email="tom@msp.example")
        emu.add_user("UERIN", "Erin Employee", email="erin@acme.example")
        emu.add_channel("CTECH", "technicians", members=["UMGR", "UTOM"])
        emu.add_channel("CACME", "acme-help", members=["UERIN"])
        settings = _slack_env(emu, pg_url)
        web = BotProcess(settings, role="web")
        worker = BotProcess(settings, role="worker")
        engine = create_engine(pg_url)
        try:
            web.migrate()
            web.start()
            emu.bot_url = f"http://127.0.0.1:{web.port}/slack/events"
            assert emu.slash_command("UERIN", "CACME", "printer on floor 3 jammed").status == 200
            with engine.connect() as conn:
                pending = conn.scalar(select(func.count()).where(OutboxRow.status == "pending"))
            assert pending and not emu.calls_to("chat.postMessage")
            assert "ticketbot_outbox_rows" not in _get(web.port, "/metrics")[1]

            worker.start()
            card = emu.wait_for(lambda: emu.messages("CTECH"), 20, description="the card")
            assert "printer on floor 3 jammed" in emu.render(card[0])
            assert _get(worker.port, "/slack/events", "POST")[0] == 404
            assert _get(worker.port, "/alerts/alertmanager", "POST")[0] == 404
            assert _get(worker.port, "/api/messages", "POST")[0] == 404
            assert "ticketbot_outbox_rows" in _get(worker.port, "/metrics")[1]
        finally:
            worker.stop()
            web.stop()
            engine.dispose()
    assert "left to `ticketbot run --role worker`" in web.log_tail()
    assert "worker: delivering the outbox" in worker.log_tail()
    assert not web.error_lines() and not worker.error_lines()


def test_socket_mode_web_processes_each_hold_a_connection_and_a_worker_holds_none(
    pg_url: str,
) -> None:
    """Slack gives each envelope to one open connection: two web processes in Socket Mode each
    hold one (a worker none), and each /ticket makes one ticket, which the worker delivers."""
    from sqlalchemy import create_engine, func, select

    from bot.sandbox.process import BotProcess
    from bot.sandbox.slack.emulator import SlackEmulator
    from storage.models import Ticket

    app_token = "xapp-1-split-0001"
    with SlackEmulator(signing_secret="s3cret", bot_token="xoxb-sock", app_token=app_token) as emu:
        emu.add_user("UMGR", "Maya Manager", email="maya@msp.example")
        emu.add_user("UTOM", "Tom Tech", email="tom@msp.example")
        emu.add_user("UERIN", "Erin Employee", email="erin@acme.example")
        emu.add_channel("CTECH", "technicians", members=["UMGR", "UTOM"])
        emu.add_channel("CACME", "acme-help", members=["UERIN"])
        settings = {**_slack_env(emu, pg_url), "SLACK_APP_TOKEN": app_token}
        processes = [
            BotProcess(settings, role="worker"),
            BotProcess(settings, role="web"),
            BotProcess(settings, role="web"),
        ]
        engine = create_engine(pg_url)
        try:
            processes[0].migrate()
            processes[0].start()
            assert emu.socket_connections == 0 and not emu.calls_to("apps.connections.open")
            for web in processes[1:]:
                web.start()
            emu.wait_for(lambda: emu.socket_connections == 2, 20, description="2 connections")
            emu.delivery_mode = "socket"
            for n in range(6):
                assert emu.slash_command("UERIN", "CACME", f"printer {n} jammed").status != 0
            emu.wait_for(lambda: len(emu.messages("CTECH")) == 6, 30, description="6 cards")
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Ticket)) == 6
        finally:
            for process in reversed(processes):
                process.stop()
            engine.dispose()
    for process in processes:
        assert not process.error_lines(), process.log_tail()
    assert all("Slack Socket Mode connected" in p.log_tail() for p in processes[1:])


def test_a_teams_worker_starts_without_the_bot_on_api_messages(pg_url: str) -> None:
    from bot.sandbox.process import BotProcess
    from bot.sandbox.teams.connector import BotConnector

    with BotConnector(
        "0d2a5c8e-1111-4222-8333-444455556666", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    ) as connector:
        env = {**_teams_env(connector, Path("unused"), connector.password), "DATABASE_URL": pg_url}
        worker = BotProcess(env, role="worker")
        try:
            worker.migrate()
            worker.start()
            assert _get(worker.port, "/api/messages", "POST")[0] == 404
            assert _get(worker.port, "/healthz")[0] == 200
        finally:
            worker.stop()
    assert "Teams bot on" not in worker.log_tail()
    assert not worker.error_lines(), worker.log_tail()
