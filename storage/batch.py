"""A transaction's plain writes, sent together as it commits: new rows, and at most one UPDATE
guarded by a version. On PostgreSQL they go as one statement (data-modifying CTEs), elsewhere as
one statement per table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Select,
    Table,
    Update,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.exc import StaleDataError

from storage.bulk import insert_rows

_BATCH = "ticketbot.write_batch"
# What one use-case writes fits (a ticket's timeline row and its notifications); a bigger batch,
# such as an alert storm's, goes one executemany per table instead of as a statement of its own.
ONE_STATEMENT_ROWS = 32


@dataclass
class _Guarded:
    """UPDATE `table` SET `values` WHERE id = `row_id` AND version = `seen`."""

    table: Table
    row_id: int
    seen: int
    values: dict[str, Any]


@dataclass
class WriteBatch:
    inserts: dict[Table, list[Mapping[str, Any]]] = field(default_factory=dict)
    guarded: _Guarded | None = None

    def insert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Add a row (every row of a table with the same keys)."""
        self.inserts.setdefault(table, []).append(row)

    def update_versioned(
        self, table: Table, row_id: int, seen: int, values: Mapping[str, Any]
    ) -> None:
        """Set `values` (the new `version` among them) on the row if it is still at `seen`; the
        commit raises StaleDataError when it is not."""
        if self.guarded is not None:
            raise ValueError("one versioned UPDATE per transaction")
        self.guarded = _Guarded(table, row_id, seen, dict(values))

    def send(self, connection: Connection) -> None:
        if not self.inserts and self.guarded is None:
            return
        updated: int | None
        count = sum(len(rows) for rows in self.inserts.values())
        if connection.dialect.name == "postgresql" and count <= ONE_STATEMENT_ROWS:
            updated = _send_as_one(connection, self)
        else:
            for table, rows in self.inserts.items():
                insert_rows(connection, table, rows)
            updated = _update_alone(connection, self.guarded) if self.guarded else None
        self.inserts.clear()
        guarded, self.guarded = self.guarded, None
        if guarded is not None and updated != 1:
            name = guarded.table.name
            raise StaleDataError(f"{name} {guarded.row_id} changed after version {guarded.seen}")


def batch(session: Session) -> WriteBatch:
    """This session's batch, sent as its transaction commits."""
    found: WriteBatch | None = session.info.get(_BATCH)
    if found is None:
        found = session.info[_BATCH] = WriteBatch()
    return found


def _update_alone(connection: Connection, guarded: _Guarded) -> int:
    statement = _guarded_update(guarded.table, tuple(sorted(guarded.values)), "")
    result = connection.execute(statement, _guarded_params(guarded, ""))
    return int(result.rowcount)


@cache
def _guarded_update(table: Table, keys: tuple[str, ...], prefix: str) -> Update:
    return (
        update(table)
        .where(
            table.c.id == bindparam(f"{prefix}row_id"),
            table.c.version == bindparam(f"{prefix}seen"),
        )
        .values({key: bindparam(f"{prefix}set_{key}", type_=table.c[key].type) for key in keys})
    )


def _guarded_params(guarded: _Guarded, prefix: str) -> dict[str, Any]:
    params = {f"{prefix}set_{key}": value for key, value in guarded.values.items()}
    params[f"{prefix}row_id"] = guarded.row_id
    params[f"{prefix}seen"] = guarded.seen
    return params


# One statement per shape (tables, row counts, columns), compiled once: SQLAlchemy does not cache
# statements with INSERT … VALUES in a CTE, and compiling one costs milliseconds. A shape is what
# one kind of use-case writes, so there are few of them.
_Shape = tuple[tuple[tuple[str, int, tuple[str, ...]], ...], tuple[str, tuple[str, ...]] | None]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    json_params: frozenset[str]  # sent as JSON text (the SQL casts them), as SQLAlchemy's JSON does


_COMPILED: dict[tuple[str, _Shape], _Compiled] = {}


def _send_as_one(connection: Connection, b: WriteBatch) -> int:
    """WITH i0 AS (INSERT …), … u AS (UPDATE … RETURNING id) SELECT count(*) FROM u: PostgreSQL
    runs every part, whether the SELECT reads it or not, in one round trip. Returns the count."""
    tables = list(b.inserts.items())
    shape: _Shape = (
        tuple((t.name, len(rows), tuple(rows[0])) for t, rows in tables),
        (b.guarded.table.name, tuple(sorted(b.guarded.values))) if b.guarded else None,
    )
    key = (connection.dialect.name, shape)
    compiled = _COMPILED.get(key)
    if compiled is None:
        statement, json_params = _build(tables, b.guarded)
        sql = statement.compile(dialect=connection.dialect).string
        compiled = _COMPILED[key] = _Compiled(sql, frozenset(json_params))
    params: dict[str, Any] = {}
    for t_index, (_, rows) in enumerate(tables):
        for r_index, row in enumerate(rows):
            for name, value in row.items():
                params[f"i{t_index}_{r_index}_{name}"] = value
    if b.guarded is not None:
        params.update(_guarded_params(b.guarded, "u_"))
    for name in compiled.json_params:
        params[name] = json.dumps(params[name])
    return int(connection.exec_driver_sql(compiled.sql, params).scalar_one())


def _build(
    tables: list[tuple[Table, list[Mapping[str, Any]]]], guarded: _Guarded | None
) -> tuple[Select[Any], list[str]]:
    ctes = []
    json_params: list[str] = []
    for t_index, (table, rows) in enumerate(tables):
        columns: list[Column[Any]] = [table.c[key] for key in rows[0]]
        values = []
        for r_index in range(len(rows)):
            row: dict[str, Any] = {}
            for c in columns:
                name = f"i{t_index}_{r_index}_{c.name}"
                row[c.name] = bindparam(name, type_=c.type)
                if isinstance(c.type, JSON):
                    json_params.append(name)
            values.append(row)
        ctes.append(insert(table).values(values).cte(f"i{t_index}"))
    if guarded is None:
        return select(literal_column("1")).add_cte(*ctes), json_params
    table = guarded.table
    keys = tuple(sorted(guarded.values))
    json_params += [f"u_set_{k}" for k in keys if isinstance(table.c[k].type, JSON)]
    updated = _guarded_update(table, keys, "u_").returning(table.c.id).cte("u")
    return select(func.count()).select_from(updated).add_cte(*ctes), json_params


@event.listens_for(Session, "before_commit")
def _send_batch(session: Session) -> None:
    found: WriteBatch | None = session.info.get(_BATCH)
    if found is not None and (found.inserts or found.guarded is not None):
        if session.new:  # rows the batch's rows may refer to go first
            session.flush()
        found.send(session.connection())


@event.listens_for(Session, "after_transaction_end")
def _drop_batch(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed and sent, or rolled back: nothing to keep
        session.info.pop(_BATCH, None)
