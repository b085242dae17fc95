"""The technician-channel ticket card, posted once and then updated in place with chat.update."""

from __future__ import annotations

from bot.messages import ids, limits
from bot.messages.blocks import (
    FINAL_STATES,
    PRIORITY_EMOJI,
    actions,
    affected_label,
    age,
    button,
    check_mention,
    context,
    fallback,
    fields_section,
    header,
    link,
    name_of,
    option,
    people,
    priority_label,
    section,
    state_label,
    who,
)
from bot.messages.escape import mrkdwn, one_line, truncate
from bot.messages.limits import Block
from bot.messages.sla import slack_line
from bot.messages.view import PRIORITIES, SlackMessage, TicketView

UNKNOWN_CLIENT = "⚠️ Unknown company — manager: please check"
_FINAL_LINES = {
    "closed": "🏁 Closed — confirmed fixed. This card is final.",
    "cancelled": "🚫 Cancelled. This card is final.",
}


def ticket_card(view: TicketView, *, mention: str | None = None) -> SlackMessage:
    """The card; `mention` (Slack syntax such as `<!here>`, from our config) pings the channel."""

    def bid(part: str) -> str:
        # Block ids must change on every chat.update iteration; action ids must not.
        return f"card-{view.id}-v{view.version}-{part}"

    blocks: list[Block] = []
    ping = check_mention(mention) if mention else ""
    if ping:
        emoji = PRIORITY_EMOJI.get(view.priority, "")
        blocks.append(section(f"{ping} {emoji} *#{view.id}* needs attention", bid("mention")))
    blocks.append(header(f"#{view.id} {view.title}", bid("header")))
    blocks.append(fields_section(card_fields(view), bid("fields")))
    if view.sla:
        blocks.append(context([slack_line(clock) for clock in view.sla], bid("sla")))
    if view.description.strip():
        blocks.append(section(mrkdwn(view.description), bid("description")))
    if view.source == "monitoring":
        source = link(view.source_link, "alert source")
        line = "📟 Raised by monitoring" + (f" · {source}" if view.source_link else "")
        blocks.append(context([line], bid("source")))
    if view.onsite is not None:
        blocks.append(section(onsite_line(view), bid("onsite")))
    if view.resolution_note and view.state in ("awaiting_confirmation", "closed"):
        blocks.append(section(resolution_text(view), bid("resolution")))
    if view.state in FINAL_STATES:
        blocks.append(context([_FINAL_LINES[view.state]], bid("final")))
    else:
        blocks.append(actions(card_actions(view), bid("actions")))

    text = summary_line(view)
    return SlackMessage(
        text=fallback(f"{ping} {text}" if ping else text),
        blocks=limits.fit_blocks(blocks, limits.MAX_BLOCKS_MESSAGE),
    )


def summary_line(view: TicketView) -> str:
    """`🔴 #12 Internet down at HQ — critical, new` (safe mrkdwn)."""
    emoji = PRIORITY_EMOJI.get(view.priority, "")
    title = mrkdwn(one_line(view.title, 200))
    state = state_label(view.state).lower()
    return f"{emoji} #{view.id} {title} — {mrkdwn(one_line(view.priority, 30))}, {state}".strip()


def card_fields(view: TicketView) -> list[str]:
    if view.client_unknown:
        client = UNKNOWN_CLIENT
    elif view.client_name:
        client = mrkdwn(one_line(view.client_name, 200))
        if view.client_match:
            client += f" ({mrkdwn(one_line(view.client_match, 200))})"
    else:
        client = "—"
    submitter = who(view.submitter)
    if not submitter.startswith("<@") and view.submitter.name and view.submitter.email:
        email = mrkdwn(one_line(view.submitter.email, 200))
        submitter = f"{name_of(view.submitter)} ({email})"
    return [
        f"*Priority*\n{priority_label(view.priority)}",
        f"*State*\n{state_label(view.state)}",
        f"*Client*\n{client}",
        f"*Submitter*\n{submitter}",
        f"*Assignee*\n{who(view.assignee, default='Unassigned')}",
        f"*Helpers*\n{people(view.helpers, 1000)}",
        f"*Age*\n{age(view.created_at, view.now)}",
        f"*Affected*\n{affected_label(view.affected)}",
    ]


def onsite_line(view: TicketView) -> str:
    if view.onsite is None:
        return ""
    eta = mrkdwn(one_line(view.onsite.eta, 100))
    line = f"🚗 *Onsite:* {who(view.onsite.who)} is on the way, ETA {eta}"
    if view.onsite.note.strip():
        line += "\n" + truncate(mrkdwn(view.onsite.note), 1000)
    return line


def resolution_text(view: TicketView) -> str:
    note = truncate(mrkdwn(view.resolution_note or ""), 2000)
    lead = "✅ *Resolved — how it was verified:*"
    if view.state == "awaiting_confirmation":
        lead = "⏳ *Resolved, awaiting confirmation — how it was verified:*"
    return f"{lead}\n{note}"


def priority_options() -> list[Block]:
    return [option(priority_label(p), p) for p in PRIORITIES]


def card_actions(view: TicketView) -> list[Block]:
    """All card controls (a click is checked against state and role); Make critical if not yet."""
    value = str(view.id)
    elements = [
        button(ids.ASSIGN, "Reassign" if view.assignee else "Assign", value),
        button(ids.START, "Start work", value),
    ]
    if view.priority != "critical":
        elements.append(button(ids.MAKE_CRITICAL, "Make critical", value, "danger"))
    select: Block = {
        "type": "static_select",
        "action_id": ids.SET_PRIORITY,
        "placeholder": {"type": "plain_text", "text": "Priority", "emoji": True},
        "options": priority_options(),
    }
    if view.priority in PRIORITIES:
        select["initial_option"] = option(priority_label(view.priority), view.priority)
    elements += [
        select,
        button(ids.REQUEST_HELP, "Request help", value),
        button(ids.DISPATCH, "Dispatch onsite", value),
        button(ids.RESOLVE, "Resolve", value, "primary"),
        button(ids.VIEW_TICKET, "View", value),
    ]
    return elements
