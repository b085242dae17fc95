"""The bot's own Bot Connector token: an MSAL confidential client we build ourselves, so instance
discovery can be off for an overridden login endpoint. Serves the Teams SDK and our delivery code.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import msal
import requests

log = logging.getLogger(__name__)

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"

# Entra answers these for a wrong app id / secret / tenant: retrying cannot help.
_PERMANENT_ERRORS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_scope", "invalid_request", "invalid_grant"}
)


class TokenError(Exception):
    """No token: `transient` when the login endpoint was unreachable or failing, not when the
    credentials were refused. The message never carries the secret."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


def uses_instance_discovery(login_url: str) -> bool:
    """MSAL asks login.microsoftonline.com about unknown authority hosts; only worth it (and only
    possible offline-free) for Microsoft's own default login endpoint."""
    return login_url.rstrip("/").lower() == DEFAULT_LOGIN_URL


class MsalTokenProvider:
    """App-only tokens for `scope` from `{login_url}/{tenant_id}`, cached by MSAL until shortly
    before they expire. Thread-safe.

    `token()` is for synchronous callers (the outbox dispatcher's threads); calling the object as
    `provider(scope, tenant_id)` is the Teams SDK's `token=` shape (an awaitable; MSAL's blocking
    HTTP runs in a worker thread). The tenant the SDK passes is ignored: the registration is
    single-tenant and the authority fixed. TLS trust for a private login endpoint comes from
    REQUESTS_CA_BUNDLE (MSAL talks through `requests`).
    """

    def __init__(
        self,
        app_id: str,
        password: str,
        tenant_id: str,
        login_url: str = DEFAULT_LOGIN_URL,
        *,
        scope: str = BOT_FRAMEWORK_SCOPE,
        timeout: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.authority = f"{login_url.rstrip('/')}/{tenant_id}"
        self.scope = scope
        self._password = password
        self._instance_discovery = uses_instance_discovery(login_url)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._session = requests.Session()  # trust_env: REQUESTS_CA_BUNDLE and proxies apply
        self._app: msal.ConfidentialClientApplication | None = None

    def __repr__(self) -> str:
        return f"MsalTokenProvider(app_id={self.app_id!r}, authority={self.authority!r})"

    def token(self, scope: str | None = None) -> str:
        """An access token for `scope` (default: the Bot Framework's). Raises TokenError."""
        scopes = [scope or self.scope]
        with self._lock:
            app = self._client()
            try:
                result: dict[str, Any] = app.acquire_token_for_client(scopes)
            except (requests.RequestException, OSError) as e:
                raise TokenError(
                    f"Teams login endpoint unreachable: {type(e).__name__}", transient=True
                ) from None
        access_token = result.get("access_token")
        if isinstance(access_token, str) and access_token:
            return access_token
        error = str(result.get("error") or "no_token")
        description = str(result.get("error_description") or "").splitlines()
        detail = f": {description[0][:200]}" if description else ""
        raise TokenError(
            f"Teams login refused the bot's token request ({error}){detail}",
            transient=error not in _PERMANENT_ERRORS,
        )

    def close(self) -> None:
        """Close the connections to the login endpoint (the provider still works after)."""
        self._session.close()

    def __enter__(self) -> MsalTokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __call__(self, scope: str | list[str], tenant_id: str | None = None) -> str:
        wanted = scope if isinstance(scope, str) else " ".join(scope)
        return await asyncio.to_thread(self.token, wanted)

    def _client(self) -> msal.ConfidentialClientApplication:
        # MSAL reads the authority's OpenID configuration when constructed: build on first use,
        # and retry the construction on the next call when the endpoint was down.
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.app_id,
                    client_credential=self._password,
                    authority=self.authority,
                    instance_discovery=self._instance_discovery,
                    http_client=self._session,
                    timeout=self._timeout,
                )
            except (requests.RequestException, OSError, ValueError) as e:
                raise TokenError(
                    f"Teams login endpoint {self.authority} unusable: {type(e).__name__}",
                    transient=True,
                ) from None
        return self._app
