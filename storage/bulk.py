"""Inserting several rows with one statement, whatever the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (all with the same keys) into `table`.

    With RETURNING, SQLAlchemy sends many rows as one INSERT … VALUES (…), (…)
    ("insertmanyvalues"); on PostgreSQL that costs a fraction of psycopg's executemany, which
    pipelines one INSERT per row. SQLite's executemany is already cheap.
    """
    if not rows:
        return
    plain, returning = _statements(table)
    if len(rows) > 1 and connection.dialect.name == "postgresql":
        connection.execute(returning, list(rows)).all()
    else:
        connection.execute(plain, list(rows))


@cache
def _statements(table: Table) -> tuple[Insert, Insert]:
    statement = insert(table)
    return statement, statement.returning(*table.primary_key.columns)
