"""Tests for bot/config: defaults, parsing, all-at-once validation, secrets never shown."""

from __future__ import annotations

import io
import logging
import pickle
import re
from collections.abc import Iterator, Mapping
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import quote

import hypothesis
import pytest
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from bot.config.alerts import ChatAlertRules, FrozenMap
from bot.config.email import SmtpSettings
from bot.config.parsers import parse_duration
from bot.config.problems import ConfigError
from bot.config.secret import Secret
from bot.config.settings import KEYS, Settings
from bot.config.sla import SlaTarget
from bot.domain.business_hours import Span

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"

# The least a `ticketbot run` in HTTP mode needs.
REQUIRED = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-abcdefabcdef",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "TICKETBOT_TECH_CHANNEL": "C0TECH1234",
    "TICKETBOT_MANAGERS": "U0MANAGER1",
}


def problems_of(env: Mapping[str, str | None], *, require_slack: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env, require_slack=require_slack)
    return info.value.problems


def only_problem(env: Mapping[str, str | None], *, require_slack: bool = False) -> str:
    problems = problems_of(env, require_slack=require_slack)
    assert len(problems) == 1, problems
    return problems[0]


# --- defaults and parsing ---------------------------------------------------------------------


def test_defaults_when_nothing_is_set_and_slack_not_required() -> None:
    settings = Settings.from_mapping({}, require_slack=False)

    assert settings == Settings()
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.tech_channel is None
    assert settings.alerts_channel is None
    assert settings.managers == ()
    assert settings.technicians == ()
    assert settings.critical_mention == "here"
    assert settings.critical_mention_syntax == "<!here>"
    assert settings.database_url == "sqlite:///ticketbot.db"
    assert settings.smtp is None
    assert settings.email_from is None
    assert settings.alert_webhook_token is None
    assert settings.alert_dedup == "group"
    assert settings.alert_severity_map == {}
    assert settings.alert_storm_threshold == 10
    assert settings.alert_chat_rules == ChatAlertRules()
    assert settings.metrics_token is None
    assert settings.host == "127.0.0.1"
    assert settings.port == 3000
    assert settings.socket_mode is False
    assert settings.teams_on is False
    assert settings.teams_service_url == "https://smba.trafficmanager.net/teams/"
    assert settings.teams_login_url == "https://login.microsoftonline.com"


def test_minimal_http_mode_configuration_is_accepted() -> None:
    settings = Settings.from_mapping(REQUIRED)

    assert settings.slack_bot_token == Secret("xoxb-1111-2222-abcdefabcdef")
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.reveal() == "8f742231b10e8888abcd99yyyzzz85a5"
    assert settings.tech_channel == "C0TECH1234"
    assert settings.managers == ("U0MANAGER1",)
    assert settings.socket_mode is False


def test_every_key_is_parsed() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-2-bot",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_APP_TOKEN": "xapp-1-A1-2-app",
        "SLACK_API_URL": "http://127.0.0.1:8025/api",
        "TICKETBOT_TECH_CHANNEL": "C0TECH",
        "TICKETBOT_ALERTS_CHANNEL": "G0ALERTS",
        "TICKETBOT_MANAGERS": "U0BOSS, W0ENTERPRISE",
        "TICKETBOT_TECHNICIANS": "U0ALICE,U0BOB",
        "TICKETBOT_CRITICAL_MENTION": "S0ONCALL",
        "TEAMS_APP_ID": "0D2A5C8E-1111-4222-8333-444455556666",
        "TEAMS_APP_PASSWORD": "teams-secret",
        "TEAMS_TENANT_ID": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        "TEAMS_TECH_CHANNEL": "19:tech0123@thread.tacv2",
        "TEAMS_CRITICAL_MENTION": "team",
        "TEAMS_SERVICE_URL": "https://smba.infra.gcc.teams.microsoft.com/gcc",
        "TEAMS_OPENID_METADATA_URL": "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        "TEAMS_LOGIN_URL": "https://login.microsoftonline.us/",
        "DATABASE_URL": "postgresql+psycopg://bot:pw@db:5432/ticketbot",
        "SMTP_URL": "smtp://helpdesk%40msp.example:pa%3Ass@mail.msp.example:587?starttls=true",
        "EMAIL_FROM": "MSP Helpdesk <helpdesk@msp.example>",
        "ALERT_WEBHOOK_TOKEN": "alert-token",
        "TICKETBOT_ALERT_DEDUP": "fingerprint",
        "TICKETBOT_ALERT_SEVERITY_MAP": "warning=medium, disaster=critical",
        "TICKETBOT_ALERT_STORM_THRESHOLD": "25",
        "TICKETBOT_ALERT_FIRING_PATTERN": r"(?i)\bdown\b",
        "TICKETBOT_ALERT_RESOLVED_PATTERN": r"(?i)\bup\b",
        "TICKETBOT_ALERT_BOTS": "B0PROM0001, Grafana",
        "TICKETBOT_MEMBERS_REFRESH": "15m",
        "TICKETBOT_OUTBOX_LEASE": "45s",
        "TICKETBOT_REPING_AFTER": "90s",
        "TICKETBOT_REMIND_AFTER": "20m",
        "TICKETBOT_REMIND_AFTER_HIGH": "1h",
        "TICKETBOT_REMIND_AFTER_MEDIUM": "8h",
        "TICKETBOT_REMIND_AFTER_LOW": "0",
        "TICKETBOT_CONFIRM_REMIND_AFTER": "2d",
        "TICKETBOT_AUTO_CLOSE_AFTER": "0",
        "TICKETBOT_TIMEZONE": "Europe/Berlin",
        "TICKETBOT_BUSINESS_HOURS": "Mon-Fri 07:00-19:00",
        "TICKETBOT_SLA_CRITICAL": "10m/2h",
        "TICKETBOT_SLA_HIGH": "30m/6h",
        "TICKETBOT_SLA_MEDIUM": "2h/2d",
        "TICKETBOT_SLA_LOW": "2d/15d",
        "TICKETBOT_DIGEST_AT": "7:45",
        "TICKETBOT_MONTHLY_REPORT": "6:15",
        "METRICS_TOKEN": "metrics-token",
        "LOG_FORMAT": "JSON",
        "HOST": "0.0.0.0",
        "PORT": "8080",
    }
    assert set(env) == set(KEYS)

    settings = Settings.from_mapping(env)

    assert settings == Settings(
        slack_bot_token=Secret("xoxb-1-2-bot"),
        slack_signing_secret=Secret("signing-secret"),
        slack_app_token=Secret("xapp-1-A1-2-app"),
        slack_api_url="http://127.0.0.1:8025/api/",
        tech_channel="C0TECH",
        alerts_channel="G0ALERTS",
        managers=("U0BOSS", "W0ENTERPRISE"),
        technicians=("U0ALICE", "U0BOB"),
        critical_mention="S0ONCALL",
        teams_app_id="0d2a5c8e-1111-4222-8333-444455556666",
        teams_app_password=Secret("teams-secret"),
        teams_tenant_id="9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        teams_tech_channel="19:tech0123@thread.tacv2",
        teams_critical_mention="team",
        teams_service_url="https://smba.infra.gcc.teams.microsoft.com/gcc/",
        teams_openid_metadata_url="https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
        teams_login_url="https://login.microsoftonline.us",
        database_url="postgresql+psycopg://bot:pw@db:5432/ticketbot",
        smtp=SmtpSettings(
            host="mail.msp.example",
            port=587,
            username="helpdesk@msp.example",
            password=Secret("pa:ss"),
            starttls=True,
            ssl=False,
        ),
        email_from="MSP Helpdesk <helpdesk@msp.example>",
        alert_webhook_token=Secret("alert-token"),
        alert_dedup="fingerprint",
        alert_severity_map=FrozenMap({"warning": "medium", "disaster": "critical"}),
        alert_storm_threshold=25,
        alert_firing_pattern=re.compile(r"(?i)\bdown\b"),
        alert_resolved_pattern=re.compile(r"(?i)\bup\b"),
        alert_bots=frozenset({"B0PROM0001", "Grafana"}),
        members_refresh=timedelta(minutes=15),
        outbox_lease=timedelta(seconds=45),
        reping_after=timedelta(seconds=90),
        remind_after=timedelta(minutes=20),
        remind_after_high=timedelta(hours=1),
        remind_after_medium=timedelta(hours=8),
        remind_after_low=timedelta(0),
        confirm_remind_after=timedelta(days=2),
        auto_close_after=timedelta(0),
        timezone="Europe/Berlin",
        business_hours="Mon-Fri 07:00-19:00",
        sla_critical=SlaTarget(Span(timedelta(minutes=10)), Span(timedelta(hours=2))),
        sla_high=SlaTarget(Span(timedelta(minutes=30)), Span(timedelta(hours=6))),
        sla_medium=SlaTarget(Span(timedelta(hours=2)), Span(days=2)),
        sla_low=SlaTarget(Span(days=2), Span(days=15)),
        digest_at=time(7, 45),
        monthly_report_at=time(6, 15),
        metrics_token=Secret("metrics-token"),
        log_format="json",
        host="0.0.0.0",
        port=8080,
    )
    assert settings.socket_mode is True
    assert settings.critical_mention_syntax == "<!subteam^S0ONCALL>"


