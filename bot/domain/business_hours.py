"""Business calendars (weekly hours in a timezone, minus holidays) and arithmetic on business
time: open or not, next opening, due after N business hours or days. Pure: zoneinfo only."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ALWAYS",
    "DAY_NAMES",
    "Calendar",
    "Span",
    "Weekly",
    "calendar",
    "parse_hours",
    "parse_span",
]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS_EXAMPLE = '"Mon-Fri 08:00-18:00" or "Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00"'
# How far ahead an answer is looked for: a calendar open once a year still answers.
_HORIZON_DAYS = 2 * 366

_CLAUSE = re.compile(r"([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\S.*)")
_RANGE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)\s*-\s*(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))")
_SPAN = re.compile(r"([0-9]{1,6})([smhd])")
_MIDNIGHT = time(0, 0)

# Per weekday (Monday first): sorted, non-overlapping (start, end) local times; end None = 24:00.
Weekly = tuple[tuple[tuple[time, time | None], ...], ...]


def parse_hours(text: str) -> Weekly:
    """`"Mon-Fri 08:00-18:00"`, or clauses separated by `;`, each with comma-separated ranges:
    `"Mon-Fri 08:00-12:00,13:00-17:00; Sat 09:00-12:00"`. A day range may wrap (`Fri-Mon`); an end
    of `24:00` means midnight. Raises `ValueError` naming what is wrong."""
    days: list[list[tuple[time, time | None]]] = [[] for _ in DAY_NAMES]
    clauses = [c.strip() for c in text.split(";")]
    if not any(clauses):
        raise ValueError(f"no opening hours given (expected {HOURS_EXAMPLE})")
    for clause in clauses:
        if not clause:
            continue
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise ValueError(f"{clause!r} is not like {HOURS_EXAMPLE}")
        first, last = _day(match.group(1)), _day(match.group(2) or match.group(1))
        ranges = [_range(r.strip()) for r in match.group(3).split(",")]
        for offset in range((last - first) % 7 + 1):
            days[(first + offset) % 7].extend(ranges)
    weekly = []
    for weekday, ranges in enumerate(days):
        ranges.sort(key=lambda r: r[0])
        for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
            if end is None or end > start:
                raise ValueError(f"opening hours overlap on {DAY_NAMES[weekday]}")
        weekly.append(tuple(ranges))
    return tuple(weekly)


def _day(name: str) -> int:
    for i, day in enumerate(DAY_NAMES):
        if name.lower() == day.lower():
            return i
    raise ValueError(f"{name!r} is not a day (Mon, Tue, Wed, Thu, Fri, Sat or Sun)")


def _range(text: str) -> tuple[time, time | None]:
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time range like 08:00-18:00")
    start = time(int(match.group(1)), int(match.group(2)))
    end = None if match.group(5) else time(int(match.group(3)), int(match.group(4)))
    if end is not None and end <= start:
        raise ValueError(f"{text!r} ends before it starts (hours overnight are not supported)")
    return start, end


@dataclass(frozen=True)
class Span:
    """A target such as `4h` (business time) or `3d` (business days; see `Calendar.add_days`)."""

    business: timedelta = timedelta(0)
    days: int = 0

    def __str__(self) -> str:
        if self.days:
            return f"{self.days}d"
        seconds = int(self.business.total_seconds())
        for unit, size in (("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"


def parse_span(text: str) -> Span:
    """`"90s"`, `"15m"`, `"4h"` (business time) or `"3d"` (business days), positive."""
    match = _SPAN.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a positive duration such as 15m, 4h or 3d")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        return Span(days=amount)
    return Span(
        business=timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours"}[unit]: amount})
    )


@dataclass(frozen=True)
class Calendar:
    """When a party works: `weekly` hours in `tz`, closed on `holidays` (local dates).

    Datetimes go in and come out timezone-aware UTC. Hours are local wall-clock ranges, so a day
    on which the clocks change is an hour shorter or longer if its hours span the change."""

    tz: ZoneInfo
    weekly: Weekly
    holidays: frozenset[date] = frozenset()

    def is_open(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self._intervals(at, until=at))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the next opening (UTC)."""
        for start, end in self._intervals(at):
            if end > at:
                return max(start, at)
        raise self._never_open()

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of business time after `start` has passed (UTC). Time runs only
        while open: Friday 17:59 + 2 minutes with hours Mon-Fri 08:00-18:00 is Monday 08:01.
        A result that falls exactly on a closing time is that closing time."""
        if duration < timedelta(0):
            raise ValueError("a business duration cannot be negative")
        remaining = duration
        for iv_start, iv_end in self._intervals(start):
            if iv_end < start:  # a start on a closing time adds to that interval
                continue
            begin = max(iv_start, start)
            if remaining <= iv_end - begin:
                return begin + remaining
            remaining -= iv_end - begin
        raise self._never_open()

    def add_days(self, start: datetime, days: int) -> datetime:
        """N business days after `start`: take the next business moment from `start` (start
        itself when open) and its business-time offset into its business day (time elapsed since
        that day opened, breaks excluded); the answer is the same offset into the N-th following
        business day (a day with hours that is not a holiday), capped at that day's close when
        it is shorter. Friday 17:59 + 1d is Monday 17:59; Friday 18:00 (closed) + 1d is Tuesday
        08:00. On a 24/7 calendar this is exactly N × 24 hours."""
        if days < 0:
            raise ValueError("a number of business days cannot be negative")
        moment = self.next_open(start)
        day = moment.astimezone(self.tz).date()
        offset = self.elapsed(self._opening(day), moment)
        for _ in range(days):
            day = self._next_business_day(day)
        opened, closed = self._opening(day), self._closing(day)
        return min(self.add(opened, offset), closed)

    def advance(self, start: datetime, span: Span) -> datetime:
        """`start` + a target: business time, or business days."""
        if span.days:
            return self.add_days(start, span.days)
        return self.add(start, span.business)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between `start` and `end` (zero when `end` is not after `start`)."""
        total = timedelta(0)
        if end <= start:
            return total
        for iv_start, iv_end in self._intervals(start, until=end):
            total += max(timedelta(0), min(iv_end, end) - max(iv_start, start))
        return total

    def _intervals(
        self, at: datetime, *, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC, half-open) in time order from the local day of `at` onwards, up
        to the one that contains or follows `until`; they end after a horizon with none."""
        if at.tzinfo is None or (until is not None and until.tzinfo is None):
            raise ValueError("business-hours arithmetic needs timezone-aware datetimes")
        day = at.astimezone(self.tz).date()
        last = day + timedelta(days=_HORIZON_DAYS)
        while day <= last:
            for interval in self._day_intervals(day):
                yield interval
                if until is not None and interval[1] > until:
                    return
                last = day + timedelta(days=_HORIZON_DAYS)
            day += timedelta(days=1)

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in self.weekly[day.weekday()]:
            begin = self._utc(day, start)
            finish = self._utc(day + timedelta(days=1), _MIDNIGHT) if end is None else None
            finish = finish or self._utc(day, end or _MIDNIGHT)
            if intervals:  # a local time in the spring-forward gap can land past the next range
                begin = max(begin, intervals[-1][1])
            if finish > begin:
                intervals.append((begin, finish))
        return intervals

    def _utc(self, day: date, at: time) -> datetime:
        # fold=0: an ambiguous local time is its first occurrence; one in a gap maps past the gap.
        return datetime.combine(day, at, self.tz).astimezone(UTC)

    def _opening(self, day: date) -> datetime:
        return self._day_intervals_or_raise(day)[0][0]

    def _closing(self, day: date) -> datetime:
        return self._day_intervals_or_raise(day)[-1][1]

    def _day_intervals_or_raise(self, day: date) -> list[tuple[datetime, datetime]]:
        intervals = self._day_intervals(day)
        if not intervals:
            raise ValueError(f"{day} is not a business day")
        return intervals

    def _next_business_day(self, day: date) -> date:
        for _ in range(_HORIZON_DAYS):
            day += timedelta(days=1)
            if self._day_intervals(day):
                return day
        raise self._never_open()

    def _never_open(self) -> ValueError:
        return ValueError(f"the calendar is never open within {_HORIZON_DAYS} days")


ALWAYS = Calendar(tz=ZoneInfo("UTC"), weekly=tuple(((_MIDNIGHT, None),) for _ in DAY_NAMES))


def calendar(timezone: str, hours: str, holidays: Iterable[date] = ()) -> Calendar:
    """A calendar from stored settings; `ValueError` for an unknown zone or bad hours."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{timezone!r} is not a time zone like Europe/London") from None
    return Calendar(tz=tz, weekly=parse_hours(hours), holidays=frozenset(holidays))
