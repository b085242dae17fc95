"""`ticketbot db upgrade`: the database to the latest schema."""

from __future__ import annotations

import argparse

from bot.cli.settings import db_settings


def db(_: argparse.Namespace) -> int:
    from storage.engine import make_engine
    from storage.migrate import upgrade

    upgrade(make_engine(db_settings().database_url))
    print("database is at the latest schema")
    return 0
