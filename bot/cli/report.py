"""`ticketbot report`: a month's ticket figures per client and overall."""

from __future__ import annotations

import argparse
import sys

from bot.cli.settings import db_settings


def report(args: argparse.Namespace) -> int:
    from bot.domain.clock import SystemClock
    from bot.reports.build import ReportError, build_report
    from bot.reports.month import Month
    from bot.reports.render import render
    from bot.service.sla import SlaPolicy
    from storage.engine import make_engine, make_session_factory
    from storage.migrate import upgrade

    settings = db_settings()
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