class _RecordingMapping(Mapping[str, str]):
    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_keys_lists_exactly_the_settings_keys_read() -> None:
    env = _RecordingMapping()
    with pytest.raises(ConfigError):
        Settings.from_mapping(env)

    # SLACK_CLIENT_ID/SECRET are only checked for absence (Bolt's OAuth fallback).
    assert env.asked - {"SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"} == set(KEYS)
    assert len(KEYS) == len(set(KEYS))


def test_empty_and_blank_values_count_as_unset() -> None:
    blank = {key: " \t " for key in KEYS} | {"DATABASE_URL": "", "PORT": ""}

    assert Settings.from_mapping(blank, require_slack=False) == Settings()


def test_values_are_stripped() -> None:
    env = REQUIRED | {"TICKETBOT_TECH_CHANNEL": "  C0TECH \n", "PORT": " 8080 ", "HOST": " ::1 "}

    settings = Settings.from_mapping(env)

    assert (settings.tech_channel, settings.port, settings.host) == ("C0TECH", 8080, "::1")


def test_none_values_from_dotenv_values_count_as_unset() -> None:
    # dotenv_values() gives None for a bare `KEY` line.
    assert Settings.from_mapping({"PORT": None}, require_slack=False).port == 3000


# --- all problems at once ---------------------------------------------------------------------


def test_run_without_slack_keys_lists_every_required_key() -> None:
    problems = problems_of({})

    assert problems == [
        "SLACK_BOT_TOKEN is required (a bot token starting with xoxb-, "
        "from OAuth & Permissions > Bot User OAuth Token); or, for Microsoft Teams only, set "
        "TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID instead",
        "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > Signing Secret); "
        "or set SLACK_APP_TOKEN to use Socket Mode",
        "TICKETBOT_TECH_CHANNEL is required (the technician channel's ID, C… or G…, "
        "from the channel's details in Slack)",
        "TICKETBOT_MANAGERS is required (comma-separated Slack user IDs (U… or W…), "
        "Teams object IDs or email addresses of the people allowed to assign tickets)",
    ]


def test_five_mistakes_are_reported_as_five_lines() -> None:
    env = REQUIRED | {
        "PORT": "abc",
        "TICKETBOT_ALERT_STORM_THRESHOLD": "ten",
        "TICKETBOT_CRITICAL_MENTION": "everyone",
        "TICKETBOT_TECH_CHANNEL": "#helpdesk",
        "SMTP_URL": "smtp://mail.msp.example:25",  # without EMAIL_FROM
    }

    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)

    lines = str(info.value).splitlines()
    assert lines == info.value.problems
    assert [line.split()[0] for line in lines] == [
        "TICKETBOT_TECH_CHANNEL",
        "TICKETBOT_CRITICAL_MENTION",
        "EMAIL_FROM",
        "TICKETBOT_ALERT_STORM_THRESHOLD",
        "PORT",
    ]
    assert "PORT must be a whole number from 1 to 65535, got 'abc'" in lines


def test_unsafe_transport_problems_are_reported_with_the_others() -> None:
    env = REQUIRED | {
        "SLACK_API_URL": "http://slack.example/api/",
        "SMTP_URL": "smtp://bot:hunter2secret@mail.example:587",
        "EMAIL_FROM": "helpdesk@msp.example",
        "PORT": "0",
    }

    problems = problems_of(env)

    assert [p.split()[0] for p in problems] == ["SLACK_API_URL", "SMTP_URL", "PORT"]
    assert "hunter2secret" not in "\n".join(problems)


