"""Monthly reports per client and overall: figures from the database (`build`, `figures`) and
their renderings as text, CSV, self-contained HTML and a Slack Block Kit summary."""

from bot.reports.build import ReportError, build_report
from bot.reports.figures import Durations, Figures, Rate, Report, Section
from bot.reports.month import Month

__all__ = [
    "Durations",
    "Figures",
    "Month",
    "Rate",
    "Report",
    "ReportError",
    "Section",
    "build_report",
]
