"""The process's HTTP app (Starlette on uvicorn): /slack/events first, /healthz, /metrics, and the
routes of every other surface."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from slack_bolt import App
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config.secret import Secret
from bot.http.guards import bearer_matches
from bot.slack.http import SlackEvents
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)


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
