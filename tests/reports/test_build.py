"""Report figures against the hand-computed month (tests/reports/month_fixture.py), on SQLite
and PostgreSQL: business hours, a reopened ticket, monitoring tickets, onsite visits, a critical
ticket around the clock, the month's bounds in the MSP's timezone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.config.settings import Settings
from bot.reports.build import ReportError, build_report
from bot.reports.figures import Report, Section
from bot.reports.month import Month
from bot.service.sla import SlaPolicy
from tests.reports.month_fixture import (
    ACME,
    EXPECTED_COUNTS,
    EXPECTED_RATES,
    EXPECTED_TIMES,
    GLOBEX,
    MONTH,
    TZ,
    write_month,
)

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SLA = SlaPolicy.of(Settings(timezone=TZ))


@pytest.fixture
def month_db(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as s:
        write_month(s)
    return sessions


def _report(sessions: sessionmaker[Session], client: str | None = None) -> Report:
    with sessions() as s:
        return build_report(s, Month.parse(MONTH), SLA, now=NOW, client=client)


def _check(section: Section, name: str) -> None:
    f = section.figures
    opened, cancelled, priorities, sources = EXPECTED_COUNTS[name]
    assert (f.opened, f.cancelled) == (opened, cancelled), name
    assert tuple(n for _, n in f.by_priority) == priorities, name
    assert tuple(n for _, n in f.by_source) == sources, name
    times = tuple((d.count, d.mean, d.p90) for d in (f.acknowledge, f.assign, f.resolve))
    assert times == EXPECTED_TIMES[name], name
    rates = tuple((r.hits, r.total) for r in (f.response_sla, f.resolve_sla, f.reopen))
    assert (*rates, f.onsite_visits) == EXPECTED_RATES[name], name


def test_every_client_the_tickets_of_no_client_and_the_overall_match_the_hand_count(
    month_db: sessionmaker[Session],
) -> None:
    report = _report(month_db)
    assert [s.name for s in report.sections] == [ACME, GLOBEX, "No client"]
    for section in report.sections:
        _check(section, section.name)
    assert report.overall is not None
    _check(report.overall, "Overall")
    assert report.month == MONTH and report.timezone == TZ
    assert report.sections[0].hours == f"Mon-Fri 09:00-17:00 ({TZ})"
    assert report.sections[1].hours is None


def test_one_client_alone_has_no_overall_and_a_name_is_found_ignoring_case(
    month_db: sessionmaker[Session],
) -> None:
    report = _report(month_db, client="globex")
    assert report.overall is None
    [section] = report.sections
    _check(section, GLOBEX)


def test_an_unknown_client_is_a_report_error_naming_it(month_db: sessionmaker[Session]) -> None:
    with pytest.raises(ReportError, match="no client named 'Initech'"):
        _report(month_db, client="Initech")


def test_a_month_without_tickets_has_zero_counts_and_no_times(
    month_db: sessionmaker[Session],
) -> None:
    with month_db() as s:
        report = build_report(s, Month.parse("2027-02"), SLA, now=NOW)
    assert report.overall is not None
    f = report.overall.figures
    assert f.opened == 0 and f.acknowledge.mean is None and f.reopen.share is None
    assert [s.name for s in report.sections] == [ACME, GLOBEX]  # no "No client" section


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "november", "2026-00", ""])
def test_a_month_not_like_yyyy_mm_is_refused_in_plain_words(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month like 2026-11"):
        Month.parse(text)


def test_month_bounds_are_local_midnights_across_the_year_end() -> None:
    berlin = SLA.default.tz
    assert Month.parse("2026-12").bounds(berlin) == (
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
    )
    assert Month.parse("2026-01").previous() == Month(2025, 12)