def test_each_invalid_key_is_one_problem_not_also_missing() -> None:
    problems = problems_of(
        REQUIRED | {"TICKETBOT_MANAGERS": "alice", "EMAIL_FROM": "nobody", "SMTP_URL": "smtp://h"}
    )

    assert [p.split()[0] for p in problems] == ["TICKETBOT_MANAGERS", "EMAIL_FROM"]


def test_config_error_message_is_one_line_even_for_values_with_newlines() -> None:
    problem = only_problem({"EMAIL_FROM": "a@b.example\r\nBcc: everyone@b.example"})

    assert problem.startswith("EMAIL_FROM must be one email address")
    assert "\r" not in problem and "\n" not in problem
    assert "\\r\\n" in problem  # shown escaped, so the reader sees what is wrong


def test_config_error_survives_pickling() -> None:
    error = ConfigError(["A is wrong", "B is missing"])

    copy = pickle.loads(pickle.dumps(error))

    assert copy.problems == ["A is wrong", "B is missing"]
    assert str(copy) == "A is wrong\nB is missing"


# --- Slack --------------------------------------------------------------------------------------


def test_socket_mode_does_not_need_a_signing_secret() -> None:
    env = REQUIRED | {"SLACK_APP_TOKEN": "xapp-1-A1-2-3", "SLACK_SIGNING_SECRET": ""}

    settings = Settings.from_mapping(env)

    assert settings.socket_mode is True
    assert settings.slack_signing_secret is None


def test_http_mode_needs_a_nonblank_signing_secret() -> None:
    problems = problems_of(REQUIRED | {"SLACK_SIGNING_SECRET": "   "})

    assert [p.split()[0] for p in problems] == ["SLACK_SIGNING_SECRET"]


@pytest.mark.parametrize(
    ("token", "hint"),
    [
        ("xapp-1-A1-2-3", "app-level token, which belongs in SLACK_APP_TOKEN"),
        ("xoxp-1-2-3", "user token (xoxp-)"),
        ("abcdef123456", ""),
    ],
)
def test_bot_token_must_start_with_xoxb(token: str, hint: str) -> None:
    problem = only_problem({"SLACK_BOT_TOKEN": token})

    assert problem.startswith("SLACK_BOT_TOKEN must start with xoxb-")
    assert hint in problem
    assert token not in problem


def test_app_token_must_start_with_xapp() -> None:
    problem = only_problem({"SLACK_APP_TOKEN": "xoxb-1-2-3"})

    assert problem.startswith("SLACK_APP_TOKEN must start with xapp-")
    assert "belongs in SLACK_BOT_TOKEN" in problem
    assert "xoxb-1-2-3" not in problem


def test_slack_client_id_and_secret_are_rejected_for_run() -> None:
    env = REQUIRED | {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": ""}

    assert only_problem(env, require_slack=True).startswith(
        "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must not be set"
    )
    assert Settings.from_mapping(env, require_slack=False).tech_channel == "C0TECH1234"


def test_slack_keys_are_still_checked_when_not_required() -> None:
    problems = problems_of(
        {"SLACK_BOT_TOKEN": "nope", "TICKETBOT_TECH_CHANNEL": "tech"}, require_slack=False
    )

    assert [p.split()[0] for p in problems] == ["SLACK_BOT_TOKEN", "TICKETBOT_TECH_CHANNEL"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://slack.com/api/", "https://slack.com/api/"),
        ("http://127.0.0.1:8025/api", "http://127.0.0.1:8025/api/"),
        ("http://localhost:9", "http://localhost:9/"),
    ],
)
def test_slack_api_url_always_ends_with_a_slash(url: str, expected: str) -> None:
    settings = Settings.from_mapping({"SLACK_API_URL": url}, require_slack=False)

    assert settings.slack_api_url == expected


@pytest.mark.parametrize(
    "url", ["slack.com/api", "ftp://slack.com/api/", "https://", "http://[::1/api/", "http://@/"]
)
def test_slack_api_url_must_be_http(url: str) -> None:
    assert only_problem({"SLACK_API_URL": url}).startswith("SLACK_API_URL must be an http(s) URL")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8025/api/",
        "http://127.5.5.5/api/",
        "http://localhost:8025/api/",
        "HTTP://LocalHost/api/",
        "http://[::1]:8025/api/",
        "https://slack.example/api/",
    ],
)
def test_slack_api_url_over_http_is_allowed_to_this_machine(url: str) -> None:
    settings = Settings.from_mapping({"SLACK_API_URL": url}, require_slack=False)

    assert settings.slack_api_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://slack.com/api/",
        "http://10.0.0.5:8025/api/",
        "http://[::2]/api/",
        "http://127.0.0.1.nip.io/api/",
        "http://localhost.example/api/",
    ],
)
def test_slack_api_url_over_http_to_another_host_is_refused(url: str) -> None:
    problem = only_problem({"SLACK_API_URL": url})

    assert problem == (
        "SLACK_API_URL must be an https:// URL unless its host is this machine (127.0.0.1, "
        "another 127.x.x.x address, ::1 or localhost): over http:// the bot token would cross "
        "the network in clear"
    )


@pytest.mark.parametrize("channel", ["C0123ABCD", "G0PRIVATE", "C1"])
def test_channel_ids_accepted(channel: str) -> None:
    env = {"TICKETBOT_TECH_CHANNEL": channel, "TICKETBOT_ALERTS_CHANNEL": channel}

    settings = Settings.from_mapping(env, require_slack=False)

    assert settings.tech_channel == settings.alerts_channel == channel


@pytest.mark.parametrize(
    "channel", ["#helpdesk", "helpdesk", "c0123abcd", "D0123ABCD", "C", "C01-2"]
)
def test_channel_ids_rejected(channel: str) -> None:
    problem = only_problem({"TICKETBOT_ALERTS_CHANNEL": channel})

    assert problem == (
        "TICKETBOT_ALERTS_CHANNEL must be a Slack channel ID (C… or G…, capital letters and "
        f"digits, from the channel's details), not its name, got {channel!r}"
    )


def test_user_id_lists_are_split_trimmed_and_deduplicated() -> None:
    env = REQUIRED | {
        "TICKETBOT_MANAGERS": " U0BOSS , ,W0ENT,U0BOSS,",
        "TICKETBOT_TECHNICIANS": "U0BOB,U0ALICE",
    }

    settings = Settings.from_mapping(env)

    assert settings.managers == ("U0BOSS", "W0ENT")
    assert settings.technicians == ("U0BOB", "U0ALICE")  # order kept


