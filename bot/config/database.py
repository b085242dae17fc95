"""The database section: where tickets are kept, and how long a claimed outbox row stays claimed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import Field

from bot.config.fields import Duration, Section, parsed

DEFAULT_DATABASE_URL = "sqlite:///ticketbot.db"
_SQLALCHEMY_URL = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://")


def _parse_database_url(value: str) -> str:
    if not _SQLALCHEMY_URL.match(value):
        raise ValueError(value)
    return value


DatabaseUrl = Annotated[
    str,
    parsed(
        _parse_database_url,
        "must be a SQLAlchemy URL such as sqlite:///ticketbot.db or "
        "postgresql+psycopg://user:password@host/dbname",
        echo=False,  # it may carry a password
    ),
]


class DatabaseSection(Section):
    """Where tickets are kept, and how long a killed process's claimed outbox rows wait."""

    database_url: DatabaseUrl = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    outbox_lease: Duration = Field(
        default=timedelta(seconds=30), validation_alias="TICKETBOT_OUTBOX_LEASE"
    )


def redact_url(url: str) -> str:
    """`scheme://***@host/path?***`: no user info, no query."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    if "@" in rest:
        rest = "***" + rest[rest.rfind("@") :]
    if "?" in rest:
        rest = rest[: rest.find("?")] + "?***"
    return scheme + sep + rest
