"""The email rows: one per recipient and ticket event, threaded on the ticket (Message-ID,
In-Reply-To, References); and the monthly report's mail."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from bot.messages.view import EmailContent
from bot.service.notify.rows import Rows
from bot.service.notify.streams import stream
from storage.models import Ticket


class Mail(Rows):
    """Email rows; none when email is off (no TICKETBOT_EMAIL_DOMAIN)."""

    def email(
        self,
        session: Session,
        ticket: Ticket,
        to: Iterable[str],
        content: EmailContent,
        *,
        root: bool = False,
    ) -> None:
        """One message per ticket event, one outbox row per recipient, threaded on the ticket.

        The ticket's first mail (`root`) has a Message-ID derived from the ticket; every later
        one answers it (In-Reply-To / References), so each mail client shows one thread.
        """
        domain = self._settings.email_domain
        recipients = sorted({a.strip().lower() for a in to if a and "@" in a})
        if domain is None or not recipients:
            return
        stamp = int(ticket.created_at.timestamp())
        root_id = f"<ticket-{ticket.id}.{stamp}@{domain}>"
        headers: dict[str, str | None] = {
            "message_id": root_id,
            "in_reply_to": None,
            "references": None,
        }
        if not root:
            headers = {
                "message_id": f"<ticket-{ticket.id}.{stamp}.{secrets.token_hex(6)}@{domain}>",
                "in_reply_to": root_id,
                "references": root_id,
            }
        for address in recipients:
            self._outbox.add(
                session,
                channel="email",
                kind="email",
                stream=stream("email", "recipient", ticket.id, address),
                ticket_id=ticket.id,
                payload={
                    "to": address,
                    "subject": content.subject,
                    "text": content.text,
                    "html": content.html,
                    "ticket_id": ticket.id,
                    **headers,
                },
            )

    def report_email(
        self,
        session: Session,
        *,
        to: str,
        key: str,
        subject: str,
        text: str,
        html: str,
        filename: str,
    ) -> int:
        """A report mail (no ticket): `html` is its HTML part and, as `filename`, an attachment
        to open or print; `key` makes its Message-ID. Returns the rows written (0: email off)."""
        domain = self._settings.email_domain
        address = to.strip().lower()
        if domain is None or "@" not in address:
            return 0
        self._outbox.add(
            session,
            channel="email",
            kind="email",
            stream=stream("email", "recipient", key, address),
            payload={
                "to": address,
                "subject": subject,
                "text": text,
                "html": html,
                "attachment": {"filename": filename, "content": html, "subtype": "html"},
                "message_id": f"<{key}@{domain}>",
            },
        )
        return 1
