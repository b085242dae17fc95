"""The one place that turns failures into words for the user (and an error id in the log)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse

from bot.domain.tickets import TransitionError
from bot.service.errors import ServiceError
from bot.slack.request import NOT_SLACK_SHAPED, SHAPE_ERRORS, shape_error_line

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str | None:
    """The plain-words message for an expected failure; None for a bug or an outage."""
    if isinstance(exc, TransitionError | ServiceError):
        return exc.message
    return None


def internal_error_message(exc: BaseException) -> str:
    """Log `exc` with a fresh error id and return what to tell the user."""
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected failure (error id %s)", error_id, exc_info=exc)
    return (
        f"Sorry, something went wrong on our side (error id {error_id}). Nothing was lost; "
        "please try again in a minute."
    )


def register(app: App) -> None:
    @app.error
    def handle_unexpected_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        # A listener, a matcher or Bolt's middleware raised: Bolt answers 500 unless told.
        kind = body.get("type") or body.get("command") or "Slack"
        if isinstance(error, SHAPE_ERRORS):  # a field of the wrong shape: not what Slack sends
            log.warning("refused a %s request: %s", kind, shape_error_line(error))
            return BoltResponse(
                status=400,
                body=json.dumps({"error": NOT_SLACK_SHAPED}),
                headers={"content-type": "application/json"},
            )
        # Slack retries an event on any answer but a 2xx.
        log.error("listener failed for a %s request", kind, exc_info=error)
        return None
