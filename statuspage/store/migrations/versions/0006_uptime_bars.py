"""Uptime bars: each component's 90-day bar kept beside its rollups.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Not filled here: the next rollup write fills a component's row (the
scheduler refreshes rollups every minute), and until then the page reads
the rollups as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from statuspage.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uptime_bars",
        sa.Column("component_id", sa.String(length=64), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.Column("uptime", sa.Float(), nullable=True),
        sa.Column("no_data_s", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name="fk_uptime_bars_component_id_components"
        ),
        sa.PrimaryKeyConstraint("component_id", name="pk_uptime_bars"),
    )


def downgrade() -> None:
    raise RuntimeError("downgrades are not supported; restore a backup instead")
