"""`ticketbot run`: checks the database schema and the chat credentials, then serves."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from bot.config.settings import Settings

log = logging.getLogger("ticketbot")


def run(args: argparse.Namespace) -> int:
    from storage.migrate import SchemaState, schema_state, upgrade

    settings = Settings.from_mapping(os.environ)
    from bot.app.roles import ProcessRole
    from bot.app.runtime import build_runtime
    from bot.outbox.errors import DeliveryError
    from storage.engine import make_engine

    role = ProcessRole(args.role)
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        if role is not ProcessRole.ALL:
            print(
                f"ticketbot: --role {role} needs PostgreSQL (DATABASE_URL): on SQLite one "
                "process does everything; run `ticketbot run` without --role",
                file=sys.stderr,
            )
            return 2
        upgrade(engine)
    else:
        state, revision = schema_state(engine)
        if state is SchemaState.BEHIND:
            print(
                f"ticketbot: the database schema ({revision}) is older than this version of "
                "ticketbot; run `ticketbot db upgrade` once, then start the processes",
                file=sys.stderr,
            )
            return 2
        if state is SchemaState.AHEAD:
            log.warning(
                "the database schema (%s) is newer than this version of ticketbot: fine while a "
                "rollout replaces it (migrations stay compatible with the previous version)",
                revision,
            )
    if settings.smtp is None:
        log.info("email is off (SMTP_URL is not set)")
    for warning in settings.start_warnings():
        log.warning("%s", warning)
    try:
        runtime = build_runtime(settings, engine=engine, role=role)
    except DeliveryError as e:
        # auth.test at start: a refused token is a settings problem, an unreachable Slack is not.
        where = settings.slack_api_url
        if e.transient:
            print(
                f"ticketbot: cannot reach Slack at {where} ({e.message}); retry later",
                file=sys.stderr,
            )
            return 1
        print(
            f"ticketbot: Slack refused SLACK_BOT_TOKEN ({e.message}); check the token",
            file=sys.stderr,
        )
        return 2
    if runtime.teams is not None:
        problem = _teams_token_problem(runtime.teams.token)
        if problem is not None:
            runtime.stop()
            print(f"ticketbot: {problem}", file=sys.stderr)
            return 2
    runtime.start_background()
    where = f"{settings.host}:{settings.port}"
    if not role.serves:
        log.info(
            "worker: delivering the outbox and running timers; /healthz, /metrics on %s", where
        )
    elif settings.socket_mode:
        runtime.start_socket_mode()
        log.info("Slack Socket Mode connected; HTTP endpoints on %s", where)
    elif settings.slack_on:
        log.info("Slack HTTP mode on %s/slack/events", where)
    if role.serves and settings.teams_on:
        log.info("Teams bot on %s/api/messages", where)
    if role is ProcessRole.WEB:
        log.info("web: delivery, timers and refreshes are left to `ticketbot run --role worker`")
    try:
        runtime.serve_http()
    finally:
        runtime.stop()
    return 0


def _teams_token_problem(tokens: Any) -> str | None:
    """Ask for the bot's token at start, as auth.test does for Slack: refused credentials are a
    settings problem (None when they work, or when the login endpoint is only unreachable now:
    delivery retries)."""
    from bot.teams.auth import TokenError

    try:
        tokens.token()
    except TokenError as e:
        if e.transient:
            log.warning("cannot get the Teams bot's token yet (%s); retrying as it sends", e)
            return None
        return (
            f"Microsoft refused the Teams bot's credentials ({e.message}); check TEAMS_APP_ID, "
            "TEAMS_APP_PASSWORD and TEAMS_TENANT_ID"
        )
    return None
