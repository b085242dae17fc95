"""Timers: rows with a due time (re-pings, reminders, auto-closes), and when a ticket last had
a technician's attention

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_tech_update_at", storage.models.UtcDateTime(timezone=True), nullable=True
            )
        )
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fires", sa.Integer(), nullable=False),
        sa.Column("fired_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_timers_ticket_id", "timers", ["ticket_id"], unique=False)
    op.create_index("ix_timers_state_due", "timers", ["state", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timers_state_due", table_name="timers")
    op.drop_index("ix_timers_ticket_id", table_name="timers")
    op.drop_table("timers")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("last_tech_update_at")
