"""SMTP adapter: builds threaded text+HTML messages and sends them with smtplib."""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from bot.config.email import SmtpSettings
from bot.messages.escape import one_line
from bot.outbox.errors import DeliveryError


def build_message(payload: dict[str, Any], sender: str) -> EmailMessage:
    """The EmailMessage for one outbox row; header values never carry CR/LF."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = _address(str(payload["to"]))
    msg["Subject"] = one_line(str(payload["subject"]), 200)
    msg["Message-ID"] = one_line(str(payload["message_id"]), 300)
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = one_line(str(payload["in_reply_to"]), 300)
    if payload.get("references"):
        msg["References"] = one_line(str(payload["references"]), 2000)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    if payload.get("ticket_id") is not None:
        msg["X-Ticket-ID"] = str(int(payload["ticket_id"]))
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(str(payload["text"]))
    msg.add_alternative(str(payload["html"]), subtype="html")
    attachment = payload.get("attachment")
    if isinstance(attachment, dict):
        msg.add_attachment(
            str(attachment["content"]),
            subtype=str(attachment.get("subtype") or "plain"),
            filename=one_line(str(attachment["filename"]), 100),
        )
    # Else the generator draws one from the global `random` generator, which is the caller's.
    for part in msg.walk():
        if part.is_multipart():
            part.set_boundary(f"=_{secrets.token_hex(16)}")
    return msg


def _address(raw: str) -> str:
    if "\r" in raw or "\n" in raw:
        raise DeliveryError("recipient address contains a line break", transient=False)
    try:
        local, domain = raw.rsplit("@", 1)
        return str(Address(addr_spec=f"{local}@{domain}"))
    except (ValueError, IndexError) as e:
        raise DeliveryError(f"invalid recipient address: {e}", transient=False) from None


class EmailSender:
    """Sends one message per call. SMTP 4xx and connection trouble are transient; 5xx permanent."""

    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        *,
        smtp_factory: Callable[..., smtplib.SMTP] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._settings = settings
        self._sender = sender
        self._factory = smtp_factory
        self._timeout = timeout

    def send(self, payload: dict[str, Any]) -> str:
        msg = build_message(payload, self._sender)
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            code = min((c for c, _ in e.recipients.values()), default=550)
            raise DeliveryError(
                f"recipient refused ({code})", transient=400 <= code < 500
            ) from None
        except smtplib.SMTPResponseException as e:
            raise DeliveryError(f"SMTP {e.smtp_code}", transient=400 <= e.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP unavailable: {type(e).__name__}", transient=True) from None
        if refused:
            raise DeliveryError("recipient refused", transient=False)
        return str(msg["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if self._factory is not None:
            smtp = self._factory(s.host, s.port, timeout=self._timeout)
        elif s.ssl:
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self._timeout)
        if s.starttls and not s.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password.reveal() if s.password else "")
        return smtp
