"""The SLA clock lines of a ticket card (Slack mrkdwn, Teams markdown) and the SLA DMs. Pure; due
times are absolute, shown in each reader's zone (Slack `<!date>`, Adaptive Card `{{DATE}}`)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.messages.blocks import fallback, section, ticket_ref
from bot.messages.view import SlackMessage, SlaClock, TicketView

_ICON = {"running": "⏱️", "at_risk": "🟠", "breached": "🔴", "stopped": "⏸️"}
_AT_RISK = " — at risk, 75 % of the target used"
# Teams TextBlock colours: amber at risk, red breached.
TEAMS_COLOR = {"at_risk": "Warning", "breached": "Attention"}


def fallback_time(at: datetime, tz: tzinfo = UTC) -> str:
    """`Mon 7 Dec 08:00 UTC` (or in `tz`): where a chat client cannot localise a time."""
    at = at.astimezone(tz)
    return f"{at:%a} {at.day} {at:%b %H:%M} {at.tzname()}"


def slack_time(at: datetime, tz: tzinfo = UTC) -> str:
    """`<!date^…>`: Slack shows it in each reader's zone ("Today at 10:00", "Mon, Dec 7 at …");
    elsewhere (Teams, notifications) the fallback in `tz` shows."""
    stamp = int(at.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback_time(at, tz)}>"


def slack_ago(at: datetime) -> str:
    return f"<!date^{int(at.timestamp())}^{{ago}}|at {fallback_time(at)}>"


def teams_time(at: datetime) -> str:
    """Adaptive Card date functions: Teams shows the reader's local date and time."""
    iso = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}"


def slack_line(clock: SlaClock) -> str:
    """One card line in Slack mrkdwn (our own text only: nothing to escape)."""
    breached = slack_ago(clock.breached_at) if clock.breached_at else ""
    return _line(clock, slack_time(clock.due_at), breached, "*")


def teams_line(clock: SlaClock) -> str:
    """One card line in Teams markdown."""
    breached = f"at {teams_time(clock.breached_at)}" if clock.breached_at else ""
    return _line(clock, teams_time(clock.due_at), breached, "**")


def _line(clock: SlaClock, due: str, breached: str, bold: str) -> str:
    icon = _ICON[clock.status]
    if clock.status == "breached":
        name = "Response" if clock.kind == "response" else "Resolution"
        when = f" {breached}" if breached else ""
        return f"{icon} {bold}{name} SLA breached{bold}{when} (was due {due})"
    if clock.status == "stopped":
        return f"{icon} Resolution clock stopped while awaiting confirmation (due {due})"
    lead = "Response due" if clock.kind == "response" else "Resolve by"
    return f"{icon} {lead} {due}" + (_AT_RISK if clock.status == "at_risk" else "")


# ---- notifications -----------------------------------------------------------------------------
_WHAT = {"response": "first response", "resolve": "resolution"}


def warning(
    view: TicketView, clock: str, due: datetime, target: str, tz: tzinfo, *, unassigned: bool
) -> SlackMessage:
    """A DM at 75 % of a target: to the assignee, or to the managers when nobody is assigned."""
    text = (
        f"🟠 SLA warning: {ticket_ref(view)} — {_WHAT[clock]} is due {slack_time(due, tz)} "
        f"(75 % of its {target} target used)."
    )
    if unassigned:
        text += " Nobody is assigned: assign it from its card in the technician channel."
    return _simple(text)


def breached(
    view: TicketView, clock: str, due: datetime, target: str, tz: tzinfo, *, unassigned: bool
) -> SlackMessage:
    """A DM at a breach: to the assignee, or to the managers when nobody is assigned."""
    text = (
        f"🔴 SLA breached: {ticket_ref(view)} — {_WHAT[clock]} was due {slack_time(due, tz)} "
        f"({target} target)."
    )
    if unassigned:
        text += " Nobody is assigned: assign it from its card in the technician channel."
    return _simple(text)


def breach_note(clock: str, due: datetime, target: str, tz: tzinfo) -> str:
    """The timeline row of a breach (plain text)."""
    return f"{_WHAT[clock]} SLA breached: due {fallback_time(due, tz)} ({target} target)"


def _simple(text: str) -> SlackMessage:
    return SlackMessage(text=fallback(text), blocks=[section(text)])
