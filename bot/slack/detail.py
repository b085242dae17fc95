"""The ticket detail modal (the card's and App Home's *View*): the whole description, the
timeline (internal entries for staff only) and, for staff, each notification's delivery state."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.messages import ids, limits
from bot.messages.blocks import context, divider, fields_section, header, plain_line, section
from bot.messages.chat import INTERNAL_KINDS, timeline_line
from bot.messages.escape import mrkdwn, one_line, safe_cut
from bot.messages.facts import MRKDWN, card_fields, onsite_line, resolution_text
from bot.messages.limits import Block
from bot.messages.sla import slack_line
from bot.messages.view import DeliveryView, TicketView, TimelineEntry

View = dict[str, object]

# Room kept for the lines that say what was left out, and for the sections' own headings.
_CHUNK = limits.SECTION_TEXT - 100
_TIMELINE_TEXT = 1200  # each entry's own text, in the modal (the card and /ticket status: 300)
_STATES = {
    "done": "✅ sent",
    "sending": "📤 sending",
    "parked": "⛔ parked",
}
_CONVERSATION = re.compile(r"[CGUW][A-Z0-9]{2,}")


def detail_modal(
    view: TicketView,
    timeline: Sequence[TimelineEntry],
    deliveries: Sequence[DeliveryView],
    *,
    staff: bool,
) -> View:
    """Within Block Kit's 100 blocks: the description is never cut (it is split over sections);
    the oldest timeline entries and notifications give way, said in a "… n more" line."""
    blocks: list[Block] = [
        header(f"#{view.id} {view.title}"),
        fields_section(card_fields(view)),
    ]
    if view.sla:
        blocks.append(context([slack_line(clock) for clock in view.sla]))
    if view.description.strip():
        blocks.append(section("*Description*"))
        blocks += [section(chunk) for chunk in description_chunks(view.description)]
    if view.onsite is not None:
        blocks.append(section(onsite_line(view, MRKDWN)))
    if view.resolution_note and view.state in ("awaiting_confirmation", "closed"):
        blocks.append(section(resolution_text(view, MRKDWN)))

    entries = [e for e in timeline if staff or not (e.internal or e.kind in INTERNAL_KINDS)]
    timeline_lines = [timeline_line(e, _TIMELINE_TEXT) for e in entries]
    delivery_lines = [delivery_line(d) for d in deliveries] if staff else []
    # Two headings each (divider + title), then what is left is shared by the two lists.
    room = limits.MAX_BLOCKS_VIEW - len(blocks) - (4 if staff else 2)
    for_deliveries = max(1, room // 3) if staff else 0
    blocks += [divider(), section("*Timeline*")]
    blocks += newest_lines(timeline_lines, room - for_deliveries, "_No events yet._")
    if staff:
        blocks += [divider(), section("*Notifications*")]
        blocks += newest_lines(delivery_lines, for_deliveries, "_No notifications._")
    return {
        "type": "modal",
        "callback_id": ids.VIEW_DETAIL,
        "private_metadata": str(view.id),
        "title": plain_line(f"Ticket #{view.id}", limits.VIEW_TITLE),
        "close": plain_line("Close", limits.VIEW_BUTTON),
        "blocks": limits.fit_blocks(blocks, limits.MAX_BLOCKS_VIEW),
    }


def description_chunks(raw: str) -> list[str]:
    """The escaped description in pieces of at most `_CHUNK` characters, cut at a line break
    where there is one, never inside an escape (`&amp;`)."""
    text = mrkdwn(raw).strip()
    chunks: list[str] = []
    while text:
        if len(text) <= _CHUNK:
            cut = len(text)
        else:
            cut = text.rfind("\n", _CHUNK // 2, _CHUNK)
            if cut == -1:
                cut = safe_cut(text, _CHUNK)
        piece, text = text[:cut].strip(), text[cut:].lstrip("\n")
        if piece:
            chunks.append(piece)
    return chunks


def newest_lines(lines: Sequence[str], max_blocks: int, empty: str) -> list[Block]:
    """`lines` packed into at most `max_blocks` sections, keeping the newest (last) ones; the
    first section says how many older ones were left out."""
    if not lines:
        return [section(empty)]
    sections: list[list[str]] = [[]]
    size = 0
    kept = 0
    for line in reversed(lines):
        line = line[: limits.SECTION_TEXT // 2]
        if size + len(line) + 1 > _CHUNK:
            if len(sections) == max_blocks:
                break
            sections.append([])
            size = 0
        sections[-1].append(line)
        size += len(line) + 1
        kept += 1
    if kept < len(lines):
        sections[-1].append(f"_… {len(lines) - kept} earlier not shown_")
    return [section("\n".join(reversed(part))) for part in reversed(sections)]


def delivery_line(d: DeliveryView) -> str:
    """`✅ sent · slack dm → @U123 · 2026-11-26 10:05 UTC`, with the error of a failed one."""
    if d.status == "pending":
        state = "🔁 retrying" if d.attempts else "🕓 waiting"
    else:
        state = _STATES.get(d.status, mrkdwn(one_line(d.status, 20)))
    what = f"{mrkdwn(one_line(d.channel, 20))} {mrkdwn(one_line(d.kind, 32))}"
    if d.target:
        what += f" → {_target(d.target)}"
    line = f"{state} · {what} · {_when(d.delivered_at or d.created_at)}"
    if d.attempts > 1 or (d.attempts and d.status != "done"):
        line += f" · {d.attempts} attempt(s)"
    if d.last_error and d.status != "done":
        line += f" · {mrkdwn(one_line(d.last_error, 200))}"
    return line


def _target(target: str) -> str:
    if _CONVERSATION.fullmatch(target):  # a Slack id: Slack shows its name, pinging nobody
        return f"<@{target}>" if target[0] in "UW" else f"<#{target}>"
    return mrkdwn(one_line(target, 120))


def _when(at: datetime) -> str:
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.strftime("%Y-%m-%d %H:%M UTC")
