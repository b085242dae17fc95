"""Delivery across processes: the pace of each conversation, shared by every process

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


def upgrade() -> None:
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
