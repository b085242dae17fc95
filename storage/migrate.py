"""Alembic migrations run programmatically (`ticketbot db upgrade`, and at start on SQLite)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`."""
    command.upgrade(alembic_config(engine), revision)


class SchemaState(StrEnum):
    CURRENT = "current"
    BEHIND = "behind"  # older than this code (or empty): `ticketbot db upgrade` first
    AHEAD = "ahead"  # a newer version's migrations ran: this code is the previous version


def schema_state(engine: Engine) -> tuple[SchemaState, str]:
    """Where the database's schema stands against this code's migrations, and its revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    revision = ", ".join(sorted(current)) or "empty"
    if current == heads:
        return SchemaState.CURRENT, revision
    known = {rev.revision for rev in script.walk_revisions()}
    if current and not current <= known:
        return SchemaState.AHEAD, revision
    return SchemaState.BEHIND, revision
