"""SLAs and business hours: clients' holidays, and each ticket's SLA due times and breaches

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TICKET_COLUMNS = (
    "response_due_at",
    "resolve_due_at",
    "responded_at",
    "response_breached_at",
    "resolve_breached_at",
    "response_warned_at",
    "resolve_warned_at",
)


def upgrade() -> None:
    op.create_table(
        "client_holidays",
        sa.Column(
            "client_id",
            sa.Integer(),
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for column in _TICKET_COLUMNS:
            batch_op.add_column(
                sa.Column(column, storage.models.UtcDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for column in reversed(_TICKET_COLUMNS):
            batch_op.drop_column(column)
    op.drop_table("client_holidays")
