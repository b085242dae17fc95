"""Slack messages and emails for monitoring alerts: ticket raised, alerts joining, recovery, storms.

Alert text is untrusted: every label, annotation and title goes through `mrkdwn` / `one_line`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.messages import limits
from bot.messages.blocks import (
    PRIORITY_EMOJI,
    check_mention,
    context,
    fallback,
    link,
    packed_lines,
    priority_text,
    section,
    ticket_ref,
)
from bot.messages.email import ticket_email
from bot.messages.escape import mrkdwn, one_line
from bot.messages.view import EmailContent, SlackMessage, TicketView

LIST_BUDGET = 2500  # characters of alert lines in one update message
# Characters of ticket lines in the storm summary: ~600 tickets in 13 sections, well inside
# Slack's 50 blocks of 3,000 characters each.
STORM_BUDGET = 39_000


@dataclass(frozen=True)
class StormLine:
    ticket_id: int
    priority: str
    client: str | None
    title: str


def _message(text: str, blocks: Sequence[limits.Block]) -> SlackMessage:
    return SlackMessage(
        text=fallback(text), blocks=limits.fit_blocks(blocks, limits.MAX_BLOCKS_MESSAGE)
    )


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _source_line(view: TicketView) -> str:
    return "📟 Raised by monitoring" + (
        f" · {link(view.source_link, 'alert source')}" if view.source_link else ""
    )


def _alert_lines(titles: Sequence[str]) -> list[str]:
    return [f"• {mrkdwn(one_line(t, 200))}" for t in titles]


def received(view: TicketView, previous: int | None = None) -> SlackMessage:
    """Client-thread root of a ticket that monitoring raised."""
    text = (
        f"🚨 Monitoring raised ticket #{view.id} — priority {priority_text(view.priority)}. "
        "Our technicians are on it; we'll keep you posted in this thread."
    )
    notes = [f"*{mrkdwn(one_line(view.title, 300))}*"]
    if previous is not None:
        notes.append(f"The same alert fired again after #{previous} was closed.")
    return _message(text, [section(text), context(notes)])


def joined(view: TicketView, titles: Sequence[str], again: Sequence[str]) -> SlackMessage:
    """Card thread: more alerts of the same problem (one message per notification)."""
    parts = []
    if titles:
        parts.append(f"📟 {len(titles)} more alert(s) joined {ticket_ref(view)}:")
        parts.extend(_alert_lines(titles))
    if again:
        parts.append(f"🔁 Firing again on {ticket_ref(view)}:")
        parts.extend(_alert_lines(again))
    text = parts[0]
    return _message(text, packed_lines(parts, LIST_BUDGET))


def partly_recovered(view: TicketView, titles: Sequence[str], still: int) -> SlackMessage:
    """Card thread: some alerts of the group recovered, others still fire."""
    head = f"🟢 {len(titles)} alert(s) of {ticket_ref(view)} recovered; {still} still firing:"
    return _message(head, packed_lines([head, *_alert_lines(titles)], LIST_BUDGET))


def recovered(view: TicketView, at: datetime) -> SlackMessage:
    """Card and client thread: the whole problem recovered; the ticket stays open."""
    text = (
        f"✅ Monitoring reports #{view.id} recovered at {_when(at)}. "
        "The ticket stays open until the fix is verified and confirmed."
    )
    return _message(text, [section(text)])


def verify_dm(view: TicketView, at: datetime) -> SlackMessage:
    text = (
        f"✅ Monitoring reports {ticket_ref(view)} recovered at {_when(at)}. Please verify the "
        "fix, then click *Resolve* on its card with how you confirmed it."
    )
    return _message(text, [section(text)])


def unknown_client_dm(view: TicketView, labels: dict[str, str]) -> SlackMessage:
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())[:12])
    text = (
        f"⚠️ Alert ticket {ticket_ref(view)} matched no client, so it is an MSP-internal ticket. "
        "To route this alert's tickets to a client, give the client an alert label, e.g. "
        '`ticketbot clients update --name "NAME" --alert-label KEY=VALUE`.'
    )
    blocks = [section(text)]
    if shown:
        blocks.append(context([f"Labels: {mrkdwn(one_line(shown, 1500))}"]))
    return _message(text, blocks)


def storm_summary(
    lines: Sequence[StormLine], total: int, started_at: datetime, mention: str
) -> SlackMessage:
    """Technician channel, updated in place: every ticket of the storm, newest first."""
    head = (
        f"{check_mention(mention)} 🌩️ *Alert storm:* {total} new monitoring ticket(s) since "
        f"{_when(started_at)}. They are listed here instead of one card each; "
        "their cards follow in this thread."
    )
    rows = [
        f"{PRIORITY_EMOJI.get(line.priority, '')} *#{line.ticket_id}* "
        f"{mrkdwn(one_line(line.title, 80))}"
        + (f" — {mrkdwn(one_line(line.client, 40))}" if line.client else " — MSP-internal")
        for line in lines
    ]
    blocks = [section(head), *packed_lines(rows, STORM_BUDGET, more="… and {n} more")]
    return _message(f"🌩️ Alert storm: {total} new monitoring tickets", blocks)


def storm_dm(total: int, started_at: datetime) -> SlackMessage:
    text = (
        f"🌩️ Alert storm since {_when(started_at)}: {total} new critical ticket(s) so far. "
        "The technician channel shows them in one summary message; assign from the cards in "
        "its thread."
    )
    return _message(text, [section(text)])


# --- email --------------------------------------------------------------------------------------


def email_received(view: TicketView) -> EmailContent:
    body = f"Our monitoring raised ticket #{view.id}: {one_line(view.title, 300)}.\n\n"
    return ticket_email(
        view,
        f"Ticket #{view.id} raised by monitoring — priority {view.priority}",
        body + view.description,
        action_hint="Our technicians are on it; we'll keep you posted by email.",
    )


def email_joined(view: TicketView, titles: Sequence[str], again: Sequence[str]) -> EmailContent:
    lines = [f"More alerts joined #{view.id}:", *(f"- {t}" for t in titles)] if titles else []
    if again:
        lines += [f"Firing again on #{view.id}:", *(f"- {t}" for t in again)]
    return ticket_email(view, f"Update on #{view.id} from monitoring", "\n".join(lines))


def email_recovered(view: TicketView, at: datetime) -> EmailContent:
    return ticket_email(
        view,
        f"Monitoring reports #{view.id} recovered",
        f"Monitoring reports the problem recovered at {_when(at)}.",
        action_hint="The ticket stays open until the fix is verified and confirmed.",
    )
