"""The report as CSV (`ticketbot report --format csv`): one row per client and one for the
overall, durations in decimal minutes and rates as fractions, so a spreadsheet can sum them."""

from __future__ import annotations

import csv
import io

from bot.reports.figures import PRIORITIES, SOURCES, Durations, Rate, Report, Section
from bot.reports.formats import minutes, share

SCOPE_CLIENT, SCOPE_NO_CLIENT, SCOPE_OVERALL = "client", "no_client", "overall"


def columns() -> list[str]:
    cols = ["month", "timezone", "scope", "client", "business_hours", "opened", "cancelled"]
    cols += [f"priority_{p}" for p in PRIORITIES] + [f"source_{s}" for s in SOURCES]
    for name in ("acknowledge", "assign", "resolve"):
        cols += [f"{name}_count", f"{name}_mean_minutes", f"{name}_p90_minutes"]
    for name in ("response_sla", "resolve_sla", "reopen"):
        cols += [f"{name}_hits", f"{name}_total", f"{name}_rate"]
    return [*cols, "onsite_visits"]


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(), lineterminator="\r\n")
    writer.writeheader()
    for section in report.sections:
        scope = SCOPE_CLIENT if section.client_id is not None else SCOPE_NO_CLIENT
        writer.writerow(_row(report, section, scope))
    if report.overall is not None:
        writer.writerow(_row(report, report.overall, SCOPE_OVERALL))
    return buffer.getvalue()


def _row(report: Report, section: Section, scope: str) -> dict[str, object]:
    f = section.figures
    row: dict[str, object] = {
        "month": report.month,
        "timezone": report.timezone,
        "scope": scope,
        "client": _cell(section.name) if scope == SCOPE_CLIENT else "",
        "business_hours": _cell(section.hours or ""),
        "opened": f.opened,
        "cancelled": f.cancelled,
        "onsite_visits": f.onsite_visits,
    }
    row.update({f"priority_{p}": n for p, n in f.by_priority})
    row.update({f"source_{s}": n for s, n in f.by_source})
    durations: dict[str, Durations] = {
        "acknowledge": f.acknowledge,
        "assign": f.assign,
        "resolve": f.resolve,
    }
    for name, d in durations.items():
        row[f"{name}_count"] = d.count
        row[f"{name}_mean_minutes"] = minutes(d.mean)
        row[f"{name}_p90_minutes"] = minutes(d.p90)
    rates: dict[str, Rate] = {
        "response_sla": f.response_sla,
        "resolve_sla": f.resolve_sla,
        "reopen": f.reopen,
    }
    for name, r in rates.items():
        row[f"{name}_hits"], row[f"{name}_total"] = r.hits, r.total
        row[f"{name}_rate"] = share(r)
    return row


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (=, +, -, @ lead one)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