def test_user_id_list_names_every_bad_entry_in_one_problem() -> None:
    problem = only_problem({"TICKETBOT_TECHNICIANS": "U0OK,@alice,u0lower,C0CHANNEL"})

    assert problem.startswith("TICKETBOT_TECHNICIANS must be comma-separated Slack user IDs")
    assert problem.endswith("got '@alice', 'u0lower', 'C0CHANNEL'")


def test_managers_of_only_commas_are_missing() -> None:
    problems = problems_of(REQUIRED | {"TICKETBOT_MANAGERS": " , ,"})

    assert [p.split()[0] for p in problems] == ["TICKETBOT_MANAGERS"]
    assert "is required" in problems[0]


@pytest.mark.parametrize(
    ("value", "mention", "syntax"),
    [
        ("here", "here", "<!here>"),
        ("channel", "channel", "<!channel>"),
        ("@here", "here", "<!here>"),
        ("Channel", "channel", "<!channel>"),
        ("S0123ONCALL", "S0123ONCALL", "<!subteam^S0123ONCALL>"),
    ],
)
def test_critical_mention(value: str, mention: str, syntax: str) -> None:
    env = {"TICKETBOT_CRITICAL_MENTION": value}

    settings = Settings.from_mapping(env, require_slack=False)

    assert (settings.critical_mention, settings.critical_mention_syntax) == (mention, syntax)


@pytest.mark.parametrize("value", ["everyone", "U0123", "s0123", "@oncall", "<!subteam^S0123>"])
def test_critical_mention_rejected(value: str) -> None:
    problem = only_problem({"TICKETBOT_CRITICAL_MENTION": value})

    assert problem == (
        "TICKETBOT_CRITICAL_MENTION must be here, channel, or a Slack user group ID (S…), "
        f"got {value!r}"
    )


# --- database, HTTP listener, durations -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///ticketbot.db",
        "sqlite://",
        "sqlite:////var/lib/ticketbot/ticketbot.db",
        "postgresql+psycopg://bot:secret@db.internal:5432/ticketbot",
        "mysql+pymysql://bot@db/ticketbot?charset=utf8mb4",
    ],
)
def test_database_url_accepted(url: str) -> None:
    assert Settings.from_mapping({"DATABASE_URL": url}, require_slack=False).database_url == url


@pytest.mark.parametrize(
    "url", ["helpdesk.sqlite", "/var/lib/helpdesk.sqlite", "sqlite:helpdesk.sqlite"]
)
def test_database_url_rejected_without_echo(url: str) -> None:
    problem = only_problem({"DATABASE_URL": url})

    assert problem.startswith("DATABASE_URL must be a SQLAlchemy URL such as sqlite:///")
    assert url not in problem


@pytest.mark.parametrize(("value", "port"), [("1", 1), ("3000", 3000), ("65535", 65535)])
def test_port_accepted(value: str, port: int) -> None:
    assert Settings.from_mapping({"PORT": value}, require_slack=False).port == port


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "+80", "8_080", "80.0", "٨٠"])
def test_port_rejected(value: str) -> None:
    problem = only_problem({"PORT": value})

    assert problem == f"PORT must be a whole number from 1 to 65535, got {value!r}"


def test_host_defaults_to_this_machine_only() -> None:
    assert Settings.from_mapping(REQUIRED).host == "127.0.0.1"
    assert Settings.from_mapping(REQUIRED | {"HOST": "0.0.0.0"}).host == "0.0.0.0"


def test_host_with_spaces_rejected() -> None:
    problem = only_problem({"HOST": "0.0.0.0 3000"})

    assert problem.startswith("HOST must be a host name or IP address without spaces")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        (" 15m ", timedelta(minutes=15)),
        ("0010s", timedelta(seconds=10)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a duration: ''"),
        ("5", "not a duration: '5'"),
        ("m", "not a duration: 'm'"),
        ("5 m", "not a duration: '5 m'"),
        ("1.5h", "not a duration: '1.5h'"),
        ("-5m", "not a duration: '-5m'"),
        ("5M", "not a duration: '5M'"),  # minutes or months? refuse to guess
        ("1w", "not a duration: '1w'"),
        ("1h30m", "not a duration: '1h30m'"),
        ("٥m", "not a duration: '٥m'"),
        ("0s", "not a positive duration: '0s'"),
        ("999999999999999d", "duration too large: '999999999999999d'"),
        ("9" * 40 + "s", "not a duration"),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)

    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


# --- email ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", SmtpSettings(host="mail.example", port=25)),
        ("smtp://mail.example:2525/", SmtpSettings(host="mail.example", port=2525)),
        ("smtps://mail.example", SmtpSettings(host="mail.example", port=465, ssl=True)),
        ("SMTPS://Mail.Example:10465", SmtpSettings(host="mail.example", port=10465, ssl=True)),
        (
            "smtp://mail.example:587?starttls=true",
            SmtpSettings(host="mail.example", port=587, starttls=True),
        ),
        ("smtp://mail.example:587?starttls=false", SmtpSettings(host="mail.example", port=587)),
        (
            "smtp://u%40msp.example:p%40%3A%2F%23%3F%25w@mail.example:587?starttls=1",
            SmtpSettings(
                host="mail.example",
                port=587,
                username="u@msp.example",
                password=Secret("p@:/#?%w"),
                starttls=True,
            ),
        ),
        (
            "smtps://bot:pw@[::1]",
            SmtpSettings(host="::1", port=465, username="bot", password=Secret("pw"), ssl=True),
        ),
    ],
)
def test_smtp_url_variants(url: str, expected: SmtpSettings) -> None:
    env = {"SMTP_URL": url, "EMAIL_FROM": "helpdesk@msp.example"}

    settings = Settings.from_mapping(env, require_slack=False)

    assert settings.smtp == expected
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problems"),
    [
        ("mail.example:25", ["must start with smtp:// or smtps://"]),
        ("http://mail.example", ["must start with smtp:// or smtps://"]),
        ("smtp://:25", ["has no host"]),
        ("smtp://mail.example:abc", ["has a port that is not a whole number"]),
        ("smtp://mail.example:0", ["has a port that is not a whole number"]),
        ("smtp://mail.example:70000", ["has a port that is not a whole number"]),
        ("smtps://mail.example?starttls=true", ["cannot combine smtps://"]),
        ("smtp://mail.example?starttls=maybe", ["has a starttls option"]),
        ("smtp://mail.example?tls=true", ["has an unknown option"]),
        ("smtp://bot@mail.example", ["must give both a user name and a password"]),
        (
            "smtp://:pw@mail.example",
            ["must give both a user name and a password", "has a password but no TLS"],
        ),
        # An unencoded "/" in the password moves the rest of the URL into the path.
        ("smtp://bot:12/34@mail.example", ["must not have a path or fragment"]),
        ("smtp://bot:pa#ss@mail.example", ["has a port", "must not have a path or fragment"]),
        ("smtp://[mail.example", ["must look like smtp://"]),
    ],
)
def test_smtp_url_problems_are_listed_without_the_url(url: str, problems: list[str]) -> None:
    found = problems_of({"SMTP_URL": url, "EMAIL_FROM": "a@b.example"}, require_slack=False)

    assert len(found) == len(problems), found
    for line, start in zip(found, problems, strict=True):
        assert line.startswith(f"SMTP_URL {start}")
    text = "\n".join(found)
    for part in ("12/34", "pa#ss", "pw@", "bot:"):
        assert part not in text
    with pytest.raises(ValueError):
        SmtpSettings.from_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "smtp://bot:pw@mail.example:587",
        "smtp://bot:pw@mail.example:587?starttls=false",
        "smtp://bot:pw@10.1.2.3",
        "smtp://bot:pw@[2001:db8::1]",
    ],
)
def test_smtp_password_without_tls_to_another_host_is_refused(url: str) -> None:
    problem = only_problem({"SMTP_URL": url, "EMAIL_FROM": "a@b.example"})

    assert problem == (
        "SMTP_URL has a password but no TLS, so the password would cross the network in clear: "
        "use smtps:// or ?starttls=true (plain smtp:// with a password only to 127.0.0.1, another "
        "127.x.x.x address, ::1 or localhost)"
    )
    with pytest.raises(ValueError, match="no TLS"):
        SmtpSettings.from_url(url)


