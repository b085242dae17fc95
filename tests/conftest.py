"""Shared fixtures: a clean environment; SQLite and (TEST_DATABASE_URL) PostgreSQL databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

SCRUBBED_PREFIXES = ("SLACK_", "TEAMS_", "SMTP_", "TICKETBOT_", "EMAIL_", "ALERT_")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Slack/SMTP settings or proxies leak in from the machine running the tests."""
    for key in list(os.environ):
        if key.startswith(SCRUBBED_PREFIXES) or key in PROXIES or key == "DATABASE_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _params() -> list[object]:
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    postgres_url() is None, reason="TEST_DATABASE_URL is not set (PostgreSQL)"
                ),
            ],
        ),
    ]


@pytest.fixture(params=_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite in a temp dir, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ticketbot.db'}"
        return
    url = postgres_url()
    assert url is not None
    reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ticketbot.db'}"


@pytest.fixture
def pg_url() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL)")
    reset_postgres(url)
    return url
