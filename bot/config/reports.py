"""The reports section: when the daily digest is posted and the monthly report is emailed."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import Field

from bot.config.fields import Section, parsed
from bot.config.parsers import parse_clock_time

MONTHLY_REPORT_AT = time(7, 0)  # `on`: the 1st of the month at 07:00 local


def _parse_digest_at(value: str) -> time | None:
    """HH:MM (local), or off (None)."""
    return None if value.lower() == "off" else parse_clock_time(value)


def _parse_monthly_report(value: str) -> time | None:
    """on | off | HH:MM (local, on the 1st of the month)."""
    return MONTHLY_REPORT_AT if value.lower() == "on" else _parse_digest_at(value)


DigestAt = Annotated[
    time | None,
    parsed(_parse_digest_at, "must be a local time such as 08:30 (in TICKETBOT_TIMEZONE), or off"),
]
MonthlyReportAt = Annotated[
    time | None,
    parsed(
        _parse_monthly_report,
        "must be on (the 1st of the month at 07:00 in TICKETBOT_TIMEZONE), a local time "
        "such as 06:30 (on the 1st), or off",
    ),
]


class ReportsSection(Section):
    """The daily digest and the monthly report, at local times in `TICKETBOT_TIMEZONE`."""

    # None: no digest
    digest_at: DigestAt = Field(default=time(8, 30), validation_alias="TICKETBOT_DIGEST_AT")
    # Emailed to each client's contact on the 1st at this local time; None: off.
    monthly_report_at: MonthlyReportAt = Field(
        default=None, validation_alias="TICKETBOT_MONTHLY_REPORT"
    )