@pytest.mark.parametrize(
    ("url", "ssl", "starttls"),
    [
        ("smtp://bot:pw@127.0.0.1:2525", False, False),
        ("smtp://bot:pw@127.5.5.5:2525", False, False),
        ("smtp://bot:pw@localhost", False, False),
        ("smtp://bot:pw@[::1]:2525", False, False),
        ("smtps://bot:pw@mail.example", True, False),
        ("smtp://bot:pw@mail.example:587?starttls=true", False, True),
        ("smtp://mail.example:25", False, False),  # no password, nothing to leak
    ],
)
def test_smtp_plain_password_only_to_this_machine(url: str, ssl: bool, starttls: bool) -> None:
    settings = Settings.from_mapping(
        {"SMTP_URL": url, "EMAIL_FROM": "a@b.example"}, require_slack=False
    )

    assert settings.smtp is not None
    assert (settings.smtp.ssl, settings.smtp.starttls) == (ssl, starttls)


def test_email_from_required_with_smtp() -> None:
    problem = only_problem({"SMTP_URL": "smtp://mail.example"})

    assert problem == (
        "EMAIL_FROM is required when SMTP_URL is set (the sender address, "
        "e.g. helpdesk@msp.example)"
    )


def test_email_from_still_required_when_smtp_url_is_invalid() -> None:
    problems = problems_of({"SMTP_URL": "smtp://mail.example:x"}, require_slack=False)

    assert [p.split()[0] for p in problems] == ["SMTP_URL", "EMAIL_FROM"]


@pytest.mark.parametrize(
    "address",
    [
        "helpdesk@msp.example",
        "ticketbot@localhost",
        "first.last+tickets@mail.msp-example.co.uk",
        "MSP Helpdesk <helpdesk@msp.example>",
        '"Helpdesk, MSP" <helpdesk@msp.example>',
        "Équipe support <support@msp.example>",
    ],
)
def test_email_from_accepted(address: str) -> None:
    settings = Settings.from_mapping({"EMAIL_FROM": address}, require_slack=False)

    assert settings.email_from == address
    assert settings.email_from_address is not None
    assert address.endswith((settings.email_from_address, settings.email_from_address + ">"))
    assert "<" not in settings.email_from_address and " " not in settings.email_from_address


def test_email_from_address_strips_the_display_name() -> None:
    assert Settings(email_from="MSP Helpdesk < helpdesk@msp.example >").email_from_address == (
        "helpdesk@msp.example"
    )
    assert Settings(email_from="helpdesk@msp.example").email_from_address == "helpdesk@msp.example"
    assert Settings().email_from_address is None


@pytest.mark.parametrize(
    "address",
    [
        "helpdesk",
        "helpdesk@",
        "@msp.example",
        "help desk@msp.example",
        "a@b@msp.example",
        "helpdesk@msp.example.",
        "helpdesk@msp.example, boss@msp.example",
        "Helpdesk <helpdesk@msp.example",
        "helpdesk@msp.example\nBcc: all@msp.example",
        "helpdesk@msp.example\rX-Injected: 1",
    ],
)
def test_email_from_rejected(address: str) -> None:
    problem = only_problem({"EMAIL_FROM": address})

    assert problem.startswith("EMAIL_FROM must be one email address")
    assert "\n" not in problem and "\r" not in problem


# --- alert webhooks ----------------------------------------------------------------------------


def test_metrics_token_is_read_as_a_secret() -> None:
    settings = Settings.from_mapping(REQUIRED | {"METRICS_TOKEN": "  scrape-me-0123456789  "})

    assert settings.metrics_token == Secret("scrape-me-0123456789")
    assert "scrape-me" not in repr(settings)


def test_metrics_token_with_control_characters_rejected() -> None:
    problem = only_problem({"METRICS_TOKEN": "scrape-me\r\nX-Injected: 1"})

    assert problem == "METRICS_TOKEN must not contain control characters"


def test_alert_webhook_token_with_control_characters_rejected() -> None:
    problem = only_problem({"ALERT_WEBHOOK_TOKEN": "tok\x00en"})

    assert problem == "ALERT_WEBHOOK_TOKEN must not contain control characters"


# --- alert settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "mode"), [("group", "group"), ("Fingerprint", "fingerprint")])
def test_alert_dedup_accepted(value: str, mode: str) -> None:
    settings = Settings.from_mapping({"TICKETBOT_ALERT_DEDUP": value}, require_slack=False)

    assert settings.alert_dedup == mode


