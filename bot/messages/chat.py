"""A chat message per row of the notification matrix (`bot/service/notify/matrix.py`) and
/ticket replies.

User text is escaped with `mrkdwn`; text arriving Slack-encoded goes through `neutralise_encoded`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.messages import ids, limits
from bot.messages.blocks import (
    FINAL_STATES,
    actions,
    age,
    button,
    check_mention,
    chunked_sections,
    context,
    divider,
    fallback,
    fields_section,
    header,
    name_of,
    packed_lines,
    people,
    priority_text,
    section,
    state_label,
    ticket_ref,
    who,
)
from bot.messages.escape import mrkdwn, neutralise_encoded, one_line, truncate
from bot.messages.facts import MRKDWN, card_fields, onsite_line, resolution_text
from bot.messages.limits import Block
from bot.messages.view import PersonRef, SlackMessage, TicketView, TimelineEntry

# Timeline rows never shown to clients: a technician's note, a reply by someone else in a card's
# thread.
INTERNAL_KINDS = frozenset({"internal_note", "internal_comment"})


def _message(text: str, blocks: Sequence[Block]) -> SlackMessage:
    return SlackMessage(
        text=fallback(text), blocks=limits.fit_blocks(blocks, limits.MAX_BLOCKS_MESSAGE)
    )


def _simple(text: str) -> SlackMessage:
    return _message(text, [section(text)])


def _quote(raw: str, limit: int = 1500) -> str:
    """Raw text as an escaped mrkdwn block quote."""
    return "\n".join("> " + line for line in truncate(mrkdwn(raw), limit).split("\n"))


# --- client thread and technician channel -------------------------------------------------------


def received(view: TicketView) -> SlackMessage:
    """Client-thread root for a new ticket."""
    text = (
        f"Ticket #{view.id} received — priority {priority_text(view.priority)}. "
        "We'll keep you posted in this thread."
    )
    title = mrkdwn(one_line(view.title, 300))
    return _message(text, [section(text), context([f"*{title}*"])])


def assigned(view: TicketView) -> SlackMessage:
    text = f"Assigned to {who(view.assignee)}." if view.assignee else "The ticket is unassigned."
    return _simple(text)


def assignee_dm(view: TicketView, by: PersonRef) -> SlackMessage:
    text = f"👋 {who(by)} assigned you {ticket_ref(view)} ({priority_text(view.priority)})."
    blocks = [section(text), fields_section(card_fields(view)[:4])]
    if view.description.strip():
        blocks.append(section(truncate(mrkdwn(view.description), 1000)))
    return _message(text, blocks)


def reassigned_dm(view: TicketView, by: PersonRef) -> SlackMessage:
    """To the technician a ticket was taken from."""
    new = who(view.assignee) if view.assignee else "someone else"
    return _simple(f"↪️ {who(by)} reassigned {ticket_ref(view)} to {new}; it is off your list.")


def manager_critical_dm(view: TicketView) -> SlackMessage:
    client = "an unknown company"
    if not view.client_unknown:
        client = mrkdwn(one_line(view.client_name or "—", 200))
    owner = f"assigned to {who(view.assignee)}" if view.assignee else "*unassigned*"
    text = (
        f"🔴 Critical ticket {ticket_ref(view)} — client {client}, {owner}. "
        "Assign it from its card in the technician channel."
    )
    return _simple(text)


def unknown_client_dm(view: TicketView) -> SlackMessage:
    email = view.submitter.email or ""
    domain = email.rpartition("@")[2] if "@" in email else "DOMAIN"
    command = (
        f'ticketbot clients add --name "NAME" --domain {one_line(domain, 100)} '
        "--contact-email EMAIL"
    )
    text = (
        f"⚠️ Ticket {ticket_ref(view)} from {who(view.submitter)} matched no known client company. "
        "Check who it is for; to add the company, run:"
    )
    return _message(text, [section(f"{text}\n```{mrkdwn(command)}```")])


def critical_ping(view: TicketView, mention: str) -> SlackMessage:
    """Technician channel: `<!here> 🔴 #N is now critical: title`."""
    title = mrkdwn(one_line(view.title, 300))
    text = f"{check_mention(mention)} 🔴 *#{view.id}* is now critical: {title}"
    return _simple(text)


def reping(view: TicketView, mention: str, waited: str) -> SlackMessage:
    """Card thread: an unassigned critical ticket pings the channel again."""
    text = (
        f"{check_mention(mention)} ⏰ {ticket_ref(view)} is critical and still unassigned after "
        f"{waited}. Managers: please assign it from the card above."
    )
    return _simple(text)


def reping_manager_dm(view: TicketView, waited: str) -> SlackMessage:
    client = "an unknown company"
    if not view.client_unknown:
        client = mrkdwn(one_line(view.client_name or "—", 200))
    text = (
        f"⏰ Critical ticket {ticket_ref(view)} — client {client} — is still unassigned after "
        f"{waited}. Assign it from its card in the technician channel."
    )
    return _simple(text)


def silent_assignee_dm(view: TicketView, silent: str) -> SlackMessage:
    text = (
        f"⏰ No technician update on {ticket_ref(view)} ({priority_text(view.priority)}) for "
        f"{silent}. The client is waiting to hear: please post an update in the card's thread."
    )
    return _simple(text)


def silent_manager_dm(view: TicketView, silent: str) -> SlackMessage:
    text = (
        f"⚠️ {ticket_ref(view)} ({priority_text(view.priority)}), assigned to "
        f"{who(view.assignee)}, has had no technician update for {silent}. Check in with them, "
        "or reassign it from its card in the technician channel."
    )
    return _simple(text)


def confirm_reminder(view: TicketView, waited: str) -> SlackMessage:
    """Client thread: the resolved ticket still waits for the client's word."""
    text = (
        f"⏳ {ticket_ref(view)} was resolved {waited} ago and is waiting for your confirmation. "
        "Is it fixed for you? Please answer with the Confirm fixed or Still broken button above."
    )
    return _simple(text)


