"""`ticketbot outbox list|retry`: the notifications that could not be delivered."""

from __future__ import annotations

import argparse
import sys

from bot.cli.settings import db_settings

# Where an outbox row goes, by the payload field that names it (email, Slack, Teams, webhook).
_TARGETS = ("to", "channel", "conversation", "user", "anchor", "client_id")


def outbox(args: argparse.Namespace) -> int:
    from bot.domain.clock import SystemClock
    from bot.outbox.admin import list_rows, retry
    from storage.engine import make_engine, make_session_factory

    sessions = make_session_factory(make_engine(db_settings().database_url))
    with sessions.begin() as s:
        if args.action == "list":
            rows = list_rows(s, args.status)
            if not rows:
                print(f"no {args.status} notifications")
            for r in rows:
                # Never the webhook URL: it is not in the payload (it carries a signature).
                target = r.target or next(
                    (str(r.payload[k]) for k in _TARGETS if r.payload.get(k)), ""
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