def test_alert_dedup_rejected() -> None:
    problem = only_problem({"TICKETBOT_ALERT_DEDUP": "alertname"})

    assert problem == (
        "TICKETBOT_ALERT_DEDUP must be group (one ticket per Alertmanager group) or "
        "fingerprint (one per alert), got 'alertname'"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("warning=high,info=medium", {"warning": "high", "info": "medium"}),
        (" Disaster = CRITICAL , ,average=high,", {"disaster": "critical", "average": "high"}),
        ("p3=low", {"p3": "low"}),
    ],
)
def test_alert_severity_map_accepted(value: str, expected: dict[str, str]) -> None:
    env = {"TICKETBOT_ALERT_SEVERITY_MAP": value}

    severity_map = Settings.from_mapping(env, require_slack=False).alert_severity_map

    assert severity_map == expected
    assert dict(severity_map) == expected


@pytest.mark.parametrize(
    "value", ["warning", "warning=urgent", "=high", "warning=high,warning=low", ",", "a=b=c"]
)
def test_alert_severity_map_rejected(value: str) -> None:
    problem = only_problem({"TICKETBOT_ALERT_SEVERITY_MAP": value})

    assert problem.startswith(
        "TICKETBOT_ALERT_SEVERITY_MAP must be comma-separated severity=priority pairs"
    )
    assert problem.endswith(f"got {value!r}")


@pytest.mark.parametrize(("value", "threshold"), [("1", 1), ("10", 10), ("100000", 100_000)])
def test_alert_storm_threshold_accepted(value: str, threshold: int) -> None:
    env = {"TICKETBOT_ALERT_STORM_THRESHOLD": value}

    assert Settings.from_mapping(env, require_slack=False).alert_storm_threshold == threshold


@pytest.mark.parametrize("value", ["0", "-5", "ten", "2.5", "100001", "٣"])
def test_alert_storm_threshold_rejected(value: str) -> None:
    problem = only_problem({"TICKETBOT_ALERT_STORM_THRESHOLD": value})

    assert problem == (
        f"TICKETBOT_ALERT_STORM_THRESHOLD must be a whole number from 1 to 100000, got {value!r}"
    )


def test_alert_patterns_replace_the_classifier_defaults() -> None:
    env = {
        "TICKETBOT_ALERT_FIRING_PATTERN": r"\bSTATE=BAD\b",
        "TICKETBOT_ALERT_RESOLVED_PATTERN": r"(?i)all clear",
    }

    rules = Settings.from_mapping(env, require_slack=False).alert_chat_rules

    assert rules.firing == re.compile(r"\bSTATE=BAD\b")
    assert rules.resolved == re.compile(r"(?i)all clear")
    assert rules.bots == frozenset()
    assert rules.firing_colors == ChatAlertRules().firing_colors


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(FIRING", "missing ), unterminated subpattern at position 0"),
        ("a{99999999999999999999}", "the repetition number is too large"),
        ("(" * 2000 + ")" * 2000, "too deeply nested"),
    ],
)
def test_alert_pattern_that_does_not_compile_is_a_problem(pattern: str, reason: str) -> None:
    problem = only_problem({"TICKETBOT_ALERT_RESOLVED_PATTERN": pattern})

    assert problem.startswith(
        f"TICKETBOT_ALERT_RESOLVED_PATTERN must be a valid Python regular expression ({reason}), "
        "got '"
    )


@pytest.mark.parametrize("pattern", ["a*", "(?:)", "x|"])
def test_alert_pattern_matching_empty_text_is_a_problem(pattern: str) -> None:
    problem = only_problem({"TICKETBOT_ALERT_FIRING_PATTERN": pattern})

    assert problem == (
        "TICKETBOT_ALERT_FIRING_PATTERN must not match empty text (every bot message would "
        f"count), got {pattern!r}"
    )


def test_alert_bots_are_split_and_trimmed() -> None:
    env = {"TICKETBOT_ALERT_BOTS": " B0PROM0001 ,Grafana Alerts,, A0DDOG0001,Grafana Alerts"}

    rules = Settings.from_mapping(env, require_slack=False).alert_chat_rules

    assert rules.bots == frozenset({"B0PROM0001", "Grafana Alerts", "A0DDOG0001"})


@pytest.mark.parametrize("value", [" , ", "Zabbix,bad\x07name", "x" * 81])
def test_alert_bots_rejected(value: str) -> None:
    problems = problems_of({"TICKETBOT_ALERT_BOTS": value}, require_slack=False)

    if value.strip(" ,"):
        assert problems == [
            "TICKETBOT_ALERT_BOTS must be comma-separated bot IDs (B…), app IDs (A…), bot user "
            "IDs or bot user names, each on one line and at most 80 characters, got "
            + repr(value[:60] + ("…" if len(value) > 60 else ""))
        ]
    else:
        assert [p.split()[0] for p in problems] == ["TICKETBOT_ALERT_BOTS"]


def test_alert_settings_problems_are_reported_together() -> None:
    env = REQUIRED | {
        "TICKETBOT_ALERT_DEDUP": "labels",
        "TICKETBOT_ALERT_SEVERITY_MAP": "warning=urgent",
        "TICKETBOT_ALERT_STORM_THRESHOLD": "0",
        "TICKETBOT_ALERT_FIRING_PATTERN": "[",
        "TICKETBOT_ALERT_RESOLVED_PATTERN": ".*",
        "TICKETBOT_ALERT_BOTS": "a\tb",
    }

    assert [p.split()[0] for p in problems_of(env)] == [
        "TICKETBOT_ALERT_DEDUP",
        "TICKETBOT_ALERT_SEVERITY_MAP",
        "TICKETBOT_ALERT_STORM_THRESHOLD",
        "TICKETBOT_ALERT_FIRING_PATTERN",
        "TICKETBOT_ALERT_RESOLVED_PATTERN",
        "TICKETBOT_ALERT_BOTS",
    ]


def test_alerts_channel_without_alert_bots_warns_at_start() -> None:
    settings = Settings.from_mapping(REQUIRED | {"TICKETBOT_ALERTS_CHANNEL": "C0ALERTS"})

    assert settings.start_warnings() == [
        "TICKETBOT_ALERTS_CHANNEL is set without TICKETBOT_ALERT_BOTS: any bot in that channel can "
        "raise critical tickets; set TICKETBOT_ALERT_BOTS to your monitoring bots' IDs or names "
        "to accept only theirs"
    ]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TICKETBOT_ALERTS_CHANNEL": "C0ALERTS", "TICKETBOT_ALERT_BOTS": "Alertmanager"},
        {"TICKETBOT_ALERT_BOTS": "Alertmanager"},
    ],
)
def test_no_start_warning_without_an_open_alerts_channel(env: dict[str, str]) -> None:
    assert Settings.from_mapping(REQUIRED | env).start_warnings() == []


