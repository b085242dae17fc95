"""Microsoft Teams: people's Teams identities, clients' tenants and channels, conversations,
and chat columns wide enough for Teams conversation ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Columns that held Slack ids (C…, 1700000000.000100) and now hold Teams ones too.
_WIDENED = (
    ("tickets", "origin_channel", 32, 512),
    ("ticket_events", "source_channel", 32, 512),
    ("ticket_events", "source_ts", 32, 64),
    ("chat_messages", "channel", 32, 512),
    ("chat_messages", "ts", 32, 64),
    ("chat_messages", "thread_ts", 32, 64),
    ("chat_messages", "source_channel", 32, 512),
    ("chat_messages", "source_ts", 32, 64),
    ("outbox", "target", 32, 512),
)


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("teams_aad_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("teams_user_id", sa.String(200), nullable=True))
        batch_op.add_column(
            sa.Column("teams_tech_member", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_unique_constraint("uq_people_teams_aad_id", ["teams_aad_id"])
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("teams_tenant_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("teams_channel_id", sa.String(512), nullable=True))
        batch_op.create_unique_constraint("uq_clients_teams_tenant_id", ["teams_tenant_id"])
        batch_op.create_unique_constraint("uq_clients_teams_channel_id", ["teams_channel_id"])
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("surface", sa.String(16), server_default="slack", nullable=False)
        )
    for table, column, old, new in _WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(old), type_=sa.String(new), existing_nullable=True
            )
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.String(512), primary_key=True),
        sa.Column("service_url", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_aad_id", sa.String(64), nullable=True),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_teams_conversations_user_aad_id", "teams_conversations", ["user_aad_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_teams_conversations_user_aad_id", table_name="teams_conversations")
    op.drop_table("teams_conversations")
    for table, column, old, new in reversed(_WIDENED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column, existing_type=sa.String(new), type_=sa.String(old), existing_nullable=True
            )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_column("surface")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clients_teams_channel_id", type_="unique")
        batch_op.drop_constraint("uq_clients_teams_tenant_id", type_="unique")
        batch_op.drop_column("teams_channel_id")
        batch_op.drop_column("teams_tenant_id")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint("uq_people_teams_aad_id", type_="unique")
        batch_op.drop_column("teams_tech_member")
        batch_op.drop_column("teams_user_id")
        batch_op.drop_column("teams_aad_id")
