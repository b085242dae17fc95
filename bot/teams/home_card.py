"""The App Home as a Teams message: the same sections as the Slack Home in one Adaptive Card, a
page of rows at a time (`home 2` asks for the second). Pure."""

from __future__ import annotations

from bot.home.view import HomeData, HomeTicket
from bot.messages import ids
from bot.messages.blocks import PRIORITY_EMOJI, duration
from bot.messages.escape import one_line
from bot.messages.sla import TEAMS_COLOR, teams_line
from bot.messages.view import TeamsMessage
from bot.teams.cards import (
    TEAMS_MD,
    Element,
    action_sets,
    adaptive_card,
    dialog_button,
    execute,
    fact_set,
    name,
    summary,
    text_block,
)
from bot.teams.text import teams_md

PAGE_ROWS = 12  # a card holds about 26 kB: fewer rows than a Slack page
LOAD_ROWS = 15
_TITLES = {
    "employee": "Your IT tickets",
    "technician": "Your technician desk",
    "manager": "Helpdesk overview",
}


def home_card(data: HomeData, page: int = 0) -> TeamsMessage:
    rows = [(i, t) for i, s in enumerate(data.sections) for t in s.tickets]
    count = max(1, -(-len(rows) // PAGE_ROWS))
    number = min(max(page, 0), count - 1)
    shown = rows[number * PAGE_ROWS : (number + 1) * PAGE_ROWS]
    body: list[Element] = [text_block(f"**{_TITLES[data.role]}**", size="Large")]
    if number == 0 and data.figures is not None:
        f = data.figures
        body.append(
            fact_set(
                [
                    (f"Opened (last {f.days} days)", str(f.opened)),
                    (f"Closed (last {f.days} days)", str(f.closed)),
                    ("Mean time to assign", duration(f.mean_assign)),
                    ("Mean time to resolve", duration(f.mean_resolve)),
                    ("SLA breaches", str(f.breaches)),
                ]
            )
        )
    if number == 0 and data.role == "manager":
        loads = [
            (name(x.person), f"{x.open} open" + (f", {x.critical} critical" if x.critical else ""))
            for x in data.load[:LOAD_ROWS]
        ]
        if len(data.load) > LOAD_ROWS:
            loads.append(("…", f"{len(data.load) - LOAD_ROWS} more technicians"))
        body += [text_block("**Technicians' load**"), fact_set(loads or [("—", "none known")])]
    for index, section in enumerate(data.sections):
        on_page = [t for i, t in shown if i == index]
        if on_page:
            body.append(text_block(f"**{teams_md(section.title)}**", separator=True))
            for ticket in on_page:
                body += _row(data, ticket)
        elif number == 0 and not section.tickets and section.empty:
            body.append(text_block(f"**{teams_md(section.title)}**\n\n{section.empty}"))
    at = page_of_rows(number, count, len(rows))
    if count > 1:
        body.append(text_block(at, isSubtle=True, separator=True))
    card = adaptive_card(body, fallback_text=_TITLES[data.role])
    return TeamsMessage(text=summary(f"{_TITLES[data.role]}: {len(rows)} tickets"), card=card)


def page_of_rows(number: int, count: int, total: int) -> str:
    first = number * PAGE_ROWS
    last = min(total, first + PAGE_ROWS)
    hint = f" Write **home {number + 2}** for the next page." if number + 1 < count else ""
    return f"Page {number + 1} of {count} · tickets {first + 1}–{last} of {total}.{hint}"


def _row(data: HomeData, t: HomeTicket) -> list[Element]:
    emoji = PRIORITY_EMOJI.get(t.priority, "")
    title = teams_md(one_line(t.title, 150))
    client = f" · {teams_md(one_line(t.client_name, 80))}" if t.client_name else ""
    lines: list[Element] = [
        text_block(f"{emoji} **#{t.id}** {title} — {TEAMS_MD.state(t.state)}{client}".strip()),
        text_block(
            f"Assignee: {name(t.assignee, default='unassigned')}", isSubtle=True, spacing="None"
        ),
    ]
    lines += [text_block(teams_line(c), spacing="None", **_color(c.status)) for c in t.sla]
    actions: list[Element] = []
    if t.confirm:
        actions.append(execute(ids.CONFIRM, "Confirm fixed", {"ticket": t.id}, "positive"))
    if data.role == "manager":
        actions.append(dialog_button(ids.ASSIGN, "Reassign" if t.assignee else "Assign", t.id))
    return lines + action_sets(actions)


def _color(status: str) -> dict[str, object]:
    color = TEAMS_COLOR.get(status)
    return {"color": color} if color else {}
