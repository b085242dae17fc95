"""The Teams SDK `App`, built with every option explicit and mounted on our Starlette app at
POST /api/messages through a small adapter. What the bot does with activities lives in handlers/.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.teams.auth import DEFAULT_LOGIN_URL, MsalTokenProvider
from bot.teams.sdk import (
    PUBLIC,
    ActivityTypeAdapter,
    ApiClientSettings,
    App,
    ClientOptions,
    CloudEnvironment,
    CoreActivity,
    HttpMethod,
    HttpRequest,
    HttpRouteHandler,
    LocalStorage,
    TokenCredentials,
    with_overrides,
)

log = logging.getLogger(__name__)

DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
MESSAGING_ENDPOINT = "/api/messages"
MAX_ACTIVITY_BYTES = 1024 * 1024  # Teams' own messages stay far below this (~100 KB)

TokenProvider = Callable[[str | list[str], str | None], Awaitable[str]]


@dataclass(frozen=True)
class TeamsOptions:
    """The bot registration and the endpoints it talks to (TEAMS_* settings, as plain values).

    `openid_metadata_url` / `login_url` override Microsoft's (national clouds, the local stand-in).
    """

    app_id: str
    password: str = field(repr=False)
    tenant_id: str
    service_url: str = DEFAULT_SERVICE_URL
    openid_metadata_url: str | None = None
    login_url: str = DEFAULT_LOGIN_URL
    timeout: float = 10.0

    def cloud(self) -> CloudEnvironment:
        return with_overrides(
            PUBLIC,
            openid_metadata_url=self.openid_metadata_url,
            login_endpoint=self.login_url.rstrip("/"),
        )


class StarletteAdapter:
    """The SDK's HttpServerAdapter over Starlette: `route(path)` is mounted by us at build time;
    the SDK registers its handler for that path in `App.initialize()`, which `prepare` runs.

    Bodies over `max_body_bytes` → 413; not JSON, not an object, or not an activity → 400. The
    SDK's own checks (JWT first) run only on well-formed activities.
    """

    def __init__(
        self,
        *,
        prepare: Callable[[], Awaitable[None]],
        max_body_bytes: int = MAX_ACTIVITY_BYTES,
    ) -> None:
        self._prepare = prepare
        self._max = max_body_bytes
        self._handlers: dict[str, HttpRouteHandler] = {}

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        if method != "POST":
            raise ValueError(f"unsupported method {method} for {path}")
        self._handlers[path] = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("ticketbot serves no Teams tabs or static files")

    async def start(self, port: int) -> None:
        raise NotImplementedError("mounted in ticketbot's server: never call App.start()")

    async def stop(self) -> None:
        return None

    def route(self, path: str) -> Route:
        async def endpoint(request: Request) -> Response:
            body, problem = await self._activity(request)
            if problem is not None:
                return problem
            await self._prepare()
            handler = self._handlers.get(path)
            if handler is None:
                return JSONResponse({"error": "Teams endpoint not ready"}, 503)
            headers = dict(request.headers)
            result = await handler(HttpRequest(body=body, headers=headers))
            content = result.get("body")
            if content is None:
                return Response(status_code=result["status"])
            jsonable = to_jsonable_python(content, by_alias=True, exclude_none=True)
            return JSONResponse(jsonable, result["status"])

        return Route(path, endpoint, methods=["POST"])

    async def _activity(self, request: Request) -> tuple[dict[str, object], Response | None]:
        too_large = JSONResponse({"error": "request body too large"}, 413)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max:
            return {}, too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self._max:
                    return {}, too_large
                chunks.append(chunk)
        except ClientDisconnect:
            return {}, Response(status_code=400)
        try:
            body: Any = json.loads(b"".join(chunks))
        except (ValueError, RecursionError):
            return {}, JSONResponse({"error": "body is not JSON"}, 400)
        if not isinstance(body, dict):
            return {}, JSONResponse({"error": "body is not an activity"}, 400)
        try:
            # The same two validations the SDK runs after auth; there a failure would be a 500.
            core = CoreActivity.model_validate(body)
            ActivityTypeAdapter.validate_python(core.model_dump(by_alias=True, exclude_none=True))
        except (ValidationError, ValueError, TypeError, RecursionError):
            return {}, JSONResponse({"error": "body is not an activity"}, 400)
        return body, None


class _ExplicitApp(App):
    """The SDK App whose credentials come from its options only: the SDK's own fallback reads
    CLIENT_SECRET / TENANT_ID / MANAGED_IDENTITY_CLIENT_ID from the environment, and a stray
    CLIENT_SECRET would silently replace our token provider with its own MSAL client."""

    def _init_credentials(self) -> TokenCredentials:
        options = self.options
        if not options.client_id or options.token is None:
            raise ValueError("the Teams app needs client_id and a token provider")
        return TokenCredentials(
            client_id=options.client_id, tenant_id=options.tenant_id, token=options.token
        )


class TeamsBot:
    """The SDK `App` (register handlers on `.app`), its Starlette `routes`, the token provider.

    `initialize()` runs `App.initialize()` once (JWT validation + the route's handler); the route
    also runs it on the first request, so calling it up front is optional.
    """

    def __init__(self, options: TeamsOptions, token_provider: TokenProvider) -> None:
        self.options = options
        self.token_provider = token_provider
        self._lock = asyncio.Lock()
        self._initialized = False
        self.adapter = StarletteAdapter(prepare=self.initialize)
        cloud = options.cloud()
        self.app: App = _ExplicitApp(
            client_id=options.app_id,
            client_secret=None,  # the token provider below is the only credential
            tenant_id=options.tenant_id,
            token=token_provider,
            managed_identity_client_id=None,
            service_url=options.service_url,
            cloud=cloud,
            api_client_settings=ApiClientSettings(oauth_url=cloud.token_service_url),
            client=ClientOptions(timeout=options.timeout),
            storage=LocalStorage(),
            plugins=[],
            state=False,
            fetch_user_token=False,  # no user OAuth: no token-service call per activity
            dangerously_allow_unauthenticated_requests=False,
            http_server_adapter=self.adapter,
            messaging_endpoint=MESSAGING_ENDPOINT,
            telemetry={"agent365": False},
        )
        self.routes: list[Route] = [self.adapter.route(MESSAGING_ENDPOINT)]

    async def initialize(self) -> None:
        if self._initialized:
            return
        async with self._lock:
            if not self._initialized:
                await self.app.initialize()
                self._initialized = True


def build_teams_bot(
    options: TeamsOptions, *, token_provider: TokenProvider | None = None
) -> TeamsBot:
    """The Teams bot for `options`; its token comes from `token_provider`, by default an
    `MsalTokenProvider` for the same registration (share one with the delivery gateway)."""
    provider = token_provider or MsalTokenProvider(
        options.app_id, options.password, options.tenant_id, options.login_url
    )
    return TeamsBot(options, provider)
