"""Tests for bot/config/settings.py as a pydantic-settings model: what it reads, how it is built in
code, and the order of its problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config.problems import ConfigError
from bot.config.secret import Secret
from bot.config.settings import KEYS, Settings


def test_settings_built_in_code_read_no_environment_dotenv_or_secret_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("port", "9999")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    (tmp_path / ".env").write_text("HOST=0.0.0.0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings == Settings.from_mapping({}, require_slack=False)
    assert (settings.port, settings.host, settings.slack_bot_token) == (3000, "127.0.0.1", None)


def test_keys_are_read_exactly_as_spelled_and_never_as_json() -> None:
    env = {"port": "8080", "Port": "8080", "HOST ": "0.0.0.0", "TICKETBOT_UNKNOWN": "x"}

    assert Settings.from_mapping(env, require_slack=False) == Settings()
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping({"TICKETBOT_MANAGERS": '["U0BOSS"]'}, require_slack=False)
    assert info.value.problems == [
        "TICKETBOT_MANAGERS must be comma-separated Slack user IDs (U… or W…, capital letters and "
        "digits, from a profile's ⋮ > Copy member ID), Teams object IDs (GUIDs) or email "
        "addresses, got '[\"U0BOSS\"]'"
    ]


def test_settings_do_not_remember_which_keys_were_given() -> None:
    given = Settings.from_mapping({"PORT": "3000", "LOG_FORMAT": "text"}, require_slack=False)

    assert given == Settings()
    assert hash(given) == hash(Settings())


def test_text_given_in_code_is_read_like_the_keys() -> None:
    assert Settings(port="8080", log_format="JSON") == Settings(port=8080, log_format="json")
    assert Settings(slack_bot_token="xoxb-1-2").slack_bot_token == Secret("xoxb-1-2")
    with pytest.raises(ValidationError, match=r"must be a whole number from 1 to 65535, got 'abc'"):
        Settings(port="abc")


def test_a_bad_secret_given_in_code_is_never_echoed() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(slack_bot_token="hunter2-secret", metrics_token="scrape\nme")

    text = str(info.value) + repr(info.value)
    assert "must start with xoxb-" in text and "must not contain control characters" in text
    assert "hunter2" not in text and "scrape" not in text


def test_an_unknown_name_in_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="tech_chanel"):
        Settings(tech_chanel="C0TECH")


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 8080


def test_every_key_is_read_into_its_own_field() -> None:
    aliases = tuple(field.validation_alias for field in Settings.model_fields.values())

    assert aliases == KEYS
    assert len(set(KEYS)) == len(KEYS)


def test_problems_are_listed_in_the_order_of_the_keys() -> None:
    env = {
        "PORT": "0",
        "TEAMS_APP_ID": "my-bot",
        "TEAMS_APP_PASSWORD": "teams-secret",
        "SLACK_API_URL": "slack.com/api",
        "TICKETBOT_SLA_HIGH": "1h",
    }

    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env, require_slack=False)

    assert [p.split()[0] for p in info.value.problems] == [
        "SLACK_API_URL",
        "TICKETBOT_SLA_HIGH",
        "TEAMS_APP_ID",
        "TEAMS_TENANT_ID",  # "… must be set too": after the registration's own keys
        "PORT",
    ]
