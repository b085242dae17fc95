"""The report as a Slack Block Kit summary (`/ticket report`): the overall (or the one client's)
figures in full, then one line per client, within Block Kit's limits."""

from __future__ import annotations

from bot.messages import limits
from bot.messages.blocks import context, divider, fallback, fields_section, header, section
from bot.messages.escape import mrkdwn, one_line
from bot.messages.view import SlackMessage
from bot.reports.figures import Report, Section
from bot.reports.formats import duration, hours_note, rate, rows

# header, main figures, its note, a divider, the "more" line: the rest is one block per client.
MAX_CLIENT_LINES = limits.MAX_BLOCKS_MESSAGE - 5
NAME_LIMIT = 80  # per client line: 45 lines stay within the message's total text limit


def report_summary(report: Report) -> SlackMessage:
    title = f"Ticket report, {report.month_label}"
    main = report.overall or (report.sections[0] if report.sections else None)
    blocks = [header(title)]
    if main is None:
        blocks.append(section("No clients yet."))
        return SlackMessage(text=fallback(mrkdwn(title)), blocks=blocks)
    name = "All clients" if report.overall is not None else one_line(main.name, 100)
    blocks.append(
        fields_section(
            [f"*{mrkdwn(label)}*\n{mrkdwn(value)}" for label, value in rows(main.figures)]
        )
    )
    note = "every ticket of the month" if report.overall is not None else hours_note(main.hours)
    blocks.append(context([mrkdwn(f"{name} · {report.timezone} · {note}")]))
    if report.overall is not None and report.sections:
        blocks.append(divider())
        shown = report.sections[:MAX_CLIENT_LINES]
        blocks += [section(_client_line(s)) for s in shown]
        if len(report.sections) > len(shown):
            more = len(report.sections) - len(shown)
            blocks.append(
                context([f"… {more} more clients: `ticketbot report --month {report.month}`"])
            )
    return SlackMessage(text=fallback(mrkdwn(f"{title}: {name}")), blocks=blocks)


def _client_line(s: Section) -> str:
    f = s.figures
    parts = [
        f"{f.opened} opened",
        f"ack {duration(f.acknowledge.mean)}",
        f"resolve {duration(f.resolve.mean)}",
        f"SLA {rate(f.resolve_sla)}",
        f"reopened {rate(f.reopen)}",
        f"onsite {f.onsite_visits}",
    ]
    return f"*{mrkdwn(one_line(s.name, NAME_LIMIT))}*\n{mrkdwn(' · '.join(parts))}"
