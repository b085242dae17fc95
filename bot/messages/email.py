"""Email text and HTML for ticket events; the subject `[#N] title` never changes (mail threading).

Inputs are raw text (Slack-encoded text must go through `escape.slack_to_plain` first).
"""

from __future__ import annotations

import html
import re

from bot.messages.blocks import PRIORITY_EMOJI
from bot.messages.escape import clean, one_line
from bot.messages.view import STATE_LABELS, EmailContent, PersonRef, TicketView

SUBJECT_LIMIT = 200
BODY_LIMIT = 20000
FOOTER = "Reply in Slack, or contact your IT provider."
_SAFE_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


def subject(view: TicketView) -> str:
    return one_line(f"[#{view.id}] {view.title}", SUBJECT_LIMIT)


def _person(person: PersonRef | None, default: str = "—") -> str:
    if person is None:
        return default
    return one_line(person.name or person.email or person.slack_id or default, 100)


def _facts(view: TicketView) -> list[tuple[str, str]]:
    client = "Unknown company" if view.client_unknown else one_line(view.client_name or "—", 200)
    priority = f"{PRIORITY_EMOJI.get(view.priority, '')} {one_line(view.priority, 20)}".strip()
    return [
        ("Priority", priority),
        ("State", STATE_LABELS.get(view.state) or one_line(view.state, 40)),
        ("Client", client),
        ("Assignee", _person(view.assignee, "Unassigned")),
    ]


def _body_text(raw: str) -> str:
    text = clean(raw).strip()
    if len(text) > BODY_LIMIT:
        text = text[: BODY_LIMIT - 14].rstrip() + "… (truncated)"
    return text


def _paragraphs_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        '<p style="margin:0 0 12px 0">' + html.escape(p).replace("\n", "<br>\n") + "</p>\n"
        for p in paragraphs
    )


def ticket_email(
    view: TicketView, headline: str, body: str, *, action_hint: str | None = None
) -> EmailContent:
    """An email about `view`: headline, body paragraphs, an optional call to action, the facts."""
    headline = one_line(headline, 300)
    body = _body_text(body)
    hint = one_line(action_hint, 500) if action_hint else ""
    facts = _facts(view)

    text_parts = [headline, body, hint, "\n".join(f"{k}: {v}" for k, v in facts), f"-- \n{FOOTER}"]
    text = "\n\n".join(p for p in text_parts if p) + "\n"

    rows = "".join(
        f'<tr><td style="padding:2px 12px 2px 0;color:#666">{html.escape(k)}</td>'
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in facts
    )
    hint_html = (
        f'<p style="margin:0 0 12px 0"><strong>{html.escape(hint)}</strong></p>' if hint else ""
    )
    html_part = (
        "<!DOCTYPE html>\n"
        '<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">\n'
        f'<h2 style="font-size:18px;margin:0 0 12px 0">{html.escape(headline)}</h2>\n'
        f"{_paragraphs_html(body)}{hint_html}\n"
        f'<table style="border-collapse:collapse;font-size:13px;margin:12px 0">{rows}</table>\n'
        f'<p style="color:#888;font-size:12px;margin-top:24px">{html.escape(FOOTER)}</p>\n'
        "</body></html>\n"
    )
    return EmailContent(subject=subject(view), text=text, html=html_part)


def _ref(view: TicketView) -> str:
    return f"#{view.id} {one_line(view.title, 150)}"


def received(view: TicketView) -> EmailContent:
    body = f"We received your ticket {_ref(view)}.\n\n{view.description}"
    return ticket_email(
        view,
        f"Ticket #{view.id} received — priority {view.priority}",
        body,
        action_hint="We'll keep you posted by email and in the ticket's chat thread.",
    )


def critical_alert(view: TicketView) -> EmailContent:
    """To every technician when a ticket becomes critical."""
    submitter = _person(view.submitter)
    lines = [f"Critical ticket {_ref(view)}, reported by {submitter}."]
    if view.source == "monitoring":
        source = (
            view.source_link if view.source_link and _SAFE_URL.fullmatch(view.source_link) else ""
        )
        lines.append("Raised by monitoring" + (f": {source}" if source else "."))
    body = "\n".join(lines) + f"\n\n{view.description}"
    return ticket_email(
        view,
        f"🔴 Critical: #{view.id} {one_line(view.title, 150)}",
        body,
        action_hint="Pick it up from its card in the technician channel in Slack.",
    )


def assigned(view: TicketView) -> EmailContent:
    who = _person(view.assignee, "nobody yet")
    return ticket_email(
        view, f"Ticket #{view.id} assigned to {who}", f"{who} is now working on {_ref(view)}."
    )


def update(view: TicketView, author: PersonRef, plain_text: str) -> EmailContent:
    """A ticket update; `plain_text` is plain (already converted from Slack encoding)."""
    name = _person(author)
    return ticket_email(view, f"Update on #{view.id} from {name}", plain_text)


def onsite(view: TicketView) -> EmailContent:
    if view.onsite is None:
        return ticket_email(
            view, f"Onsite visit for #{view.id}", f"A technician will come onsite for {_ref(view)}."
        )
    who = _person(view.onsite.who)
    eta = one_line(view.onsite.eta, 100)
    body = f"{who} is on the way for {_ref(view)}. ETA: {eta}."
    if view.onsite.note.strip():
        body += f"\n\n{view.onsite.note}"
    return ticket_email(view, f"{who} is on the way — ETA {eta}", body)


def awaiting_confirmation(view: TicketView) -> EmailContent:
    body = f"{_ref(view)} has been resolved.\n\nHow it was verified:\n{view.resolution_note or '—'}"
    return ticket_email(
        view,
        f"Ticket #{view.id} resolved — please confirm",
        body,
        action_hint=(
            "Please confirm in the ticket's chat thread in Slack or Teams (Confirm fixed / "
            "Still broken), or reply to your IT provider if it is still broken."
        ),
    )


def reopened(view: TicketView, by: PersonRef, reason: str) -> EmailContent:
    body = f"{_person(by)} reopened {_ref(view)}: it is still broken."
    if reason.strip():
        body += f"\n\n{reason}"
    return ticket_email(view, f"Ticket #{view.id} reopened", body)


def confirm_reminder(view: TicketView, waited: str) -> EmailContent:
    body = (
        f"{_ref(view)} was resolved {waited} ago and is still waiting for your confirmation."
        f"\n\nHow it was verified:\n{view.resolution_note or '—'}"
    )
    return ticket_email(
        view,
        f"Ticket #{view.id} — is it fixed for you?",
        body,
        action_hint=(
            "Please confirm in the ticket's chat thread in Slack or Teams (Confirm fixed / "
            "Still broken), or reply to your IT provider if it is still broken."
        ),
    )


def closed(view: TicketView, by: PersonRef, *, unconfirmed_for: str | None = None) -> EmailContent:
    body = f"{_ref(view)} is closed — confirmed fixed by {_person(by)}."
    if unconfirmed_for is not None:
        body = (
            f"{_ref(view)} is closed automatically: it was resolved, and nobody confirmed the "
            f"fix or reported it still broken within {unconfirmed_for}. If it is still broken, "
            f"please open a new ticket and mention #{view.id}."
        )
    if view.resolution_note:
        body += f"\n\nHow it was verified:\n{view.resolution_note}"
    return ticket_email(view, f"Ticket #{view.id} closed", body, action_hint="Thank you!")
