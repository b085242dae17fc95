"""The daily digest in the technician channel: open tickets by priority (unassigned first), SLA
breaches and risks, yesterday's closures. Pure Block Kit; Teams gets it through teams_blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.messages import limits
from bot.messages.blocks import PRIORITY_EMOJI, context, fallback, header, priority_label, section
from bot.messages.escape import mrkdwn, one_line
from bot.messages.limits import Block
from bot.messages.view import PRIORITIES, STATE_LABELS, SlackMessage

LINES_PER_SECTION = 15  # more are counted, not listed (the message stays short and within limits)
_MORE = 40  # room kept for "… and N more"


@dataclass(frozen=True)
class DigestTicket:
    """One ticket line. `title`, `client` and `assignee` are raw text."""

    id: int
    title: str
    priority: str
    state: str
    assignee: str | None = None
    client: str | None = None
    sla: str | None = None  # breached | at_risk


@dataclass(frozen=True)
class DigestView:
    day: date  # the local date the digest is for
    open: tuple[DigestTicket, ...] = ()  # any order: the renderer sorts
    closed_yesterday: tuple[DigestTicket, ...] = ()


def digest(view: DigestView) -> SlackMessage:
    blocks: list[Block] = [header(f"Daily digest — {view.day:%a} {view.day.day} {view.day:%b %Y}")]
    blocks.append(section(summary(view)))
    by_priority = {p: [t for t in view.open if t.priority == p] for p in reversed(PRIORITIES)}
    for priority, tickets in by_priority.items():
        if tickets:
            tickets.sort(key=lambda t: (t.assignee is not None, t.id))
            title = f"*{priority_label(priority)} ({len(tickets)})*"
            blocks.append(section(_lines(title, tickets)))
    breached = sorted((t for t in view.open if t.sla == "breached"), key=_urgency)
    at_risk = sorted((t for t in view.open if t.sla == "at_risk"), key=_urgency)
    if breached:
        blocks.append(section(_lines(f"*🔴 SLA breached ({len(breached)})*", breached)))
    if at_risk:
        blocks.append(section(_lines(f"*🟠 SLA at risk ({len(at_risk)})*", at_risk)))
    closed = sorted(view.closed_yesterday, key=lambda t: t.id)
    if closed:
        blocks.append(section(_lines(f"*🏁 Closed yesterday ({len(closed)})*", closed)))
    else:
        blocks.append(context(["Nothing was closed yesterday."]))
    return SlackMessage(
        text=fallback(f"Daily digest: {summary(view)}"),
        blocks=limits.fit_blocks(blocks, limits.MAX_BLOCKS_MESSAGE),
    )


def summary(view: DigestView) -> str:
    """`5 open tickets: 1 critical, 2 high, 2 medium · 2 unassigned · 1 SLA breached, 1 at risk ·
    3 closed yesterday`; `No open tickets` when none."""
    count = len(view.open)
    if count:
        kinds = [f"{n} {p}" for p in reversed(PRIORITIES) if (n := _count(view, priority=p))]
        parts = [f"{count} open ticket{'s' if count != 1 else ''}: " + ", ".join(kinds)]
    else:
        parts = ["No open tickets 🎉"]
    unassigned = sum(1 for t in view.open if t.assignee is None)
    if unassigned:
        parts.append(f"{unassigned} unassigned")
    breached, at_risk = _count(view, sla="breached"), _count(view, sla="at_risk")
    if breached or at_risk:
        sla = [
            f"{breached} SLA breached" if breached else "",
            f"{at_risk} at risk" if at_risk else "",
        ]
        parts.append(", ".join(s for s in sla if s))
    parts.append(f"{len(view.closed_yesterday)} closed yesterday")
    return " · ".join(parts)


def _count(view: DigestView, *, priority: str | None = None, sla: str | None = None) -> int:
    return sum(
        1
        for t in view.open
        if (priority is None or t.priority == priority) and (sla is None or t.sla == sla)
    )


def _urgency(t: DigestTicket) -> tuple[int, int]:
    rank = PRIORITIES.index(t.priority) if t.priority in PRIORITIES else -1
    return (-rank, t.id)


def _lines(title: str, tickets: list[DigestTicket]) -> str:
    """The title and one line per ticket while they fit; the rest are counted."""
    text = title
    for shown, ticket in enumerate(tickets):
        line = _line(ticket)
        if shown == LINES_PER_SECTION or len(text) + len(line) + _MORE > limits.SECTION_TEXT:
            return f"{text}\n… and {len(tickets) - shown} more"
        text += "\n" + line
    return text


def _line(t: DigestTicket) -> str:
    """`• 🔴 *#12* Internet down — unassigned · Acme · 🔴 SLA breached` (safe mrkdwn)."""
    emoji = PRIORITY_EMOJI.get(t.priority, "")
    who = mrkdwn(one_line(t.assignee, 80)) if t.assignee else "_unassigned_"
    state = STATE_LABELS.get(t.state, mrkdwn(one_line(t.state, 30))).lower()
    parts = [f"• {emoji} *#{t.id}* {mrkdwn(one_line(t.title, 120))} — {who}, {state}"]
    if t.client:
        parts.append(mrkdwn(one_line(t.client, 80)))
    if t.sla == "breached":
        parts.append("🔴 SLA breached")
    elif t.sla == "at_risk":
        parts.append("🟠 SLA at risk")
    return " · ".join(parts)
