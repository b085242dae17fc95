"""The HTTP surface (Starlette on uvicorn): /slack/events, /healthz, /metrics, plus given routes."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from slack_bolt import App, BoltResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Secret
from bot.metrics import Metrics
from bot.signature import SignatureCheck
from bot.slack_request import (
    NOT_SLACK_SHAPED,
    SHAPE_ERRORS,
    PayloadError,
    bolt_request,
    shape_error_line,
)

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1024 * 1024


def build_web_app(
    *,
    bolt: App | None,
    signing_secret: str | None,
    healthy: Callable[[], bool],
    metrics: Metrics,
    slack_pool: Executor,
    metrics_token: Secret | None = None,
    routes: Sequence[BaseRoute] = (),
) -> ASGIApp:
    """`bolt` is None in Socket Mode: Slack then talks over the websocket, not this endpoint;
    otherwise `signing_secret` is required. Bolt's listeners run on `slack_pool`'s threads.
    With `metrics_token`, `GET /metrics` wants `Authorization: Bearer <metrics_token>`."""
    slack = SlackEvents(bolt, signing_secret, metrics, slack_pool)
    app = Starlette(
        routes=[
            Route("/slack/events", slack, methods=["POST"]),
            *health_routes(healthy=healthy, metrics=metrics, metrics_token=metrics_token),
            *routes,
        ]
    )
    return _SlackFirst(slack, app, metrics)


def build_health_app(
    *, healthy: Callable[[], bool], metrics: Metrics, metrics_token: Secret | None = None
) -> ASGIApp:
    """Only `GET /healthz` and `GET /metrics`: what a worker process serves."""
    return Starlette(
        routes=health_routes(healthy=healthy, metrics=metrics, metrics_token=metrics_token)
    )


def health_routes(
    *, healthy: Callable[[], bool], metrics: Metrics, metrics_token: Secret | None
) -> list[BaseRoute]:
    async def healthz(_: Request) -> Response:
        ok = await run_in_threadpool(healthy)
        return JSONResponse({"ok": ok}, 200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        if metrics_token is not None and not bearer_matches(
            request.headers.get("authorization"), metrics_token
        ):
            return JSONResponse(
                {"error": "missing or wrong token: send 'Authorization: Bearer <METRICS_TOKEN>'"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        text = await run_in_threadpool(metrics.render)
        # generate_latest writes the 0.0.4 text format, whatever CONTENT_TYPE_LATEST says.
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def bearer_matches(header: str | None, token: Secret) -> bool:
    """Whether an Authorization header is `Bearer <token>` (compared in constant time)."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    sent = value.strip().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(sent, token.reveal().encode("utf-8", "surrogatepass"))


class _SlackFirst:
    """Sends `POST /slack/events` straight to its endpoint, past Starlette's router and
    middleware (a few percent of every ack); everything else goes to `app`. Times the answer to
    each Slack, Teams and alert request (the ack latency histogram, by surface)."""

    def __init__(self, slack: SlackEvents, app: ASGIApp, metrics: Metrics) -> None:
        self._slack = slack
        self._app = app
        self._ack = {s: metrics.ack_seconds.labels(surface=s) for s in ("slack", "teams", "alerts")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        surface: str | None = "slack"
        if path == "/slack/events":
            await self._slack(scope, receive, send)
        else:
            await self._app(scope, receive, send)
            surface = _surface(path)
        if surface is not None:
            self._ack[surface].observe(time.perf_counter() - started)


def _surface(path: str) -> str | None:
    if path == "/api/messages":
        return "teams"
    if path.startswith("/alerts/"):
        return "alerts"
    return None


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
            body = await _read_body(receive, headers.get("content-length"), MAX_SLACK_BODY)
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