def test_settings_with_alert_settings_stay_hashable_and_frozen() -> None:
    env = {"TICKETBOT_ALERT_SEVERITY_MAP": "warning=low", "TICKETBOT_ALERT_BOTS": "Grafana"}
    settings = Settings.from_mapping(env, require_slack=False)

    assert hash(settings) == hash(Settings.from_mapping(env, require_slack=False))
    assert hash(Settings()) == hash(Settings.from_mapping({}, require_slack=False))
    with pytest.raises(TypeError):
        settings.alert_severity_map["info"] = "low"  # type: ignore[index]


# --- secrets ------------------------------------------------------------------------------------


def test_secret_is_masked_everywhere_but_reveal(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("hunter2-but-longer")

    logging.getLogger("test").warning("token %s / %r", secret, secret)

    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"
    assert f"{secret}" == "Secret('********')"
    assert caplog.messages == ["token Secret('********') / Secret('********')"]
    assert "hunter2" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "hunter2-but-longer"


def test_secret_equality_is_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2
    assert Secret("\udcff") == Secret("\udcff")  # os.environ's surrogate escapes


def test_settings_repr_redacts_credentials_in_urls() -> None:
    env = REQUIRED | {
        "DATABASE_URL": "postgresql+psycopg://bot:dbpass@db.internal:5432/ticketbot?sslmode=require",
    }

    text = repr(Settings.from_mapping(env))

    assert "database_url='postgresql+psycopg://***@db.internal:5432/ticketbot?***'" in text
    for secret in ("dbpass", *REQUIRED.values()):
        if secret.startswith(("C0", "U0")):
            continue
        assert secret not in text


# Building settings takes a millisecond or two (twice when a key is refused): on a busy machine
# an example can outlast Hypothesis' default deadline.
NO_DEADLINE = hypothesis.settings(deadline=None)

# The key emoji keeps a secret from matching the fixed wording of a message by chance (Hypothesis
# also tries string constants found in the code under test, such as "SLACK_APP_TO").
_SECRET_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Z")),
    min_size=8,
    max_size=40,
).map(lambda text: "\N{KEY}" + text)


@NO_DEADLINE
@given(secrets=st.lists(_SECRET_TEXT, min_size=7, max_size=7, unique=True))
def test_secrets_never_appear_in_settings_repr(secrets: list[str]) -> None:
    bot, signing, app, alert, smtp_pw, db_pw, metrics = secrets
    env = REQUIRED | {
        "SLACK_BOT_TOKEN": "xoxb-" + bot,
        "SLACK_SIGNING_SECRET": signing,
        "SLACK_APP_TOKEN": "xapp-" + app,
        "ALERT_WEBHOOK_TOKEN": alert,
        "METRICS_TOKEN": metrics,
        "SMTP_URL": f"smtps://helpdesk:{quote(smtp_pw, safe='')}@mail.example",
        "EMAIL_FROM": "helpdesk@msp.example",
        "DATABASE_URL": f"postgresql+psycopg://bot:{quote(db_pw, safe='')}@db/ticketbot",
    }

    settings = Settings.from_mapping(env)

    assert settings.smtp is not None and settings.smtp.password == Secret(smtp_pw)
    assert settings.metrics_token == Secret(metrics)
    text = repr(settings) + str(settings) + repr(settings.smtp)
    for secret in (bot, signing, app, alert, smtp_pw, db_pw, metrics):
        assert secret not in text
        assert quote(secret, safe="") not in text


@NO_DEADLINE
@given(secrets=st.lists(_SECRET_TEXT, min_size=7, max_size=7, unique=True))
def test_secrets_never_appear_in_config_errors(secrets: list[str]) -> None:
    bot, signing, app, smtp_pw, db, alert, metrics = secrets
    env = {
        "SLACK_BOT_TOKEN": "z" + bot,  # never starts with xoxb-
        "SLACK_SIGNING_SECRET": signing,
        "SLACK_APP_TOKEN": "z" + app,  # never starts with xapp-
        "SMTP_URL": f"smtp://bot:{smtp_pw}@mail.example:notaport",  # raw, unencoded
        "DATABASE_URL": db,  # invalid unless it has a "://" (see below)
        "ALERT_WEBHOOK_TOKEN": alert + "\x07",
        "METRICS_TOKEN": metrics + "\x07",
        "TICKETBOT_TECH_CHANNEL": "#helpdesk",
        "PORT": "http",
    }
    if "://" in db:
        env["DATABASE_URL"] = "://" + db  # still no scheme, still invalid

    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)

    text = str(info.value) + repr(info.value)
    assert "METRICS_TOKEN must not contain control characters" in info.value.problems
    for secret in (bot, signing, app, smtp_pw, db, alert, metrics):
        assert secret not in text
    assert len(str(info.value).splitlines()) == len(info.value.problems)


@NO_DEADLINE
@given(
    env=st.dictionaries(
        st.sampled_from(KEYS),
        st.text(st.characters(exclude_categories=())) | st.sampled_from(["", " ", "0", "://"]),
    ),
    require_slack=st.booleans(),
)
def test_any_values_give_settings_or_one_line_problems(
    env: dict[str, str], require_slack: bool
) -> None:
    try:
        Settings.from_mapping(env, require_slack=require_slack)
    except ConfigError as error:
        assert error.problems
        assert str(error).splitlines() == error.problems


# --- .env.example -----------------------------------------------------------------------------

_EXAMPLE_LINE = re.compile(r"^(?P<commented>#\s*)?(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def _example_assignments() -> list[tuple[str, str, bool]]:
    """(key, value, commented out) for every `KEY=value` or `# KEY=value` line."""
    found = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _EXAMPLE_LINE.match(line)
        if match:
            parsed = dotenv_values(stream=io.StringIO(f"{match['key']}={match['value']}"))
            found.append((match["key"], parsed[match["key"]] or "", bool(match["commented"])))
    return found


def _key_of(line: str) -> str | None:
    match = _EXAMPLE_LINE.match(line)
    return match["key"] if match else None


def test_env_example_mentions_every_key() -> None:
    keys = {key for key, _, _ in _example_assignments()}

    assert keys == set(KEYS)


def test_env_example_documents_each_key_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for key in KEYS:
        first = next(i for i, line in enumerate(lines) if _key_of(line) == key)
        comment = []
        for line in reversed(lines[:first]):
            if not line.startswith("# ") or _key_of(line):
                break
            comment.append(line)
        assert comment, f"{key} has no comment above it"
        assert "Default:" in " ".join(comment), f"{key}'s comment does not give its default"


def test_env_example_as_is_gives_the_defaults() -> None:
    values = dotenv_values(ENV_EXAMPLE)

    assert Settings.from_mapping(values, require_slack=False) == Settings()
    assert {p.split()[0] for p in problems_of(values)} == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "TICKETBOT_TECH_CHANNEL",
        "TICKETBOT_MANAGERS",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [(key, value) for key, value, commented in _example_assignments() if commented],
)
def test_env_example_sample_values_are_valid(key: str, value: str) -> None:
    env = REQUIRED | {"EMAIL_FROM": "helpdesk@msp.example", key: value}
    if key.startswith("TEAMS_"):  # the Teams keys only count with the bot's registration
        env = TEAMS_ONLY | env

    Settings.from_mapping(env)


