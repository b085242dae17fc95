"""Delivery across processes: the pace of each conversation, shared by every process; on
PostgreSQL, a notification on channel `ticketbot_outbox` when outbox rows are written

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# What the rows a statement inserted are (a line of channel, kind and target each), sent when its
# transaction commits; only their channels when that is too long for a notification (8000 bytes).
_NOTIFY = """
CREATE FUNCTION ticketbot_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lines text;
BEGIN
    SELECT string_agg(DISTINCT concat_ws(E'\\t', channel, kind, target), E'\\n') INTO lines
    FROM written;
    IF octet_length(lines) > 7000 THEN
        SELECT string_agg(DISTINCT channel, E'\\n') INTO lines FROM written;
    END IF;
    PERFORM pg_notify('ticketbot_outbox', lines);
    RETURN NULL;
END
$$
"""
_TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS written
FOR EACH STATEMENT EXECUTE FUNCTION ticketbot_outbox_notify()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY)
        op.execute(_TRIGGER)
    op.create_table(
        "paces",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.Column("paused_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "target"),
    )
    op.create_index("ix_paces_tat", "paces", ["tat"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_paces_tat", table_name="paces")
    op.drop_table("paces")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_notify ON outbox")
        op.execute("DROP FUNCTION ticketbot_outbox_notify()")
