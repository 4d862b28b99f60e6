"""Alerts firing in Alertmanager, mapped to components.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from statuspage.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alertmanager_alerts",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_alertmanager_alerts_component_id_components"),
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_alertmanager_alerts")),
    )
    with op.batch_alter_table("alertmanager_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alertmanager_alerts_component_id", ["component_id"], unique=False)


def downgrade() -> None:
    # Migrations are forward-only: restore a backup to go back.
    raise RuntimeError("downgrades are not supported; restore a backup instead")
