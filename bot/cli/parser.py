"""The `ticketbot` command line: every command's arguments and help."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what `add_subparsers` returns; typeshed names argparse's private class
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ticketbot", description="Chatops helpdesk for IT MSPs.")
    sub = p.add_subparsers(dest="command")
    _run(sub)
    _demo(sub)
    _db(sub)
    _clients(sub)
    _manifest(sub)
    _report(sub)
    _outbox(sub)
    return p


def _run(sub: Subparsers) -> None:
    run = sub.add_parser(
        "run", help="serve Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )
    run.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        default="all",
        help="all: everything in this process (the default; the only role on SQLite); web: Slack, "
        "Teams and alert intake; worker: delivery, timers, storm summaries, directory refresh "
        "(web and worker: PostgreSQL, any number of each)",
    )


def _demo(sub: Subparsers) -> None:
    demo = sub.add_parser("demo", help="the whole critical-ticket lifecycle locally, no accounts")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument(
        "--teams",
        action="store_true",
        help="the employee in Teams (through a local Bot Connector), the technicians in Slack",
    )


def _db(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade"])


def _clients(sub: Subparsers) -> None:
    clients = sub.add_parser("clients", help="client companies")
    csub = clients.add_subparsers(dest="action", required=True)
    for name in ("add", "update"):
        c = csub.add_parser(name, help=f"{name} a client company")
        c.add_argument("--name", required=True)
        c.add_argument("--domain", action="append", default=[], help="email domain (repeatable)")
        c.add_argument("--contact-email", required=name == "add")
        c.add_argument("--slack-channel", help="the client's Slack channel id")
        c.add_argument(
            "--teams-tenant",
            metavar="TENANT_ID",
            help="the client's Microsoft Entra tenant id (GUID): Teams messages from that tenant "
            "belong to this client",
        )
        c.add_argument(
            "--teams-channel",
            metavar="CONVERSATION_ID",
            help='the client\'s Teams channel (19:…@thread.tacv2, or its "Get link to channel" '
            "link): the bot answers there and messages from it belong to this client",
        )
        c.add_argument(
            "--teams-webhook",
            metavar="URL",
            help='a Power Automate Workflows webhook URL ("Post to a channel when a webhook '
            'request is received"): notify-only clients get their ticket updates there; '
            "Office 365 connector URLs are refused (retired by Microsoft)",
        )
        c.add_argument(
            "--teams-outgoing-secret",
            help="Teams outgoing-webhook token (stored; not used: the Teams bot replaces "
            "outgoing webhooks)",
        )
        c.add_argument("--alert-label", action="append", default=[], help="KEY=VALUE (repeatable)")
        c.add_argument(
            "--timezone",
            help="e.g. Europe/London: the zone of --hours and --holiday (default: "
            "TICKETBOT_TIMEZONE)",
        )
        c.add_argument(
            "--hours",
            help='business hours, e.g. "Mon-Fri 08:00-18:00" or "Mon-Fri 08:00-12:00,13:00-17:00; '
            'Sat 09:00-12:00": SLA clocks of non-critical tickets run only then (default: '
            "TICKETBOT_BUSINESS_HOURS)",
        )
        c.add_argument(
            "--holiday",
            action="append",
            default=[],
            metavar="YYYY-MM-DD",
            help="a day the business hours do not run (repeatable; adds to the list)",
        )
        if name == "update":
            c.add_argument(
                "--remove-holiday",
                action="append",
                default=[],
                metavar="YYYY-MM-DD",
                help="take a day off the holiday list (repeatable)",
            )
    csub.add_parser("list", help="list client companies")
    rm = csub.add_parser("remove", help="remove a client company (its tickets stay)")
    rm.add_argument("--name", required=True)


def _manifest(sub: Subparsers) -> None:
    man = sub.add_parser(
        "manifest",
        help="print the Slack app manifest, or with --teams write the Teams app package",
    )
    man.add_argument("--url", help="public base URL of this deployment (https://HOST)")
    man.add_argument(
        "--teams", action="store_true", help="write the Teams app package (a zip) instead"
    )
    man.add_argument(
        "--app-id", help="Teams: the Azure Bot's Microsoft App ID (default: TEAMS_APP_ID)"
    )
    man.add_argument(
        "--app-version",
        default="1.0.0",
        help="Teams: the package version; raise it for each update you upload (default 1.0.0)",
    )
    man.add_argument(
        "--out", default="ticketbot-teams.zip", help="Teams: the zip to write (ticketbot-teams.zip)"
    )


def _report(sub: Subparsers) -> None:
    report = sub.add_parser(
        "report", help="a month's ticket figures per client and overall (stdout, or --output)"
    )
    report.add_argument(
        "--client", metavar="NAME", help="one client only (default: every client and overall)"
    )
    report.add_argument(
        "--month",
        metavar="YYYY-MM",
        help="the month, in TICKETBOT_TIMEZONE (default: the previous month)",
    )
    report.add_argument("--format", choices=["text", "csv", "html"], default="text")
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")


def _outbox(sub: Subparsers) -> None:
    outbox = sub.add_parser("outbox", help="undeliverable notifications")
    osub = outbox.add_subparsers(dest="action", required=True)
    ol = osub.add_parser("list", help="list parked (or --status pending) notifications")
    ol.add_argument("--status", default="parked", choices=["parked", "pending", "sending", "done"])
    orr = osub.add_parser("retry", help="put parked notifications back in the queue")
    orr.add_argument("ids", nargs="*", type=int)
    orr.add_argument("--all", action="store_true")