def confirm_overdue_dm(view: TicketView, waited: str) -> SlackMessage:
    """To the managers: a critical ticket is never closed without a confirmation."""
    text = (
        f"⏳ Critical ticket {ticket_ref(view)} has waited {waited} for the client to confirm "
        "the fix. Critical tickets are never closed automatically: follow up with the client, "
        "or confirm it on their behalf with the Confirm fixed button in their thread."
    )
    return _simple(text)


def mirrored(author: PersonRef, role_label: str, encoded_text: str) -> SlackMessage:
    """A message mirrored between threads, attributed by name (no mention, so nobody is pinged)."""
    lead = f"*{name_of(author)}* ({mrkdwn(one_line(role_label, 40))}):"
    body = truncate(neutralise_encoded(encoded_text), limits.MESSAGE_BLOCK_TEXT - 200)
    text = f"{lead} {body}" if "\n" not in body else f"{lead}\n{body}"
    return _message(f"{lead} {body}", chunked_sections(text))


def help_request(view: TicketView, requester: PersonRef) -> SlackMessage:
    text = (
        f"🙋 {ticket_ref(view)} needs more hands — {who(requester)} is asking for help "
        f"({priority_text(view.priority)})."
    )
    offer = button(ids.OFFER_HELP, "I can help", str(view.id), "primary")
    return _message(text, [section(text), actions([offer], f"help-{view.id}")])


def helper_added(view: TicketView, helper: PersonRef) -> SlackMessage:
    return _simple(f"🤝 {who(helper)} is helping on {ticket_ref(view)}.")


def onsite(view: TicketView) -> SlackMessage:
    """Raises ValueError when the ticket has no onsite dispatch."""
    if view.onsite is None:
        raise ValueError(f"ticket #{view.id} has no onsite dispatch")
    eta = mrkdwn(one_line(view.onsite.eta, 100))
    text = f"🚗 {who(view.onsite.who)} is on the way, ETA {eta}."
    blocks = [section(text)]
    if view.onsite.note.strip():
        blocks.append(section(_quote(view.onsite.note)))
    return _message(text, blocks)


def onsite_dm(view: TicketView, by: PersonRef) -> SlackMessage:
    """To the person sent onsite. Raises ValueError when the ticket has no onsite dispatch."""
    if view.onsite is None:
        raise ValueError(f"ticket #{view.id} has no onsite dispatch")
    eta = mrkdwn(one_line(view.onsite.eta, 100))
    client = f" at {mrkdwn(view.client_name)}" if view.client_name else ""
    text = f"🚗 {who(by)} is sending you onsite{client} for {ticket_ref(view)} — ETA {eta}."
    blocks = [section(text)]
    if view.onsite.note.strip():
        blocks.append(section(_quote(view.onsite.note)))
    return _message(text, blocks)


