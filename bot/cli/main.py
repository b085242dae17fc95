"""The `ticketbot` command: the only place that reads the environment and `.env`; it hands each
command to its module."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from dotenv import load_dotenv

from bot.cli.clients import clients
from bot.cli.db import db
from bot.cli.demo import demo
from bot.cli.manifest import manifest
from bot.cli.outbox import outbox
from bot.cli.parser import build_parser
from bot.cli.report import report
from bot.cli.run import run
from bot.config.problems import ConfigError
from bot.config.server import log_format_of
from bot.telemetry import logs

# Each command imports the rest of the bot when it runs: after `.env` is loaded, and only what it
# needs (`ticketbot manifest` starts no Teams SDK).
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run,
    "demo": demo,
    "db": db,
    "clients": clients,
    "manifest": manifest,
    "outbox": outbox,
    "report": report,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if args.command != "demo":
        load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)
    try:
        log_format = log_format_of(os.environ) if args.command != "demo" else "text"
    except ConfigError as e:
        print(f"ticketbot: configuration problems:\n{e}", file=sys.stderr)
        return 2
    logs.configure(logging.INFO if args.command == "run" else logging.WARNING, log_format)
    for noisy in ("alembic", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as e:
        print(f"ticketbot: configuration problems:\n{e}", file=sys.stderr)
        return 2
