"""Business calendars: parsing, the edges (Friday evening, DST, holidays) and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.business_hours import ALWAYS, Calendar, Span, calendar, parse_hours, parse_span

BERLIN = calendar("Europe/Berlin", "Mon-Fri 08:00-18:00", [date(2026, 12, 25)])
SPLIT = calendar("Europe/Berlin", "Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN.tz).astimezone(UTC)  # type: ignore[misc]


# --- parsing --------------------------------------------------------------------------------------


def test_parse_hours_one_range_for_weekdays() -> None:
    weekly = parse_hours("Mon-Fri 08:00-18:00")
    assert weekly[:5] == (((time(8), time(18)),),) * 5
    assert weekly[5:] == ((), ())


def test_parse_hours_several_ranges_and_clauses() -> None:
    weekly = parse_hours("Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00")
    assert weekly[0] == ((time(8), time(12)), (time(13), time(17)))
    assert weekly[5] == ((time(9), time(12)),)
    assert weekly[6] == ()


def test_parse_hours_wrapping_days_and_midnight() -> None:
    weekly = parse_hours("Sat-Mon 00:00-24:00")
    assert weekly[5] == weekly[6] == weekly[0] == ((time(0), None),)
    assert weekly[1] == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no opening hours"),
        ("Mon-Fri", "is not like"),
        ("Mon-Fry 08:00-18:00", "is not a day"),
        ("Mon-Fri 8:00-18:00", "is not a time range"),
        ("Mon-Fri 18:00-08:00", "ends before it starts"),
        ("Mon-Fri 08:00-12:00,11:00-17:00", "overlap on Mon"),
        ("Mon-Fri 08:00-18:00; Fri 17:00-19:00", "overlap on Fri"),
        ("Mon 24:00-24:00", "is not a time range"),
    ],
)
def test_parse_hours_refuses_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_hours(text)


def test_parse_span() -> None:
    assert parse_span("15m") == Span(business=timedelta(minutes=15))
    assert parse_span("4h") == Span(business=timedelta(hours=4))
    assert parse_span("90s") == Span(business=timedelta(seconds=90))
    assert parse_span("3d") == Span(days=3)
    assert [str(parse_span(x)) for x in ("15m", "4h", "90s", "3d", "120m")] == [
        "15m",
        "4h",
        "90s",
        "3d",
        "2h",
    ]
    for bad in ("0h", "4", "h", "-1h", "1w", "1.5h"):
        with pytest.raises(ValueError):
            parse_span(bad)


def test_calendar_refuses_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="not a time zone"):
        calendar("Mars/Olympus", "Mon-Fri 08:00-18:00")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        BERLIN.is_open(datetime(2026, 12, 3, 9, 0))


# --- the edges ------------------------------------------------------------------------------------


def test_friday_1759_plus_two_minutes_is_monday_0801() -> None:
    friday = berlin(2026, 12, 4, 17, 59)
    assert BERLIN.add(friday, timedelta(minutes=2)) == berlin(2026, 12, 7, 8, 1)


def test_a_result_on_the_closing_time_stays_there() -> None:
    assert BERLIN.add(berlin(2026, 12, 4, 17, 0), timedelta(hours=1)) == berlin(2026, 12, 4, 18)


def test_nothing_added_to_a_closing_time_leaves_it_there() -> None:
    # So that adding in two steps lands where adding at once does (found by test_add_composes).
    closing = BERLIN.add(berlin(2026, 12, 4, 17, 0), timedelta(hours=1))
    assert BERLIN.add(closing, timedelta(0)) == closing
    assert BERLIN.add(closing, timedelta(minutes=1)) == berlin(2026, 12, 7, 8, 1)


def test_open_and_next_open() -> None:
    assert BERLIN.is_open(berlin(2026, 12, 4, 8, 0))
    assert not BERLIN.is_open(berlin(2026, 12, 4, 18, 0))
    assert not BERLIN.is_open(berlin(2026, 12, 5, 10, 0))
    assert BERLIN.next_open(berlin(2026, 12, 4, 12, 0)) == berlin(2026, 12, 4, 12, 0)
    assert BERLIN.next_open(berlin(2026, 12, 4, 18, 0)) == berlin(2026, 12, 7, 8, 0)
    assert BERLIN.next_open(berlin(2026, 12, 7, 6, 0)) == berlin(2026, 12, 7, 8, 0)


def test_a_holiday_is_skipped() -> None:
    # Thursday 24 December 17:00 + 2 h: Friday 25th is a holiday, so Monday 28th 09:00.
    assert BERLIN.add(berlin(2026, 12, 24, 17, 0), timedelta(hours=2)) == berlin(2026, 12, 28, 9)
    assert not BERLIN.is_open(berlin(2026, 12, 25, 10, 0))
    assert BERLIN.add_days(berlin(2026, 12, 24, 10, 0), 1) == berlin(2026, 12, 28, 10, 0)


def test_spring_forward_day_keeps_local_hours() -> None:
    # Europe/Berlin jumps from 02:00 to 03:00 on Sunday 29 March 2026; hours 00:00-24:00 daily.
    daily = calendar("Europe/Berlin", "Mon-Sun 00:00-24:00")
    saturday_noon = berlin(2026, 3, 28, 12, 0)
    # 24 business hours from Saturday noon: the Sunday has only 23, so Sunday 13:00 local.
    assert daily.add(saturday_noon, timedelta(hours=24)) == berlin(2026, 3, 29, 13, 0)
    assert daily.elapsed(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == timedelta(
        hours=23
    )
    # One business day later keeps the business-time offset into the day (12 h after opening):
    # 13:00 local on the short Sunday, 24 real hours later.
    assert daily.add_days(saturday_noon, 1) == berlin(2026, 3, 29, 13, 0)
    # Office hours lie after the change: the same local time, 23 real hours later.
    friday = berlin(2026, 3, 27, 10, 0)
    assert BERLIN.add_days(friday, 1) == berlin(2026, 3, 30, 10, 0)
    assert BERLIN.add_days(friday, 1) - friday == timedelta(days=3, hours=-1)


def test_fall_back_day_and_office_hours() -> None:
    # Sunday 25 October 2026 the clocks go back; Friday 17:00 + 2 business hours is Monday 09:00
    # local (CET now, UTC+1), which is 08:00 UTC, not the 07:00 UTC it would be under CEST.
    result = BERLIN.add(berlin(2026, 10, 23, 17, 0), timedelta(hours=2))
    assert result == berlin(2026, 10, 26, 9, 0) == utc(2026, 10, 26, 8, 0)
    daily = calendar("Europe/Berlin", "Mon-Sun 00:00-24:00")
    sunday = berlin(2026, 10, 25, 0, 0)
    assert daily.elapsed(sunday, berlin(2026, 10, 26, 0, 0)) == timedelta(hours=25)


def test_hours_inside_the_spring_gap_do_not_overlap() -> None:
    # 02:00-02:30 does not exist on 29 March in Berlin; the ranges must not count twice.
    odd = calendar("Europe/Berlin", "Sun 01:00-02:50,03:10-05:00")
    day = odd.elapsed(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0))
    assert day == timedelta(hours=3)  # 01:00 CET-03:00 CEST is one hour, 03:10 on is 1 h 50 m


def test_split_hours_and_saturday() -> None:
    friday = berlin(2026, 12, 4, 16, 30)
    assert SPLIT.add(friday, timedelta(hours=1)) == berlin(2026, 12, 5, 9, 30)
    assert SPLIT.add(berlin(2026, 12, 7, 11, 30), timedelta(hours=1)) == berlin(2026, 12, 7, 13, 30)
    assert SPLIT.elapsed(berlin(2026, 12, 7, 0, 0), berlin(2026, 12, 8, 0, 0)) == timedelta(hours=8)


def test_business_days() -> None:
    friday_1759 = berlin(2026, 12, 4, 17, 59)
    assert BERLIN.add_days(friday_1759, 1) == berlin(2026, 12, 7, 17, 59)
    assert BERLIN.add_days(berlin(2026, 12, 4, 18, 0), 1) == berlin(2026, 12, 8, 8, 0)
    assert BERLIN.add_days(berlin(2026, 12, 5, 10, 0), 3) == berlin(2026, 12, 10, 8, 0)
    assert BERLIN.add_days(berlin(2026, 12, 7, 10, 30), 10) == berlin(2026, 12, 21, 10, 30)
    # Across the holiday on Friday 25 December: one day more.
    assert BERLIN.add_days(berlin(2026, 12, 14, 10, 30), 10) == berlin(2026, 12, 29, 10, 30)
    # A longer Friday offset than Saturday's hours: capped at Saturday's close.
    assert SPLIT.add_days(berlin(2026, 12, 4, 16, 0), 1) == berlin(2026, 12, 5, 12, 0)
    assert SPLIT.advance(berlin(2026, 12, 7, 9, 0), Span(days=2)) == berlin(2026, 12, 9, 9, 0)


def test_always_is_plain_time() -> None:
    start = utc(2026, 12, 4, 17, 59, 30)
    assert ALWAYS.add(start, timedelta(minutes=15)) == start + timedelta(minutes=15)
    assert ALWAYS.add_days(start, 10) == start + timedelta(days=10)
    assert ALWAYS.elapsed(start, start + timedelta(hours=50)) == timedelta(hours=50)
    assert ALWAYS.is_open(start)


def test_never_open_within_the_horizon_is_an_error() -> None:
    closed = Calendar(
        tz=BERLIN.tz,
        weekly=parse_hours("Mon 08:00-09:00"),
        holidays=frozenset(date(2026, 12, 7) + timedelta(weeks=n) for n in range(200)),
    )
    with pytest.raises(ValueError, match="never open"):
        closed.next_open(berlin(2026, 12, 4, 10, 0))


# --- properties -----------------------------------------------------------------------------------

ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
TIMES = st.builds(
    lambda h, m: time(h, m), st.integers(min_value=0, max_value=23), st.sampled_from([0, 30, 59])
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    days = draw(st.sampled_from(["Mon-Fri", "Mon-Sun", "Sat", "Tue-Thu", "Fri-Mon"]))
    a, b = sorted(draw(st.lists(TIMES, min_size=2, max_size=2, unique=True)))
    hours = f"{days} {a:%H:%M}-{b:%H:%M}"
    holidays = draw(st.lists(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=5))
    return calendar(draw(ZONES), hours, holidays)


MOMENTS = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
DURATIONS = st.timedeltas(timedelta(0), timedelta(days=20)).map(
    lambda d: timedelta(seconds=int(d.total_seconds()))
)


@settings(max_examples=300, deadline=None)
@given(cal=calendars(), start=MOMENTS, duration=DURATIONS)
def test_add_then_elapsed_gives_back_the_duration(
    cal: Calendar, start: datetime, duration: timedelta
) -> None:
    due = cal.add(start, duration)
    assert due >= start
    assert cal.elapsed(start, due) == duration
    if duration > timedelta(0):
        # Business time was still running just before the due moment.
        assert cal.is_open(due - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(cal=calendars(), start=MOMENTS, a=DURATIONS, b=DURATIONS)
def test_add_composes(cal: Calendar, start: datetime, a: timedelta, b: timedelta) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@settings(max_examples=300, deadline=None)
@given(cal=calendars(), at=MOMENTS)
def test_next_open_is_open_and_nothing_open_before_it(cal: Calendar, at: datetime) -> None:
    opened = cal.next_open(at)
    assert opened >= at
    assert cal.is_open(opened)
    assert cal.elapsed(at, opened) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), start=MOMENTS, days=st.integers(min_value=0, max_value=12))
def test_business_days_move_forward_by_whole_days(
    cal: Calendar, start: datetime, days: int
) -> None:
    due = cal.add_days(start, days)
    assert due >= start
    if days:
        later = cal.add_days(start, days + 1)
        assert later > due
        local = due.astimezone(cal.tz).date()
        assert local not in cal.holidays


@settings(max_examples=200, deadline=None)
@given(start=MOMENTS, duration=DURATIONS)
def test_always_adds_plain_time(start: datetime, duration: timedelta) -> None:
    assert ALWAYS.add(start, duration) == start + duration