def _verification(view: TicketView) -> str:
    note = truncate(mrkdwn(view.resolution_note or "—"), 2000)
    return f"✅ {ticket_ref(view)} has been resolved.\n*How it was verified:*\n{note}"


def awaiting_confirmation(view: TicketView) -> SlackMessage:
    """Client thread: the verification note and the Confirm fixed / Still broken buttons."""
    value = str(view.id)
    blocks = [
        section(_verification(view), f"confirm-{view.id}-v{view.version}-note"),
        section("Is it fixed for you?", f"confirm-{view.id}-v{view.version}-ask"),
        actions(
            [
                button(ids.CONFIRM, "Confirm fixed", value, "primary"),
                button(ids.STILL_BROKEN, "Still broken", value, "danger"),
            ],
            f"confirm-{view.id}-v{view.version}-actions",
        ),
    ]
    return _message(f"✅ #{view.id} has been resolved — is it fixed for you?", blocks)


def confirmation_recorded(
    view: TicketView, by: PersonRef, *, unconfirmed_for: str | None = None
) -> SlackMessage:
    """Replaces `awaiting_confirmation` after a click (closed → confirmed, else → still broken),
    or when the ticket closed by itself, unconfirmed for `unconfirmed_for`."""
    if unconfirmed_for is not None:
        outcome = f"🏁 Closed automatically: nobody answered within {unconfirmed_for}."
    elif view.state == "closed":
        outcome = f"✅ Confirmed fixed by {who(by)}. The ticket is closed."
    else:
        outcome = f"↩️ {who(by)} reported it is still broken — the ticket was reopened."
    blocks = [
        section(_verification(view), f"confirm-{view.id}-v{view.version}-note"),
        context([outcome], f"confirm-{view.id}-v{view.version}-outcome"),
    ]
    return _message(outcome, blocks)


def reopened(view: TicketView, by: PersonRef, reason: str) -> SlackMessage:
    text = f"↩️ {ticket_ref(view)} was reopened by {who(by)} — still broken."
    blocks = [section(text)]
    if reason.strip():
        blocks.append(section(_quote(reason)))
    return _message(text, blocks)


def closed(
    view: TicketView,
    by: PersonRef,
    involved: Sequence[PersonRef],
    *,
    unconfirmed_for: str | None = None,
) -> SlackMessage:
    """Mentions everyone involved, in the blocks and in the notification text. With
    `unconfirmed_for`, the ticket closed by itself after waiting that long for a confirmation."""
    text = f"🏁 {ticket_ref(view)} is closed — confirmed by {who(by)}."
    if unconfirmed_for is not None:
        text = (
            f"🏁 {ticket_ref(view)} is closed automatically — resolved, and nobody confirmed it "
            f"or reported it still broken within {unconfirmed_for}."
        )
    blocks = [section(text)]
    unique = list({(p.slack_id or p.email or p.name): p for p in involved}.values())
    if unique:
        thanks = f"Thanks to everyone involved: {people(unique, 2500)}"
        blocks.append(section(thanks))
        text = f"{text} {thanks}"
    return _message(text, blocks)


def priority_changed(view: TicketView, old: str, by: PersonRef) -> SlackMessage:
    return _simple(
        f"{who(by)} changed the priority of {ticket_ref(view)} from {priority_text(old)} "
        f"to {priority_text(view.priority)}."
    )


def started(view: TicketView, by: PersonRef) -> SlackMessage:
    return _simple(f"🔧 {who(by)} started work on {ticket_ref(view)}.")


# --- /ticket replies (ephemeral) ----------------------------------------------------------------


def _timestamp(at: datetime) -> str:
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    fallback_text = at.strftime("%Y-%m-%d %H:%M UTC")
    # Slack renders <!date^…> in each reader's own time zone; the part after | is the fallback.
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback_text}>"


# Timeline kinds that say more than their name; the entry's text follows after a dash.
_TIMELINE_LABELS = {
    "made_internal": "made internal: mirror removed from the client's thread",
    "made_public": "made public: mirrored to the client",
    "internal_edit": "edited",
}


