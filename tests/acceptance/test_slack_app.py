"""build_bolt_app and build_web_app fail closed: over HTTP, no signing secret means no app."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.app.web import build_web_app
from bot.sandbox.slack.wire import sign
from bot.sandbox.stack import Stack
from bot.slack.bolt_app import build_bolt_app
from bot.telemetry.metrics import Metrics
from handlers.slack import listeners
from tests.acceptance.helpers import command_body

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(scope="module")
def module_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(database_url=f"sqlite:///{tmp_path_factory.mktemp('app') / 'app.db'}") as stack:
        yield stack


def _build(stack: Stack, *, socket_mode: bool, signing_secret: str | None) -> App:
    return build_bolt_app(
        client=WebClient(token=stack.emu.bot_token, base_url=stack.emu.api_url),
        identity={"user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0EMU"},
        socket_mode=socket_mode,
        signing_secret=signing_secret,
        register=partial(
            listeners.register, service=stack.rt.service, membership=stack.rt.membership
        ),
    )


def _command(signature: str) -> BoltRequest:
    body = command_body("printer jammed").decode()
    timestamp = str(int(time.time()))
    if signature == "valid":
        signature = sign(SECRET, timestamp, body.encode())
    return BoltRequest(
        body=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        },
    )


@pytest.mark.parametrize("secret", [None, "", "  "])
def test_http_mode_app_without_signing_secret_is_refused(
    module_stack: Stack, secret: str | None
) -> None:
    with pytest.raises(ValueError, match=r"needs the signing secret \(SLACK_SIGNING_SECRET\)"):
        _build(module_stack, socket_mode=False, signing_secret=secret)


def test_http_mode_app_checks_signatures_on_its_own(module_stack: Stack) -> None:
    app = _build(module_stack, socket_mode=False, signing_secret=SECRET)
    assert app.dispatch(_command("v0=" + "0" * 64)).status == 401
    assert app.dispatch(_command("valid")).status == 200


def test_socket_mode_app_needs_no_signing_secret(module_stack: Stack) -> None:
    app = _build(module_stack, socket_mode=True, signing_secret=None)
    form = dict(urllib.parse.parse_qsl(command_body("help").decode()))
    answer = app.dispatch(BoltRequest(body=form, mode="socket_mode"))
    assert answer.status == 200 and "/ticket" in answer.body


def test_web_app_serving_slack_without_signing_secret_is_refused(module_stack: Stack) -> None:
    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="signing secret"):
        build_web_app(
            bolt=module_stack.rt.bolt,
            signing_secret=None,
            healthy=lambda: True,
            metrics=Metrics(),
            slack_pool=pool,
        )
