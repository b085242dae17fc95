"""The report as one self-contained HTML file: inline CSS, charts as inline SVG, no script and
nothing fetched, printable; every piece of client or ticket text is escaped."""

from __future__ import annotations

from html import escape

from bot.messages.escape import one_line
from bot.reports.chart import bar_chart
from bot.reports.figures import Report, Section
from bot.reports.formats import DEFINITIONS, hours_note, rows

PRIORITY_COLORS = ("#9e9e9e", "#e0b400", "#f58518", "#d62728")
SOURCE_COLORS = ("#4c78a8", "#b279a2")

_CSS = """
:root { color-scheme: light; }
body { font-family: Arial, Helvetica, sans-serif; color: #222; margin: 24px auto;
  max-width: 960px; padding: 0 16px; font-size: 14px; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 18px; margin: 28px 0 4px 0; border-bottom: 2px solid #4c78a8; }
.meta, .note { color: #666; font-size: 12px; }
table.figures { border-collapse: collapse; margin: 8px 0; min-width: 60%; }
table.figures th { text-align: left; font-weight: normal; color: #555; padding: 3px 16px 3px 0; }
table.figures td { padding: 3px 0; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart-title { font-size: 13px; font-weight: bold; fill: #222; }
.chart-label, .chart-value { font-size: 12px; fill: #333; }
section { page-break-inside: avoid; break-inside: avoid; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  .charts { display: block; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(report: Report) -> str:
    title = f"Ticket report, {report.month_label}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Timezone {escape(report.timezone)} · generated '
        f"{escape(report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>",
    ]
    if report.overall is not None:
        body.append(_section(report.overall, "every ticket of the month"))
        clients = [(s.name, s.figures.opened) for s in report.sections]
        if clients:
            body.append(f'<div class="charts">{bar_chart("Tickets by client", clients)}</div>')
    body += [_section(s, hours_note(s.hours)) for s in report.sections]
    body.append(f'<p class="note">{escape(DEFINITIONS)}</p>')
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _section(section: Section, note: str) -> str:
    f = section.figures
    table = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows(f)
    )
    charts = bar_chart("By priority", f.by_priority, PRIORITY_COLORS) + bar_chart(
        "By source", f.by_source, SOURCE_COLORS
    )
    return (
        f"<section><h2>{escape(one_line(section.name, 200))}</h2>"
        f'<p class="note">{escape(note)}</p>'
        f'<table class="figures">{table}</table>'
        f'<div class="charts">{charts}</div></section>'
    )
