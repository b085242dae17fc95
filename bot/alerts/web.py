"""Alert webhooks: `POST /alerts/alertmanager|grafana|generic`, bearer token, capped JSON body.

2xx only once the alerts are committed; 4xx (which Alertmanager drops) only for the sender's own
mistakes; 5xx (which it retries) for our temporary failures.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, TimeoutError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.alerts.alertmanager import parse_alertmanager
from bot.alerts.generic import parse_generic
from bot.alerts.grafana import parse_grafana
from bot.alerts.ingest import IngestResult
from bot.alerts.model import Alert, AlertPayloadError
from bot.config.secret import Secret
from bot.http.guards import bearer_matches, read_capped
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)

MAX_ALERT_BODY = 4 * 1024 * 1024  # Alertmanager sends a whole group: thousands of alerts at most
Parser = Callable[[object], list[Alert]]


def alert_routes(
    *,
    token: Secret | None,
    ingest: Callable[[list[Alert]], IngestResult],
    dedup: str,
    metrics: Metrics,
) -> list[Route]:
    parsers: dict[str, Parser] = {
        "alertmanager": lambda body: parse_alertmanager(body, dedup=dedup),
        "grafana": lambda body: parse_grafana(body, dedup=dedup),
        "generic": parse_generic,
    }

    def endpoint(source: str, parse: Parser) -> Callable[[Request], Any]:
        async def receive(request: Request) -> Response:
            response = await _receive(request, parse)
            metrics.alert_requests.labels(source=source, status=str(response.status_code)).inc()
            return response

        return receive

    async def _receive(request: Request, parse: Parser) -> Response:
        if token is None:
            return _error(404, "alert webhooks are off: set ALERT_WEBHOOK_TOKEN to enable them")
        if not bearer_matches(request.headers.get("authorization"), token):
            return _error(
                401,
                "missing or wrong token: send 'Authorization: Bearer <ALERT_WEBHOOK_TOKEN>'",
                {"WWW-Authenticate": "Bearer"},
            )
        body = await read_capped(request, MAX_ALERT_BODY)
        if body is None:
            return _error(413, f"request body is larger than {MAX_ALERT_BODY // 1024} KiB")
        # Up to 4 MiB of JSON takes a tenth of a second or more to read: off the event loop,
        # which serves every other request, Slack's acks too.
        alerts = await run_in_threadpool(_parse, body, parse)
        if isinstance(alerts, Response):
            return alerts
        if not alerts:
            return JSONResponse({"status": "ok", "alerts": 0, "created": [], "updated": []})
        try:
            result = await run_in_threadpool(ingest, alerts)
        except (DBAPIError, TimeoutError):
            log.exception("could not store %d alert(s); the sender will retry", len(alerts))
            return _error(503, "temporary failure storing the alerts; please retry")
        except Exception:
            log.exception("alert ingestion failed")
            return _error(500, "internal error storing the alerts; please retry")
        metrics.alerts.inc(result.alerts)
        return JSONResponse(
            {
                "status": "ok",
                "alerts": result.alerts,
                "created": result.created,
                "updated": result.updated,
            }
        )

    return [
        Route(f"/alerts/{name}", endpoint(name, parse), methods=["POST", "PUT"])
        for name, parse in parsers.items()
    ]


def _parse(body: bytes, parse: Parser) -> list[Alert] | Response:
    """The alerts in `body`, or the 400 / 422 answer saying what is wrong with it."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as e:
        return _error(400, f"the body is not valid JSON ({_short(e)})")
    try:
        return parse(data)
    except AlertPayloadError as e:
        return _error(422, str(e))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"status": "error", "error": message}, status, headers=headers)


def _short(e: Exception) -> str:
    return str(e)[:200] or type(e).__name__
