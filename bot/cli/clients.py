"""`ticketbot clients add|update|list|remove`: the client companies."""

from __future__ import annotations

import argparse
import sys

from bot.cli.settings import db_settings


def clients(args: argparse.Namespace) -> int:
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

    settings = db_settings()
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
