"""Teams auth both ways, for real: the bot's MSAL token from the Bot Connector stand-in, and the
SDK validating the stand-in's RS256 activity JWTs on POST /api/messages."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from microsoft_teams.api import (
    AdaptiveCardActionMessageResponse,
    AdaptiveCardInvokeActivity,
    MessageActivity,
)

from bot.app.process import uvicorn_config
from bot.app.web import build_web_app
from bot.sandbox.teams.connector import BotConnector
from bot.sandbox.teams.login import Auth
from bot.teams.app import TeamsBot, TeamsOptions, build_teams_bot
from bot.teams.auth import MsalTokenProvider, TokenError, uses_instance_discovery
from bot.teams.sdk import ActivityContext, TokenCredentials
from bot.telemetry.metrics import Metrics

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


# -- inbound: the SDK on /api/messages validating the stand-in's JWTs -------------------------


class Served:
    """The Teams routes in our web app (no Slack HTTP endpoint: Socket Mode or Teams only) on
    uvicorn, on a loopback port, in a thread."""

    def __init__(self, bot: TeamsBot) -> None:
        self.bot = bot
        self.seen: list[dict[str, Any]] = []
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/messages"
        self._pool = ThreadPoolExecutor(1)
        web = build_web_app(
            bolt=None,
            signing_secret=None,
            healthy=lambda: True,
            metrics=Metrics(),
            slack_pool=self._pool,
            routes=bot.routes,
        )
        config = uvicorn_config(web, "127.0.0.1", 0)
        config.loop = "asyncio"  # uvloop warns about transports still closing at shutdown
        self.server = uvicorn.Server(config)
        self.server.config.install_signal_handlers = False  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        tick = threading.Event()
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            tick.wait(0.01)
        self._sock = sock

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self._sock.close()
        self._pool.shutdown()


def make_bot(connector: BotConnector, tokens: MsalTokenProvider) -> TeamsBot:
    options = TeamsOptions(
        app_id=APP_ID,
        password=PASSWORD,
        tenant_id=TENANT,
        service_url=connector.service_url,
        openid_metadata_url=connector.openid_metadata_url,
        login_url=connector.login_url,
    )
    return build_teams_bot(options, token_provider=tokens)


@pytest.fixture(scope="module")
def served(connector: BotConnector) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as env:
        # The SDK's JWKS fetch (urllib) reads SSL_CERT_FILE when it first needs the keys, and MSAL
        # reads REQUESTS_CA_BUNDLE: both stay set while this module's server runs.
        for name, value in connector.ca_environment().items():
            env.setenv(name, value)
        with MsalTokenProvider(APP_ID, PASSWORD, TENANT, connector.login_url) as tokens:
            bot = make_bot(connector, tokens)
            running = Served(bot)

            @bot.app.on_message
            async def record(ctx: ActivityContext[MessageActivity]) -> None:
                running.seen.append(ctx.activity.model_dump(by_alias=True, exclude_none=True))
                if ctx.activity.text == "echo please":
                    await ctx.send("echo")

            @bot.app.on_card_action_execute("assign")
            async def clicked(
                ctx: ActivityContext[AdaptiveCardInvokeActivity],
            ) -> AdaptiveCardActionMessageResponse:
                running.seen.append({"verb": ctx.activity.value.action.verb})
                return AdaptiveCardActionMessageResponse(value="Assigned to you")

            try:
                yield running
            finally:
                running.stop()


@pytest.fixture
def fresh(served: Served) -> Served:
    served.seen.clear()
    return served


def test_valid_token_reaches_the_handler(connector: BotConnector, fresh: Served) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    activity = connector.activities.personal_message(dana, "ticket printer down")
    status, _ = connector.post_activity(fresh.url, activity)
    assert status == 200
    [seen] = fresh.seen
    assert (
        seen["text"] == "ticket printer down" and seen["from"]["aadObjectId"] == dana.aad_object_id
    )


def test_an_invoke_answer_goes_back_in_teams_shape(connector: BotConnector, fresh: Served) -> None:
    tom = connector.add_user("Tom Tech", "tom@msp.example")
    channel = connector.add_channel("Helpdesk", [tom])
    make = connector.activities
    click = make.card_action(
        tom, make.channel(channel, "1700000000001"), "assign", {"action": "assign"}, "1700000000001"
    )
    status, body = connector.post_activity(fresh.url, click)
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Assigned to you",
    }
    assert fresh.seen == [{"verb": "assign"}]


@pytest.mark.parametrize(
    "auth",
    ["none", "wrong_audience", "unknown_key", "forged_signature", "expired", "wrong_service_url"],
)
def test_bad_tokens_are_refused_before_the_handler(
    connector: BotConnector, fresh: Served, auth: Auth
) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    activity = connector.activities.personal_message(dana, "ticket injected")
    status, body = connector.post_activity(fresh.url, activity, auth=auth)
    assert status == 401, body
    assert fresh.seen == []


def test_forged_service_url_in_the_body_is_refused(connector: BotConnector, fresh: Served) -> None:
    """A token for the real service URL cannot carry an activity pointing elsewhere."""
    dana = connector.add_user("Dana Client", "dana@client.example")
    activity = connector.activities.personal_message(dana, "hi")
    token = connector.sign(connector.service_url)
    forged = {**activity, "serviceUrl": "https://attacker.example/teams/"}
    response = httpx.post(fresh.url, json=forged, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and fresh.seen == []


def test_handling_an_activity_calls_nothing_outbound(
    connector: BotConnector, fresh: Served
) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    make = connector.activities
    connector.post_activity(fresh.url, make.personal_message(dana, "warm up"))  # fetches JWKS
    before = len(connector.calls)
    here = make.personal(dana)
    for activity in (
        make.personal_message(dana, "list"),
        make.card_action(dana, here, "assign", {"action": "assign"}, "1700000000001"),
        make.task_fetch(dana, here, {"dialog": "new"}),  # no handler: answered by the SDK
        make.members_added([dana], here, by=dana),
    ):
        status, _ = connector.post_activity(fresh.url, activity)
        assert status == 200, activity["type"]
    assert len(fresh.seen) == 3
    assert connector.calls[before:] == []  # no token, user-token, typing or roster call


def test_a_reply_goes_out_with_the_msal_token(connector: BotConnector, fresh: Served) -> None:
    dana = connector.add_user("Dana Client", "dana@client.example")
    status, _ = connector.post_activity(
        fresh.url, connector.activities.personal_message(dana, "echo please")
    )
    assert status == 200
    [reply] = connector.chat_with(dana)
    assert reply.text == "echo"
    sent = [
        c for c in connector.calls if c.conversation_id == connector.personal_conversation(dana)
    ]
    assert sent and all(c.authorized for c in sent)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"type": 5}', 400),
        (b'{"type": "message"}', 400),  # no from / conversation / recipient
        (b"{" * 100_000, 400),
        (b'{"type": "message", "text": "' + b"x" * (1024 * 1024) + b'"}', 413),
    ],
)
def test_malformed_bodies_are_4xx(fresh: Served, body: bytes, status: int) -> None:
    response = httpx.post(
        fresh.url, content=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == status
    assert fresh.seen == []


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
ACTIVITY_KEYS = [
    "type",
    "id",
    "serviceUrl",
    "channelId",
    "from",
    "conversation",
    "recipient",
    "text",
    "channelData",
    "entities",
    "value",
    "name",
    "replyToId",
    "membersAdded",
    "timestamp",
]


def _mutated(connector: BotConnector) -> st.SearchStrategy[Any]:
    dana = connector.add_user("Fuzz Person", "fuzz@client.example")
    base = connector.activities.personal_message(dana, "fuzz")

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        activity = dict(base)
        for key in draw(st.lists(st.sampled_from(ACTIVITY_KEYS), max_size=4)):
            if draw(st.booleans()):
                activity.pop(key, None)
            else:
                activity[key] = draw(JSON_ANY)
        if draw(st.booleans()):
            activity["type"] = draw(
                st.sampled_from(["invoke", "conversationUpdate", "typing", "x"])
            )
        return activity

    return mutate()


def test_fuzzed_bodies_with_valid_tokens_never_5xx(connector: BotConnector, fresh: Served) -> None:
    bodies = _mutated(connector) | JSON_ANY | st.binary(max_size=300)

    @settings(max_examples=150, deadline=None, database=None)
    @given(body=bodies)
    def check(body: Any) -> None:
        payload = body if isinstance(body, dict | bytes) else json.dumps(body).encode()
        status, answer = connector.post_activity(fresh.url, payload)
        assert status < 500, answer
        statuses.add(status)

    statuses: set[int] = set()
    check()
    assert {200, 400} <= statuses  # both accepted and refused bodies were exercised


# -- the SDK's own environment and .env reading cannot reach our configuration ---------------


def test_generic_sdk_variables_are_ignored(
    connector: BotConnector, fresh: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "MANAGED_IDENTITY_CLIENT_ID"):
        monkeypatch.setenv(name, "garbage")
    monkeypatch.setenv("SERVICE_URL", "https://garbage.example/")
    monkeypatch.setenv("CLOUD", "Garbage")  # the SDK raises on an unknown cloud name it reads
    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.setenv("OAUTH_URL", "https://garbage.example/oauth")
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "true")
    with MsalTokenProvider(APP_ID, PASSWORD, TENANT, connector.login_url) as tokens:
        bot = make_bot(connector, tokens)
        app = bot.app
        assert isinstance(app.credentials, TokenCredentials)
        assert (app.credentials.client_id, app.credentials.tenant_id) == (APP_ID, TENANT)
        assert app.credentials.token is tokens
        assert app.api.service_url == connector.service_url.rstrip("/")
        assert app.cloud.openid_metadata_url == connector.openid_metadata_url
        assert app.options.dangerously_allow_unauthenticated_requests is False
        served = Served(bot)
        try:
            dana = connector.add_user("Dana Client", "dana@client.example")
            activity = connector.activities.personal_message(dana, "hi")
            assert connector.post_activity(served.url, activity, auth="none")[0] == 401
            assert connector.post_activity(served.url, activity)[0] == 200
        finally:
            served.stop()


DOTENV_PROBE = (
    "import os, sys; import {module}; "
    "print(os.environ.get('CLIENT_ID'), os.environ.get('PORT'), "
    "os.environ.get('PYTHON_DOTENV_DISABLED'))"
)


def _probe(module: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CLIENT_ID", "PORT")}
    env.pop("PYTHON_DOTENV_DISABLED", None)
    done = subprocess.run(
        [sys.executable, "-c", DOTENV_PROBE.format(module=module)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_importing_the_sdk_through_bot_teams_sdk_reads_no_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CLIENT_ID=from-dotenv\nPORT=1\n")
    assert _probe("microsoft_teams.apps", tmp_path) == "from-dotenv 1 None"  # what we prevent
    assert _probe("bot.teams.app", tmp_path) == "None None None"
