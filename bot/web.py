"""The HTTP surface (Starlette on uvicorn): /slack/events, /healthz, /metrics, plus given routes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.request.internals import build_context
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.metrics import Metrics

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1024 * 1024


def build_web_app(
    *,
    bolt: App | None,
    healthy: Callable[[], bool],
    metrics: Metrics,
    slack_pool: Executor,
    routes: Sequence[Route] = (),
) -> ASGIApp:
    """`bolt` is None in Socket Mode: Slack then talks over the websocket, not this endpoint.
    Bolt's listeners run on `slack_pool`'s threads."""

    async def healthz(_: Request) -> Response:
        ok = await run_in_threadpool(healthy)
        return JSONResponse({"ok": ok}, 200 if ok else 503)

    async def metrics_endpoint(_: Request) -> Response:
        text = await run_in_threadpool(metrics.render)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    slack = SlackEvents(bolt, metrics, slack_pool)
    app = Starlette(
        routes=[
            Route("/slack/events", slack, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *routes,
        ]
    )
    return _SlackFirst(slack, app)


class _SlackFirst:
    """Sends `POST /slack/events` straight to its endpoint, past Starlette's router and
    middleware (a few percent of every ack); everything else goes to `app`."""

    def __init__(self, slack: SlackEvents, app: ASGIApp) -> None:
        self._slack = slack
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/slack/events"
        ):
            await self._slack(scope, receive, send)
        else:
            await self._app(scope, receive, send)


class SlackEvents:
    """`POST /slack/events` as a bare ASGI app: every Slack command, click and event comes here.

    Bolt's listeners are synchronous, so `App.dispatch` runs on a pool thread, never on the event
    loop. This is the busiest endpoint, so it skips Starlette's Request and Response objects.
    """

    def __init__(self, bolt: App | None, metrics: Metrics, pool: Executor) -> None:
        self._bolt = bolt
        self._metrics = metrics
        self._pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bolt = self._bolt
        if bolt is None:
            await _send_json(send, 404, {"error": "this deployment runs Slack in Socket Mode"})
            return
        # Repeated headers: the last one wins, as in Bolt's own adapters.
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        try:
            body = await _read_body(receive, headers.get("content-length"), MAX_SLACK_BODY)
        except ClientDisconnect:  # gone before the whole body came: nothing to answer
            return
        if body is None:
            await _send_json(send, 413, {"error": "request body too large"})
            return
        query = scope["query_string"].decode("latin-1")
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self._pool, _dispatch, bolt, headers, query, body)
        self._metrics.inc("ticketbot_slack_requests_total", status=str(response.status))
        # No cookies: this app has no OAuth flow.
        await _send(
            send, response.status, response.body, response.first_headers_without_set_cookie()
        )


def _dispatch(bolt: App, headers: dict[str, str], query: str, body: bytes) -> BoltResponse:
    # On the pool thread, parsing too: a click's body is URL-encoded JSON, slow to unquote.
    try:
        request = bolt_request(headers, query, body)
    except UnicodeDecodeError:  # Slack sends UTF-8; anything else is not from Slack
        return BoltResponse(
            status=400,
            body=json.dumps({"error": "request body is not UTF-8"}),
            headers={"content-type": "application/json"},
        )
    return bolt.dispatch(request)


async def _send_json(send: Send, status: int, content: dict[str, str]) -> None:
    body = json.dumps(content, separators=(",", ":"))
    await _send(send, status, body, {"content-type": "application/json"})


async def _send(send: Send, status: int, body: str, headers: dict[str, str]) -> None:
    content = body.encode("utf-8")
    raw = [(b"content-length", str(len(content)).encode("latin-1"))]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.extend(message.get("body", b""))
        if len(chunks) > limit:
            return None
        more = message.get("more_body", False)
    return bytes(chunks)


def bolt_request(headers: dict[str, str], query: str, body: bytes) -> BoltRequest:
    """Bolt's request, with its form parsing fixed.

    slack-bolt 1.30 takes any form body that merely contains the word "payload" for an
    interactivity payload, so `/ticket the payload server is down` parsed as {} and got a 404.
    """
    bolt_req = BoltRequest(body=body.decode("utf-8"), query=query, headers={**headers})
    if not bolt_req.body and bolt_req.raw_body and not bolt_req.raw_body.lstrip().startswith("{"):
        form = dict(parse_qsl(bolt_req.raw_body, keep_blank_values=True))
        if "payload" not in form and form:
            bolt_req.body = form
            bolt_req.context = build_context(BoltContext({}), form)
    return bolt_req


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            return None
    return bytes(chunks)
