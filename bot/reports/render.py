"""One entry point to the report's file formats, by name (the CLI's `--format`)."""

from __future__ import annotations

from bot.reports.figures import Report
from bot.reports.page import render_html
from bot.reports.table import render_csv
from bot.reports.text import render_text

FORMATS = ("text", "csv", "html")


def render(report: Report, fmt: str) -> str:
    """ValueError for a format not in FORMATS."""
    if fmt == "text":
        return render_text(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
