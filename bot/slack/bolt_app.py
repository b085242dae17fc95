"""Builds the Bolt App: explicit credentials, identity resolved once, a roomy listener pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

log = logging.getLogger(__name__)


class _TokenIgnoredFilter(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself, then warns that `authorize` makes
    it ignore that token; the token *is* used, through `authorize`, so the warning misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _TokenIgnoredFilter) for f in logger.filters):
        logger.addFilter(_TokenIgnoredFilter())
    return logger


def build_bolt_app(
    *,
    client: WebClient,
    identity: dict[str, Any],
    socket_mode: bool,
    signing_secret: str | None,
    register: Callable[[App], None],
    listener_threads: int = 32,
) -> App:
    """The Bolt app with every listener `register` adds (handlers.slack.listeners).

    `identity` is the bot's auth.test answer, fetched once at start: Bolt's lazy lookup has no
    lock and fires one auth.test per concurrent first request. Over HTTP (`socket_mode=False`)
    every request must be signed, so a missing `signing_secret` raises `ValueError`; Socket Mode
    needs none (the websocket is opened with the app-level token).
    """
    if not socket_mode and not (signing_secret or "").strip():
        raise ValueError(
            "a Slack app served over HTTP needs the signing secret (SLACK_SIGNING_SECRET), "
            "or it would accept forged requests; set it, or use Socket Mode (SLACK_APP_TOKEN)"
        )
    token = client.token or ""

    def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id"),
            team_id=identity.get("team_id"),
            bot_user_id=identity.get("user_id"),
            bot_id=identity.get("bot_id"),
            bot_token=token,
        )

    app = App(
        # Token-less: each request's client gets the token from `authorize` (a token here as well
        # only makes Bolt warn that it is ignored).
        client=WebClient(base_url=client.base_url, timeout=client.timeout),
        signing_secret=signing_secret or "",
        authorize=authorize,
        # Listeners write one transaction and return; answering after it means an ack is durable.
        process_before_response=True,
        # Over HTTP, bot.app.web has checked the signature on the raw body already; Bolt checks it
        # again (one HMAC) so that this app is safe on its own. Socket Mode has no signatures.
        request_verification_enabled=not socket_mode,
        listener_executor=ThreadPoolExecutor(
            max_workers=listener_threads, thread_name_prefix="bolt"
        ),
        logger=_bolt_logger(),
    )
    register(app)
    return app