TEAMS_ONLY = {
    "TEAMS_APP_ID": "0d2a5c8e-1111-4222-8333-444455556666",
    "TEAMS_APP_PASSWORD": "teams-secret",
    "TEAMS_TENANT_ID": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    "TEAMS_TECH_CHANNEL": "19:tech0123@thread.tacv2",
    "TICKETBOT_MANAGERS": "Boss@MSP.example, 7C1E0F2A-0000-4000-8000-00000000000A",
}


def test_an_msp_on_teams_only_needs_no_slack_settings() -> None:
    settings = Settings.from_mapping(TEAMS_ONLY)

    assert settings.teams_on and not settings.slack_on
    assert settings.managers == ("boss@msp.example", "7c1e0f2a-0000-4000-8000-00000000000a")


def test_run_needs_slack_or_teams() -> None:
    problems = problems_of({"TICKETBOT_MANAGERS": "U0BOSS"})

    assert any("for Microsoft Teams only, set TEAMS_APP_ID" in p for p in problems)


def test_teams_registration_is_all_three_keys_or_none() -> None:
    env = {k: v for k, v in TEAMS_ONLY.items() if k != "TEAMS_TENANT_ID"}

    problems = problems_of(env)

    assert any(p.startswith("TEAMS_TENANT_ID must be set too") for p in problems)
    assert not any("teams-secret" in p for p in problems)


def test_teams_only_needs_its_technician_channel() -> None:
    env = {k: v for k, v in TEAMS_ONLY.items() if k != "TEAMS_TECH_CHANNEL"}

    assert only_problem(env, require_slack=True).startswith("TEAMS_TECH_CHANNEL is required")


def test_slack_and_teams_together_need_the_slack_channel_only() -> None:
    env = {**REQUIRED, **{k: v for k, v in TEAMS_ONLY.items() if k != "TEAMS_TECH_CHANNEL"}}

    settings = Settings.from_mapping(env)

    assert settings.slack_on and settings.teams_on and settings.teams_tech_channel is None


@pytest.mark.parametrize(
    ("key", "value", "start"),
    [
        ("TEAMS_APP_ID", "my-bot", "TEAMS_APP_ID must be the bot's Microsoft App ID"),
        ("TEAMS_TECH_CHANNEL", "General", "TEAMS_TECH_CHANNEL must be a Teams channel's"),
        ("TEAMS_LOGIN_URL", "http://login.example", "TEAMS_LOGIN_URL must be an https:// URL"),
        ("TEAMS_CRITICAL_MENTION", "two words", "TEAMS_CRITICAL_MENTION must be channel, team"),
    ],
)
def test_bad_teams_values_are_named(key: str, value: str, start: str) -> None:
    env = {**TEAMS_ONLY, key: value}

    assert any(p.startswith(start) for p in problems_of(env))


# --- SLAs, business hours, digest -------------------------------------------------------------


def test_sla_and_business_hours_defaults() -> None:
    settings = Settings.from_mapping({}, require_slack=False)
    assert settings.timezone == "UTC"
    assert settings.business_hours == "Mon-Fri 08:00-18:00"
    assert settings.digest_at == time(8, 30)
    assert [f"{p} {settings.sla_target(p)}" for p in ("critical", "high", "medium", "low")] == [
        "critical 15m/4h",
        "high 1h/8h",
        "medium 4h/3d",
        "low 1d/10d",
    ]


def test_digest_off() -> None:
    assert (
        Settings.from_mapping({"TICKETBOT_DIGEST_AT": "OFF"}, require_slack=False).digest_at is None
    )


def test_bad_sla_business_hours_and_digest_settings_are_all_reported() -> None:
    env = {
        "TICKETBOT_TIMEZONE": "Europe/Atlantis",
        "TICKETBOT_BUSINESS_HOURS": "weekdays 9 to 5",
        "TICKETBOT_SLA_HIGH": "1h",
        "TICKETBOT_SLA_LOW": "0d/10d",
        "TICKETBOT_DIGEST_AT": "25:00",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_mapping(env, require_slack=False)
    assert caught.value.problems == [
        "TICKETBOT_TIMEZONE must be a time zone such as Europe/Berlin, got 'Europe/Atlantis'",
        'TICKETBOT_BUSINESS_HOURS must be opening hours like "Mon-Fri 08:00-18:00" or '
        "\"Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00\", got 'weekdays 9 to 5'",
        "TICKETBOT_SLA_HIGH must be first response/resolution, each a duration such as 15m, 4h "
        "(business time) or 3d (business days), like 1h/8h, got '1h'",
        "TICKETBOT_SLA_LOW must be first response/resolution, each a duration such as 15m, 4h "
        "(business time) or 3d (business days), like 1h/8h, got '0d/10d'",
        "TICKETBOT_DIGEST_AT must be a local time such as 08:30 (in TICKETBOT_TIMEZONE), or off, "
        "got '25:00'",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("on", time(7, 0)), ("ON", time(7, 0)), ("06:30", time(6, 30)), ("off", None)],
)
def test_monthly_report_is_on_at_0700_a_local_time_or_off(value: str, expected: time) -> None:
    settings = Settings.from_mapping({"TICKETBOT_MONTHLY_REPORT": value}, require_slack=False)
    assert settings.monthly_report_at == expected


def test_monthly_report_is_off_by_default_and_a_bad_value_says_what_is_accepted() -> None:
    assert Settings.from_mapping({}, require_slack=False).monthly_report_at is None
    with pytest.raises(ConfigError) as e:
        Settings.from_mapping({"TICKETBOT_MONTHLY_REPORT": "monthly"}, require_slack=False)
    assert "TICKETBOT_MONTHLY_REPORT must be on (the 1st of the month at 07:00" in str(e.value)
