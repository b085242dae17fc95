"""How the renderers write figures: durations, rates and counts, the same in every format."""

from __future__ import annotations

from datetime import timedelta

from bot.reports.figures import Durations, Figures, Rate

NONE = "–"


def duration(value: timedelta | None) -> str:
    """`45m`, `3h 05m`, `2d 4h`; NONE when there is no value."""
    if value is None:
        return NONE
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def minutes(value: timedelta | None) -> str:
    """Decimal minutes for machines (CSV); empty when there is no value."""
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


def rate(value: Rate) -> str:
    """`92% (11/12)`; NONE when nothing was decided."""
    share = value.share
    if share is None:
        return NONE
    return f"{share:.0%} ({value.hits}/{value.total})"


def share(value: Rate) -> str:
    """The rate as a decimal fraction for machines (CSV); empty when nothing was decided."""
    return "" if value.share is None else f"{value.share:.4f}"


def mean_p90(value: Durations) -> str:
    if not value.count:
        return NONE
    return f"{duration(value.mean)} / {duration(value.p90)} (n={value.count})"


def rows(figures: Figures) -> list[tuple[str, str]]:
    """The figures as (label, value) lines, in the order every format shows them."""
    f = figures
    return [
        ("Tickets opened", f"{f.opened}" + (f" ({f.cancelled} cancelled)" if f.cancelled else "")),
        ("By priority", " · ".join(f"{name} {n}" for name, n in f.by_priority)),
        ("By source", " · ".join(f"{name} {n}" for name, n in f.by_source)),
        ("Acknowledge, mean / p90", mean_p90(f.acknowledge)),
        ("Assign, mean / p90", mean_p90(f.assign)),
        ("Resolve, mean / p90", mean_p90(f.resolve)),
        ("Response SLA met", rate(f.response_sla)),
        ("Resolution SLA met", rate(f.resolve_sla)),
        ("Reopened", rate(f.reopen)),
        ("Onsite visits", str(f.onsite_visits)),
    ]


def hours_note(hours: str | None) -> str:
    if hours is None:
        return "times around the clock"
    return f"times in business hours {hours} (critical tickets: around the clock)"


DEFINITIONS = (
    "Tickets opened in the month (local time). Acknowledge: opening to the first technician "
    "attention; assign: to the first assignment; resolve: to the resolution now awaiting "
    "confirmation or confirmed, without time spent awaiting a confirmation that ended in a "
    "reopen. Means and nearest-rank p90 over the tickets with that time. SLA met: of the clocks "
    "decided (met, or a breach recorded or the due time passed). Reopened: of the tickets "
    "resolved at least once. Onsite visits: dispatches recorded on the month's tickets."
)
