"""`ticketbot demo`: the Slack demo, or with --teams the Teams one."""

from __future__ import annotations

import argparse
import sys


def demo(args: argparse.Namespace) -> int:
    if args.teams:
        from bot.cli.demo_teams import run_teams_demo

        return run_teams_demo(out=sys.stdout, quiet=args.quiet)
    from bot.cli.demo_slack import run_demo

    return run_demo(out=sys.stdout, quiet=args.quiet)
