"""The report as plain text for a terminal (`ticketbot report --format text`)."""

from __future__ import annotations

import textwrap

from bot.messages.escape import one_line
from bot.reports.figures import Report, Section
from bot.reports.formats import DEFINITIONS, hours_note, rows

_LABEL = 26


def render_text(report: Report) -> str:
    out = [f"Ticket report, {report.month_label} ({report.timezone})", ""]
    for section in report.sections:
        out += _section(section, f"({hours_note(section.hours)})")
    if report.overall is not None:
        out += _section(report.overall, "(every ticket of the month)")
    out += textwrap.wrap(DEFINITIONS, 100)
    return "\n".join(out) + "\n"


def _section(section: Section, note: str) -> list[str]:
    name = one_line(section.name, 200)
    lines = [name, "=" * min(len(name), 100), note]
    lines += [f"{label:<{_LABEL}}{value}" for label, value in rows(section.figures)]
    return [*lines, ""]
