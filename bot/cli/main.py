"""The `ticketbot` command: the only place that reads the environment and `.env`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from dotenv import load_dotenv

from bot.config.settings import ConfigError, Settings, log_format_of
from bot.telemetry import logs

log = logging.getLogger("ticketbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
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
        handler = {
            "run": _run,
            "demo": _demo,
            "db": _db,
            "clients": _clients,
            "manifest": _manifest,
            "outbox": _outbox,
            "report": _report,
        }[args.command]
        return handler(args)
    except ConfigError as e:
        print(f"ticketbot: configuration problems:\n{e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ticketbot", description="Chatops helpdesk for IT MSPs.")
    sub = p.add_subparsers(dest="command")
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
    demo = sub.add_parser("demo", help="the whole critical-ticket lifecycle locally, no accounts")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument(
        "--teams",
        action="store_true",
        help="the employee in Teams (through a local Bot Connector), the technicians in Slack",
    )
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade"])

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

    outbox = sub.add_parser("outbox", help="undeliverable notifications")
    osub = outbox.add_subparsers(dest="action", required=True)
    ol = osub.add_parser("list", help="list parked (or --status pending) notifications")
    ol.add_argument("--status", default="parked", choices=["parked", "pending", "sending", "done"])
    orr = osub.add_parser("retry", help="put parked notifications back in the queue")
    orr.add_argument("ids", nargs="*", type=int)
    orr.add_argument("--all", action="store_true")
    return p


def _db_settings() -> Settings:
    return Settings.from_mapping(os.environ, require_slack=False)


def _run(args: argparse.Namespace) -> int:
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


def _demo(args: argparse.Namespace) -> int:
    if args.teams:
        from bot.cli.demo_teams import run_teams_demo

        return run_teams_demo(out=sys.stdout, quiet=args.quiet)
    from bot.cli.demo import run_demo

    return run_demo(out=sys.stdout, quiet=args.quiet)


def _db(_: argparse.Namespace) -> int:
    from storage.engine import make_engine
    from storage.migrate import upgrade

    upgrade(make_engine(_db_settings().database_url))
    print("database is at the latest schema")
    return 0


def _clients(args: argparse.Namespace) -> int:
    from bot.app.clients import (
        ClientError,
        ClientSpec,
        add_client,
        list_clients,
        remove_client,
        update_client,
    )
    from bot.domain.clock import SystemClock
    from bot.teams.webhook_urls import redact
    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade

    settings = _db_settings()
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as s:
            if args.action == "list":
                rows = list_clients(s)
                if not rows:
                    print("no clients yet: add one with `ticketbot clients add --name …`")
                for c in rows:
                    labels = ", ".join(f"{x.key}={x.value}" for x in c.alert_labels) or "-"
                    domains = ", ".join(d.domain for d in c.domains) or "-"
                    print(f"{c.name}\n  domains: {domains}")
                    print(f"  contact: {c.contact_email or '-'}")
                    print(f"  slack channel: {c.slack_channel_id or '-'}  alert labels: {labels}")
                    print(
                        f"  teams tenant: {c.teams_tenant_id or '-'}  "
                        f"teams channel: {c.teams_channel_id or '-'}"
                    )
                    hook = redact(c.teams_webhook_url) if c.teams_webhook_url else "-"
                    print(f"  teams webhook: {hook}")
                    print(f"  timezone: {c.timezone or '-'}  hours: {c.hours or '-'}")
                    days = ", ".join(h.day.isoformat() for h in c.holidays) or "-"
                    print(f"  holidays: {days}")
                return 0
            if args.action == "remove":
                remove_client(s, args.name)
                print(f"removed client {args.name}")
                return 0
            own_tenant = settings.teams_tenant_id
            if own_tenant and (args.teams_tenant or "").strip().lower() == own_tenant:
                raise ClientError(
                    "--teams-tenant is your own tenant (TEAMS_TENANT_ID): every technician "
                    "would count as this client's employee; give the client's channel with "
                    "--teams-channel instead"
                )
            spec = ClientSpec(
                name=args.name,
                domains=args.domain,
                contact_email=args.contact_email,
                slack_channel=args.slack_channel,
                teams_webhook=args.teams_webhook,
                teams_tenant=args.teams_tenant,
                teams_channel=args.teams_channel,
                teams_outgoing_secret=args.teams_outgoing_secret,
                alert_labels=args.alert_label,
                timezone=args.timezone,
                hours=args.hours,
                holidays=args.holiday,
                remove_holidays=getattr(args, "remove_holiday", []),
            )
            if args.action == "add":
                add_client(s, spec, SystemClock().now())
                print(f"added client {args.name}")
            else:
                update_client(s, args.name, spec)
                print(f"updated client {args.name}")
    except ClientError as e:
        print(f"ticketbot: {e}", file=sys.stderr)
        return 2
    return 0


def _manifest(args: argparse.Namespace) -> int:
    if args.teams:
        return _teams_package(args)
    from bot.slack.manifest import render

    socket_mode = bool(os.environ.get("SLACK_APP_TOKEN", "").strip())
    sys.stdout.write(render(base_url=args.url, socket_mode=socket_mode))
    return 0


def _teams_package(args: argparse.Namespace) -> int:
    from bot.teams.manifest import PackageSpec, check, package

    app_id = args.app_id or os.environ.get("TEAMS_APP_ID", "").strip()
    if not args.url:
        print(
            "ticketbot: --teams needs --url https://HOST (the bot's public address)",
            file=sys.stderr,
        )
        return 2
    spec = PackageSpec(app_id=app_id, base_url=args.url, app_version=args.app_version)
    problems = check(spec)
    if problems:
        print("ticketbot: cannot build the Teams app package:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    try:
        with open(args.out, "wb") as out:
            out.write(package(spec))
    except OSError as e:
        print(f"ticketbot: cannot write {args.out}: {e.strerror}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}: upload it in Teams (Apps → Manage your apps → Upload an app) or in "
        "the Teams admin center (Teams apps → Manage apps → Upload new app)"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from bot.domain.clock import SystemClock
    from bot.reports import Month, ReportError, build_report
    from bot.reports.render import render
    from bot.service.sla import SlaPolicy
    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade

    settings = _db_settings()
    sla = SlaPolicy.of(settings)
    now = SystemClock().now()
    try:
        month = Month.parse(args.month) if args.month else Month.containing(now, sla.default.tz)
    except ValueError as e:
        print(f"ticketbot: --month: {e}", file=sys.stderr)
        return 2
    if not args.month:
        month = month.previous()
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    try:
        with make_session_factory(engine)() as s:
            report = build_report(s, month, sla, now=now, client=args.client)
    except ReportError as e:
        print(f"ticketbot: {e.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    out = render(report, args.format)
    if not args.output:
        sys.stdout.write(out)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(out)
    except OSError as e:
        print(f"ticketbot: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


# Where an outbox row goes, by the payload field that names it (email, Slack, Teams, webhook).
_OUTBOX_TARGETS = ("to", "channel", "conversation", "user", "anchor", "client_id")


def _outbox(args: argparse.Namespace) -> int:
    from bot.domain.clock import SystemClock
    from bot.outbox.admin import list_rows, retry
    from storage.engine import make_engine, make_session_factory

    sessions = make_session_factory(make_engine(_db_settings().database_url))
    with sessions.begin() as s:
        if args.action == "list":
            rows = list_rows(s, args.status)
            if not rows:
                print(f"no {args.status} notifications")
            for r in rows:
                # Never the webhook URL: it is not in the payload (it carries a signature).
                target = r.target or next(
                    (str(r.payload[k]) for k in _OUTBOX_TARGETS if r.payload.get(k)), ""
                )
                print(
                    f"{r.id}\tticket #{r.ticket_id}\t{r.channel}/{r.kind}\t{target}\t"
                    f"attempts={r.attempts}\t{r.last_error or ''}"
                )
            return 0
        if not args.ids and not args.all:
            print("ticketbot: give row ids, or --all", file=sys.stderr)
            return 2
        n = retry(s, args.ids, SystemClock().now(), all_parked=args.all)
        print(f"re-queued {n} notification(s)")
    return 0
