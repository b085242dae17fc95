"""App Home: who opened it (and at which page), the refresh job's cursor, tickets by update time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_viewers",
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id"),
    )
    op.create_table(
        "job_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_tickets_updated", "tickets", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tickets_updated", table_name="tickets")
    op.drop_table("job_cursors")
    op.drop_table("home_viewers")
