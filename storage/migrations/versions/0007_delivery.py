"""Delivery across processes: the pace of each conversation, shared by every process; on
PostgreSQL, a notification on channel `ticketbot_outbox` when outbox rows are written

Revision ID: 0007
Revises: 0004 (0006 once the timers and SLA migrations are merged)
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


# The outbox channels of the rows a statement inserted, sent when its transaction commits.
_NOTIFY = """
CREATE FUNCTION ticketbot_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ticketbot_outbox', (SELECT string_agg(DISTINCT channel, ',') FROM written));
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


def downgrade() -> None:
    op.drop_table("paces")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER outbox_notify ON outbox")
        op.execute("DROP FUNCTION ticketbot_outbox_notify()")
