"""Posting to a Power Automate Workflows webhook (notify-only Teams clients) through pymsteams.

HTTP outcomes become DeliveryError; the webhook URL's secret (sig=…) never appears in an error.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pymsteams
import requests

from bot.messages.escape import one_line
from bot.outbox.errors import DeliveryError, retry_after_seconds
from bot.teams.webhook_urls import (
    CONNECTOR_RETIRED,
    SECRET_PARAMS,
    is_legacy_connector,
    redact,
    secrets_in,
)

log = logging.getLogger(__name__)

# Teams drops a Workflows post bigger than about 28 KB after the webhook has already answered
# 202, so the only place to catch it is here, before sending.
MAX_ENVELOPE_BYTES = 28 * 1024

_PERMANENT = {
    400: "the flow refused the message as malformed",
    401: "the flow refused the signature (was the webhook URL changed or regenerated?)",
    403: "the flow refused the caller (is it turned off, or limited to signed-in users?)",
    404: "no such flow (was the Workflows webhook deleted? create a new one and update the client)",
    413: "the message is too large for the flow",
}


class _RedactSignatures(logging.Filter):
    """urllib3 logs each request line, query and all, at DEBUG: take the sig= values out."""

    _SIG = re.compile(rf"(?i)\b({'|'.join(sorted(SECRET_PARAMS))})=[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message:
            record.msg, record.args = self._SIG.sub(r"\1=REDACTED", message), None
        return True


def _redact_urllib3_logs() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactSignatures) for f in logger.filters):
        logger.addFilter(_RedactSignatures())


class WorkflowsGateway:
    """POSTs one envelope per call. Never retries or sleeps itself: the dispatcher does.

    `timeout` is seconds for connect and for read (pymsteams' `http_timeout`). pymsteams gets no
    proxies of its own; `requests` still honours HTTPS_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE.
    """

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        _redact_urllib3_logs()

    def post(self, url: str, envelope: dict[str, Any]) -> None:
        """Send `envelope` (`{"type": "message", "attachments": [...]}`) as JSON to `url`.

        Returns on any 2xx (Workflows answers 202 with an empty body). Raises DeliveryError:
        transient for 429 (with `retry_after`), 408, 5xx and network trouble; permanent otherwise.
        """
        if is_legacy_connector(url):  # stored before `clients add` refused them
            raise DeliveryError(f"the client's Teams webhook {CONNECTOR_RETIRED}", transient=False)
        size = _encoded_size(envelope)
        if size > MAX_ENVELOPE_BYTES:
            raise DeliveryError(
                f"Workflows message is {size} bytes; Teams drops posts above about "
                f"{MAX_ENVELOPE_BYTES} bytes",
                transient=False,
            )
        card = pymsteams.connectorcard(url, http_timeout=self._timeout)
        card.payload = envelope
        try:
            # send() returns True on any 2xx and raises TeamsWebhookException(body text) on
            # anything else; the status and headers are only on `last_http_response`.
            card.send()
        except pymsteams.TeamsWebhookException:
            raise _http_error(card.last_http_response, url) from None
        except (requests.ConnectionError, requests.Timeout) as e:
            raise DeliveryError(
                f"Workflows webhook unreachable ({type(e).__name__}) at {redact(url)}",
                transient=True,
            ) from None
        except requests.RequestException as e:
            # InvalidURL, MissingSchema, TooManyRedirects…: retrying cannot help. Their text
            # may quote the URL, so only the type is kept.
            raise DeliveryError(
                f"Workflows webhook request failed ({type(e).__name__}) for {redact(url)}",
                transient=False,
            ) from None
        log.debug("posted %d bytes to Workflows webhook %s", size, redact(url))


def _encoded_size(envelope: dict[str, Any]) -> int:
    try:
        return len(json.dumps(envelope, allow_nan=False).encode())
    except (TypeError, ValueError) as e:
        raise DeliveryError(f"Workflows message is not JSON: {e}", transient=False) from None


def _http_error(response: requests.Response | None, url: str) -> DeliveryError:
    if response is None:  # pymsteams raised before a response: not expected, still transient
        return DeliveryError("Workflows webhook gave no response", transient=True)
    status = response.status_code
    where = redact(url)
    detail = _detail(response, url)
    if status == 429:
        return DeliveryError(
            f"Workflows webhook throttled the bot (429) at {where}",
            transient=True,
            retry_after=retry_after_seconds(
                response.headers.get("Retry-After"), response.headers.get("Date")
            ),
        )
    if status == 408 or status >= 500:
        return DeliveryError(
            f"Workflows webhook error {status} at {where}{detail}",
            transient=True,
            retry_after=retry_after_seconds(
                response.headers.get("Retry-After"), response.headers.get("Date")
            ),
        )
    reason = _PERMANENT.get(status, "the flow refused the message")
    return DeliveryError(f"Workflows webhook {status}: {reason} ({where}){detail}", transient=False)


def _detail(response: requests.Response, url: str) -> str:
    """The error code/message Power Automate puts in a JSON body, else the start of the text;
    scrubbed of the URL's secrets before it is cut, so no part of one survives."""
    text = _scrub(response.text or "", url)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        text = f"{err.get('code') or ''} {err.get('message') or ''}"
    text = one_line(text, 200).strip()
    return f": {text}" if text else ""


def _scrub(text: str, url: str) -> str:
    for secret in secrets_in(url):
        text = text.replace(secret, "REDACTED")
    return text
