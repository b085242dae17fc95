"""Teams auth both ways, for real: the bot's MSAL token from the Bot Connector stand-in, and the
SDK validating the stand-in's RS256 activity JWTs on POST /api/messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import jwt
import pytest

from bot.sandbox.teams_connector import BotConnector
from bot.teams_auth import MsalTokenProvider, TokenError, uses_instance_discovery

APP_ID = "5e1f0a7c-0000-4000-8000-00000000b07a"
TENANT = "0c0ffee0-1111-4111-8111-111111111111"
PASSWORD = "pa55-w0rd-not-for-logs"


@pytest.fixture(scope="module")
def connector() -> Iterator[BotConnector]:
    with BotConnector(APP_ID, TENANT, password=PASSWORD) as running:
        yield running


@pytest.fixture
def trust(connector: BotConnector, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the stand-in's CA the way an operator would, and make anything that tries to leave
    loopback fail (through a proxy that refuses connections)."""
    monkeypatch.setenv("SSL_CERT_FILE", connector.ca_file)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", connector.ca_file)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def providers() -> Iterator[list[MsalTokenProvider]]:
    made: list[MsalTokenProvider] = []
    yield made
    for each in made:
        each.close()


def provider(
    made: list[MsalTokenProvider], login_url: str, password: str = PASSWORD
) -> MsalTokenProvider:
    made.append(MsalTokenProvider(APP_ID, password, TENANT, login_url))
    return made[-1]


def test_msal_token_from_the_stand_in_without_leaving_loopback(
    connector: BotConnector, trust: None, providers: list[MsalTokenProvider]
) -> None:
    tokens = provider(providers, connector.login_url)
    before = len(connector.calls)
    token = tokens.token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["appid"] == APP_ID and claims["tid"] == TENANT
    assert [c.path for c in connector.calls[before:]] == [
        f"/{TENANT}/v2.0/.well-known/openid-configuration",
        f"/{TENANT}/oauth2/v2.0/token",
    ]
    assert tokens.token() == token  # MSAL's cache: no second token request
    assert len(connector.calls) == before + 2


def test_sdk_shaped_call_returns_the_same_token(
    connector: BotConnector, trust: None, providers: list[MsalTokenProvider]
) -> None:
    tokens = provider(providers, connector.login_url)
    sync_token = tokens.token()
    assert asyncio.run(tokens("https://api.botframework.com/.default", "botframework.com")) == (
        sync_token
    )


def test_wrong_password_is_permanent_and_never_quoted(
    connector: BotConnector, trust: None, providers: list[MsalTokenProvider]
) -> None:
    tokens = provider(providers, connector.login_url, password="wrong-secret-value")
    with pytest.raises(TokenError) as caught:
        tokens.token()
    assert not caught.value.transient
    assert "invalid_client" in caught.value.message
    assert "wrong-secret-value" not in str(caught.value) and PASSWORD not in str(caught.value)
    assert "wrong-secret-value" not in repr(tokens)


def test_unreachable_login_endpoint_is_transient(
    trust: None, providers: list[MsalTokenProvider]
) -> None:
    tokens = provider(providers, "https://127.0.0.1:9")
    with pytest.raises(TokenError) as caught:
        tokens.token()
    assert caught.value.transient and PASSWORD not in caught.value.message


def test_instance_discovery_only_for_microsofts_login_endpoint() -> None:
    assert uses_instance_discovery("https://login.microsoftonline.com/")
    assert not uses_instance_discovery("https://login.microsoftonline.us")
    assert not uses_instance_discovery("https://127.0.0.1:4443")
