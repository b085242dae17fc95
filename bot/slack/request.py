"""A Slack request body whose signature was checked → Bolt's request, parsed once; a body that is
not a Slack payload raises `PayloadError` (answered 400)."""

from __future__ import annotations

import json
import traceback
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltContext, BoltRequest
from slack_bolt.request.internals import build_context

NOT_SLACK_SHAPED = "the payload is not shaped like a Slack request"
# What Bolt's payload helpers and our listeners raise on reading a field of the wrong shape.
SHAPE_ERRORS = (LookupError, TypeError, AttributeError, ValueError)


class PayloadError(ValueError):
    """A signed request body that is not a Slack payload; the message says why, in one line."""


def bolt_request(headers: dict[str, str], query: str, body: bytes) -> BoltRequest:
    """Bolt's request for `body`, parsed here rather than by Bolt. Raises `PayloadError`, or one
    of `SHAPE_ERRORS` when a field Bolt reads (team, user, authorizations, …) is of the wrong shape.

    Bolt's own parsing raises on a body it cannot read (the server then answered 500), and
    slack-bolt 1.30 takes any form body that merely contains the word "payload" for an
    interactivity payload (`/ticket the payload server is down` parsed as {} and got a 404).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # Slack sends UTF-8; anything else is not from Slack
        raise PayloadError("request body is not UTF-8") from None
    request = BoltRequest(body="", query=query, headers={**headers})
    payload = parse_payload(text, request.content_type)
    context = build_context(BoltContext({}), payload)
    request.raw_body = text
    request.body = payload
    request.context = context
    return request


def parse_payload(text: str, content_type: str | None) -> dict[str, Any]:
    """The body as Bolt reads it: a JSON object (events), a form whose `payload` field is a JSON
    object (interactivity), or a plain form (commands). Raises `PayloadError`."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        what, document = "the JSON body", text
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in form:
            return form
        what, document = "the form field payload", form["payload"]
    try:
        data = json.loads(document)
    except (ValueError, RecursionError) as e:
        raise PayloadError(f"{what} is not valid JSON ({_short(e)})") from None
    if not isinstance(data, dict):
        raise PayloadError(f"{what} is not a JSON object")
    return data


def shape_error_line(e: BaseException) -> str:
    """One log line for a `SHAPE_ERRORS` exception: what was raised and where (no traceback)."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{NOT_SLACK_SHAPED} ({type(e).__name__}: {_short(e)}{where})"


def _short(e: BaseException) -> str:
    return str(e)[:200] or type(e).__name__
