"""`ticketbot manifest`: the Slack app manifest, or with --teams the Teams app package."""

from __future__ import annotations

import argparse
import os
import sys


def manifest(args: argparse.Namespace) -> int:
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
