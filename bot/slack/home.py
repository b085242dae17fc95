"""The Slack App Home view of one person (employee, technician or manager), one page at a time,
within Block Kit's limits. Pure: HomeData in, a `views.publish` view out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.home.view import Figures, HomeData, HomeTicket, TechLoad
from bot.messages import ids, limits
from bot.messages.blocks import (
    PRIORITY_EMOJI,
    actions,
    button,
    context,
    divider,
    duration,
    fields_section,
    header,
    packed_lines,
    section,
    state_label,
    who,
)
from bot.messages.escape import mrkdwn, one_line
from bot.messages.limits import Block
from bot.messages.sla import slack_ago, slack_line

PAGE_ROWS = 20  # two blocks a row: 40 of the view's 100, the rest for headings and summaries
LOAD_BUDGET = 2500  # characters of the technicians' load list
_TITLES = {
    "employee": "Your IT tickets",
    "technician": "Your technician desk",
    "manager": "Helpdesk overview",
}


@dataclass(frozen=True)
class Page:
    number: int  # from 0
    count: int
    first: int  # index of the first row shown, from 0
    shown: int
    total: int


def home_view(data: HomeData, page: int = 0) -> dict[str, object]:
    """The Home at `page` (clamped to the pages there are)."""
    rows = [(i, t) for i, s in enumerate(data.sections) for t in s.tickets]
    at = page_of(data, page)
    number, first = at.number, at.first
    shown = rows[first : first + at.shown]

    blocks: list[Block] = [
        header(_TITLES[data.role], "home-title"),
        actions([button(ids.HOME_NEW_TICKET, "New ticket", "new", "primary")], "home-top"),
        context([f"Updated {slack_ago(data.now)}"], "home-updated"),
    ]
    if number == 0:
        blocks += _summary(data)
    blocks.append(divider())
    for index, section_ in enumerate(data.sections):
        on_page = [t for i, t in shown if i == index]
        if on_page:
            more = " (continued)" if _starts_before(rows, index, first) else ""
            blocks.append(section(f"*{mrkdwn(section_.title)}*{more}", f"home-s{index}"))
            for ticket in on_page:
                blocks += _row(data, index, ticket)
        elif number == 0 and not section_.tickets and section_.empty:
            blocks.append(
                section(f"*{mrkdwn(section_.title)}*\n{section_.empty}", f"home-s{index}")
            )
    if at.count > 1:
        blocks += _pager(at)
    return {
        "type": "home",
        "callback_id": "home",
        "private_metadata": str(number),
        "blocks": limits.fit_blocks(blocks, limits.MAX_BLOCKS_VIEW),
    }


def page_of(data: HomeData, page: int) -> Page:
    """Which rows `page` shows (for the pager and the tests)."""
    total = data.ticket_count
    count = max(1, -(-total // PAGE_ROWS))
    number = min(max(page, 0), count - 1)
    first = number * PAGE_ROWS
    return Page(number, count, first, min(PAGE_ROWS, total - first), total)


def _starts_before(rows: list[tuple[int, HomeTicket]], index: int, first: int) -> bool:
    return any(i == index for i, _ in rows[:first])


def _summary(data: HomeData) -> list[Block]:
    blocks: list[Block] = []
    if data.figures is not None:
        blocks.append(fields_section(figure_fields(data.figures), "home-figures"))
    if data.role == "manager":
        lines = [load_line(load) for load in data.load] or ["No technicians known yet."]
        load = packed_lines(["*Technicians' load* (open tickets)", *lines], LOAD_BUDGET)
        for i, block in enumerate(load):
            block["block_id"] = f"home-load-{i}"
        blocks += load
    return blocks


def figure_fields(f: Figures) -> list[str]:
    return [
        f"*Opened (last {f.days} days)*\n{f.opened}",
        f"*Closed (last {f.days} days)*\n{f.closed}",
        f"*Mean time to assign*\n{duration(f.mean_assign)}",
        f"*Mean time to resolve*\n{duration(f.mean_resolve)}",
        f"*SLA breaches*\n{f.breaches}",
    ]


def load_line(load: TechLoad) -> str:
    critical = f", {load.critical} critical" if load.critical else ""
    return f"• {who(load.person)}: {load.open} open{critical}"


def row_text(t: HomeTicket) -> str:
    """`🔴 *#12* Internet down — In progress · Acme` and a line of who and when (safe mrkdwn)."""
    emoji = PRIORITY_EMOJI.get(t.priority, "")
    title = mrkdwn(one_line(t.title, 150))
    client = f" · {mrkdwn(one_line(t.client_name, 80))}" if t.client_name else ""
    lines = [
        f"{emoji} *#{t.id}* {title} — {state_label(t.state)}{client}".strip(),
        f"Assignee: {who(t.assignee, default='unassigned')} · updated {slack_ago(t.updated_at)}",
    ]
    lines += [slack_line(clock) for clock in t.sla]
    return "\n".join(lines)


def _row(data: HomeData, index: int, t: HomeTicket) -> list[Block]:
    value = str(t.id)
    elements = [button(ids.VIEW_TICKET, "View", value)]
    if t.confirm:
        elements.append(button(ids.CONFIRM, "Confirm fixed", value, "primary"))
    if data.role == "manager":
        elements.append(button(ids.ASSIGN, "Reassign" if t.assignee else "Assign", value))
    link = permalink(data.workspace_url, t.card)
    if link is not None:
        elements.append({**button(ids.HOME_OPEN_CARD, "Open card", value), "url": link})
    return [
        section(row_text(t), f"home-s{index}-t{t.id}"),
        actions(elements, f"home-s{index}-t{t.id}-a"),
    ]


def permalink(workspace_url: str | None, card: tuple[str, str] | None) -> str | None:
    """`https://team.slack.com/archives/C123/p1700000000123456`: Slack's permalink shape."""
    if not workspace_url or card is None or not workspace_url.startswith("https://"):
        return None
    channel, ts = card
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def _pager(at: Page) -> list[Block]:
    line = (
        f"Page {at.number + 1} of {at.count} · tickets {at.first + 1}–{at.first + at.shown} "
        f"of {at.total}"
    )
    buttons = []
    if at.number > 0:
        buttons.append(button(ids.HOME_PAGE_PREVIOUS, "◀ Previous", str(at.number - 1)))
    if at.number < at.count - 1:
        buttons.append(button(ids.HOME_PAGE_NEXT, "Next ▶", str(at.number + 1)))
    return [context([line], "home-pages"), actions(buttons, "home-pager")]