def timeline_line(entry: TimelineEntry, text_limit: int = 300) -> str:
    """`time · who · what · (surface)`; what staff only see is marked 🔒."""
    label = _TIMELINE_LABELS.get(entry.kind)
    what = mrkdwn(label or one_line(entry.kind, 40).replace("_", " "))
    if entry.internal or entry.kind in INTERNAL_KINDS:
        what = "🔒 " + what
    if entry.text.strip():
        what += (" — " if label else ": ") + mrkdwn(one_line(entry.text, text_limit))
    actor = mrkdwn(one_line(entry.actor, 80)) or "—"
    surface = mrkdwn(one_line(entry.surface, 20))
    return f"{_timestamp(entry.at)} · {actor} · {what} · ({surface})"


def status(
    view: TicketView, timeline: Sequence[TimelineEntry], *, include_internal: bool = False
) -> SlackMessage:
    """Ephemeral status: card summary and the timeline (newest last; oldest dropped if too long).

    Internal notes and comments are left out unless `include_internal` (the caller knows who is
    asking).
    """
    blocks: list[Block] = [
        header(f"#{view.id} {view.title}"),
        fields_section(card_fields(view)),
    ]
    if view.description.strip():
        blocks.append(section(truncate(mrkdwn(view.description), 1000)))
    if view.onsite is not None:
        blocks.append(section(onsite_line(view, MRKDWN)))
    if view.resolution_note and view.state in ("awaiting_confirmation", "closed"):
        blocks.append(section(resolution_text(view, MRKDWN)))
    if view.monitoring is not None:
        m = view.monitoring
        blocks.append(
            context(
                [
                    f"📟 Monitoring: {m.firing} of {m.alerts} alert(s) firing · "
                    f"{m.notifications} notification(s), the last {_timestamp(m.last_seen)}"
                ]
            )
        )
    blocks += [divider(), section("*Timeline*")]

    entries = [
        e for e in timeline if include_internal or not (e.internal or e.kind in INTERNAL_KINDS)
    ]
    budget = limits.MESSAGE_BLOCK_TEXT - limits.block_text_size(blocks) - 200
    kept: list[str] = []
    used = 0
    for entry in reversed(entries):
        line = timeline_line(entry)
        if used + len(line) + 1 > budget or len(kept) >= 200:
            break
        kept.append(line)
        used += len(line) + 1
    lines = list(reversed(kept))
    if len(kept) < len(entries):
        lines.insert(0, f"_… {len(entries) - len(kept)} earlier entries not shown_")
    if not lines:
        lines = ["_No events yet._"]
    blocks += packed_lines(lines, budget + 200)
    text = f"#{view.id} {mrkdwn(one_line(view.title, 200))} — {state_label(view.state)}"
    return _message(text, blocks)


def ticket_list(views: Sequence[TicketView]) -> SlackMessage:
    """Ephemeral list of the caller's open tickets."""
    open_views = [v for v in views if v.state not in FINAL_STATES]
    if not open_views:
        return _simple("You have no open tickets. 🎉")
    lines = [
        f"{ticket_ref(v, 120)} — {state_label(v.state)} · {priority_text(v.priority)} · "
        f"{age(v.created_at, v.now)} · {who(v.assignee, default='unassigned')}"
        for v in open_views
    ]
    head = f"*Your open tickets* ({len(open_views)})"
    blocks = [section(head), *packed_lines(lines, limits.MESSAGE_BLOCK_TEXT - 500)]
    return _message(head, blocks)


def help_text(command: str = ids.COMMAND) -> SlackMessage:
    """How to use the command (`/ticket` in Slack; `ticket` in a Teams chat with the bot)."""
    c = command
    lines = [
        "*How to use* `" + c + "`",
        f"• `{c}` — open a form to report a problem (title, details, priority, who is affected)",
        f"• `{c} &lt;title&gt;` — report a problem quickly, e.g. `{c} printer on floor 3 jammed`",
        f"• `{c} list` — your open tickets",
        f"• `{c} status &lt;id&gt;` — where a ticket stands, with its timeline",
        f"• `{c} help` — this help",
        "Follow your ticket in its thread; we also email you about every change.",
    ]
    return _message(f"How to use {c}", [section("\n".join(lines))])


def not_an_update(ticket_id: int) -> SlackMessage:
    """To someone who is not a technician or manager, after their reply in a card's thread."""
    return _simple(
        f"Only technicians and managers can post updates to the client, so your reply is kept "
        f"here as an internal comment on ticket #{ticket_id}: the client did not see it and "
        "was not emailed."
    )


def refused(message: str) -> SlackMessage:
    """An ephemeral refusal; `message` is plain text and is escaped."""
    text = f"⛔ {mrkdwn(message)}"
    return _simple(text)
