"""The hand-computed month's report, built once per module on SQLite, for the renderer tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.config.settings import Settings
from bot.reports.build import build_report
from bot.reports.figures import Report
from bot.reports.month import Month
from bot.service.sla import SlaPolicy
from storage.engine import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.reports.month_fixture import MONTH, TZ, write_month

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def month_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'ticketbot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine).begin() as s:
        write_month(s)
    engine.dispose()
    yield url


@pytest.fixture(scope="module")
def report(month_url: str) -> Report:
    engine = make_engine(month_url)
    try:
        with make_session_factory(engine)() as s:
            sla = SlaPolicy.of(Settings(timezone=TZ))
            return build_report(s, Month.parse(MONTH), sla, now=NOW)
    finally:
        engine.dispose()
