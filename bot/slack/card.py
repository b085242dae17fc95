"""The technician-channel ticket card in Block Kit, posted once and then updated in place with
chat.update; its facts are bot/messages/facts.py's."""

from __future__ import annotations

from bot.messages import ids, limits
from bot.messages.blocks import (
    FINAL_STATES,
    PRIORITY_EMOJI,
    actions,
    button,
    check_mention,
    context,
    fallback,
    fields_section,
    header,
    link,
    option,
    priority_label,
    section,
)
from bot.messages.escape import mrkdwn
from bot.messages.facts import (
    FINAL_LINES,
    MRKDWN,
    card_fields,
    onsite_line,
    resolution_text,
    summary_line,
)
from bot.messages.limits import Block
from bot.messages.sla import slack_line
from bot.messages.view import PRIORITIES, SlackMessage, TicketView


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
        blocks.append(section(onsite_line(view, MRKDWN), bid("onsite")))
    if view.resolution_note and view.state in ("awaiting_confirmation", "closed"):
        blocks.append(section(resolution_text(view, MRKDWN), bid("resolution")))
    if view.state in FINAL_STATES:
        blocks.append(context([FINAL_LINES[view.state]], bid("final")))
    else:
        blocks.append(actions(card_actions(view), bid("actions")))

    text = summary_line(view, MRKDWN)
    return SlackMessage(
        text=fallback(f"{ping} {text}" if ping else text),
        blocks=limits.fit_blocks(blocks, limits.MAX_BLOCKS_MESSAGE),
    )


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
