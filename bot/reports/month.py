"""A calendar month (`2026-11`) and its bounds as UTC instants in a timezone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`YYYY-MM`; ValueError with a plain-words message otherwise."""
        match = _MONTH.fullmatch(text.strip())
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            raise ValueError(f"{text.strip()[:20]!r} is not a month like 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: datetime, tz: tzinfo) -> Month:
        local = moment.astimezone(tz)
        return cls(local.year, local.month)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def start(self, tz: tzinfo) -> datetime:
        """Midnight on the 1st, local time in `tz`, as UTC."""
        return datetime.combine(datetime(self.year, self.month, 1).date(), time(0), tz).astimezone(
            UTC
        )

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in `tz`, as UTC instants."""
        return self.start(tz), self.next().start(tz)

    @property
    def label(self) -> str:
        return f"{_NAMES[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
