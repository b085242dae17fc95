"""The HTTP surface (Starlette on uvicorn): /slack/events, /healthz, /metrics, plus given routes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import build_context
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.metrics import Metrics

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1024 * 1024


def build_web_app(
    *,
    bolt: App | None,
    healthy: Callable[[], bool],
    metrics: Metrics,
    routes: Sequence[Route] = (),
) -> Starlette:
    """`bolt` is None in Socket Mode: Slack then talks over the websocket, not this endpoint."""

    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return JSONResponse({"error": "this deployment runs Slack in Socket Mode"}, 404)
        body = await read_capped(request, MAX_SLACK_BODY)
        if body is None:
            return JSONResponse({"error": "request body too large"}, 413)
        # Bolt's listeners are synchronous: run them on the thread pool, never on the event loop.
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request(request, body))
        metrics.inc("ticketbot_slack_requests_total", status=str(bolt_response.status))
        return to_starlette_response(bolt_response)

    async def healthz(_: Request) -> Response:
        ok = await run_in_threadpool(healthy)
        return JSONResponse({"ok": ok}, 200 if ok else 503)

    async def metrics_endpoint(_: Request) -> Response:
        text = await run_in_threadpool(metrics.render)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *routes,
        ]
    )


def bolt_request(request: Request, body: bytes) -> BoltRequest:
    """Bolt's request, with its form parsing fixed.

    slack-bolt 1.30 takes any form body that merely contains the word "payload" for an
    interactivity payload, so `/ticket the payload server is down` parsed as {} and got a 404.
    """
    bolt_req = to_bolt_request(request, body)
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
