"""The stand-in's identity side: the Bot Connector's OpenID metadata and the claims of the JWTs it
sends activities with, and Entra's login for the bot (metadata, client-credentials token endpoint,
and checking the tokens it issued)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Literal

from bot.sandbox.teams.keys import SigningKey
from bot.sandbox.teams.records import JSON
from bot.sandbox.teams.wire import Reply

BOT_CONNECTOR_ISSUER = "https://api.botframework.com"
BOT_SCOPE = "https://api.botframework.com/.default"
OPENID_PATH = "/v1/.well-known/openidconfiguration"
JWKS_PATH = "/v1/.well-known/keys"  # the SDK derives it from OPENID_PATH, as for Microsoft's
TOKEN_AUDIENCE = "https://api.botframework.com"

# How `BotConnector.sign` / `post_activity` authenticate an activity: "valid", or a bad case.
Auth = Literal[
    "valid",
    "none",
    "wrong_audience",
    "unknown_key",
    "forged_signature",
    "expired",
    "wrong_service_url",
]


def activity_claims(app_id: str, service_url: str, auth: Auth) -> JSON:
    """The claims of the JWT the Bot Connector sends an activity with (bad ones for `auth`'s
    bad cases of audience, lifetime and serviceUrl)."""
    now = int(time.time())
    claims: JSON = {
        "serviceurl": service_url,
        "nbf": now - 5,
        "exp": now + 3600,
        "iss": BOT_CONNECTOR_ISSUER,
        "aud": app_id,
    }
    if auth == "wrong_audience":
        claims["aud"] = str(uuid.uuid4())
    elif auth == "expired":
        claims["nbf"], claims["exp"] = now - 7200, now - 3600
    elif auth == "wrong_service_url":
        claims["serviceurl"] = "https://smba.trafficmanager.net/emea/"
    return claims


def bot_openid(base_url: str) -> JSON:
    return {
        "issuer": BOT_CONNECTOR_ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": f"{base_url}{JWKS_PATH}",
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }


def login_openid(login_url: str, tenant_id: str) -> JSON:
    base = f"{login_url}/{tenant_id}"
    return {
        "issuer": f"{base}/v2.0",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "tenant_region_scope": "EU",
    }


class Login:
    """Entra's token endpoint for one bot registration, and the check of the tokens it issued."""

    def __init__(self, app_id: str, tenant_id: str, key: SigningKey) -> None:
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.key = key

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def token(self, form: dict[str, str], *, password: str, lifetime: int) -> Reply:
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.app_id or not secrets.compare_digest(
            form.get("client_secret", ""), password
        ):
            return Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        if BOT_SCOPE not in form.get("scope", "").split():
            return Reply(400, {"error": "invalid_scope"})
        now = int(time.time())
        token = self.key.sign(
            {
                "aud": TOKEN_AUDIENCE,
                "iss": self.issuer,
                "iat": now,
                "nbf": now,
                "exp": now + lifetime,
                "appid": self.app_id,
                "tid": self.tenant_id,
                "idtyp": "app",
                "ver": "1.0",
            }
        )
        body = {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }
        return Reply(200, body, {"Cache-Control": "no-store"})

    def authorized(self, header: str | None) -> bool:
        """Whether an `Authorization` header carries a token this login issued to the bot."""
        if not header or not header.lower().startswith("bearer "):
            return False
        try:
            claims = self.key.verify(
                header[7:].strip(), audience=TOKEN_AUDIENCE, issuer=self.issuer
            )
        except Exception:  # any unreadable or foreign token is simply not authorized
            return False
        return claims.get("appid") == self.app_id
