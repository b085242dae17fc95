"""`POST /slack/events`: Slack's one endpoint, as a bare ASGI app in front of Bolt; signatures
are checked on the raw body before anything parses it."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import Executor

from slack_bolt import App, BoltResponse
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from bot.http.guards import read_body
from bot.slack.request import (
    NOT_SLACK_SHAPED,
    SHAPE_ERRORS,
    PayloadError,
    bolt_request,
    shape_error_line,
)
from bot.slack.signature import SignatureCheck
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1024 * 1024


class SlackEvents:
    """`POST /slack/events` as a bare ASGI app: every Slack command, click and event comes here.

    The signature is checked on the raw body before anything parses it (401); a signed body that
    does not parse is a 400. Bolt's listeners are synchronous, so all of it runs on a pool
    thread, never on the event loop. This is the busiest endpoint, so it skips Starlette's Request
    and Response objects.
    """

    def __init__(
        self, bolt: App | None, signing_secret: str | None, metrics: Metrics, pool: Executor
    ) -> None:
        self._bolt = bolt
        # Over HTTP every request must be signed: no secret, no endpoint (ValueError).
        self._signature = None if bolt is None else SignatureCheck(signing_secret or "")
        self._metrics = metrics
        self._pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bolt, signature = self._bolt, self._signature
        if bolt is None or signature is None:
            await _send_json(send, 404, {"error": "this deployment runs Slack in Socket Mode"})
            return
        # Repeated headers: the last one wins, as in Bolt's own adapters.
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        try:
            body = await read_body(receive, headers.get("content-length"), MAX_SLACK_BODY)
        except ClientDisconnect:  # gone before the whole body came: nothing to answer
            return
        if body is None:
            await _send_json(send, 413, {"error": "request body too large"})
            return
        query = scope["query_string"].decode("latin-1")
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(
            self._pool, _answer, bolt, signature, headers, query, body
        )
        self._metrics.slack_requests.labels(status=str(response.status)).inc()
        # No cookies: this app has no OAuth flow.
        await _send(
            send, response.status, response.body, response.first_headers_without_set_cookie()
        )


def _answer(
    bolt: App, signature: SignatureCheck, headers: dict[str, str], query: str, body: bytes
) -> BoltResponse:
    problem = signature.problem(
        headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature"), body
    )
    if problem is not None:
        log.info("refused a Slack request: %s", problem)
        return _json_answer(401, problem)
    try:
        return bolt.dispatch(bolt_request(headers, query, body))
    except PayloadError as e:
        log.warning("refused a signed Slack request: %s", e)
        return _json_answer(400, str(e))
    except SHAPE_ERRORS as e:
        # A field of the wrong shape that Bolt's payload helpers read before dispatch, or again
        # while reporting the error (handlers.errors answers 400 for what Bolt catches).
        log.warning("refused a signed Slack request: %s", shape_error_line(e))
        return _json_answer(400, NOT_SLACK_SHAPED)


def _json_answer(status: int, error: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=json.dumps({"error": error}),
        headers={"content-type": "application/json"},
    )


async def _send_json(send: Send, status: int, content: dict[str, str]) -> None:
    body = json.dumps(content, separators=(",", ":"))
    await _send(send, status, body, {"content-type": "application/json"})


async def _send(send: Send, status: int, body: str, headers: dict[str, str]) -> None:
    content = body.encode("utf-8")
    raw = [(b"content-length", str(len(content)).encode("latin-1"))]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})
