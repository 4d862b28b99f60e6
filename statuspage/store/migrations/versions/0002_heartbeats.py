"""Heartbeat checks: token hashes and the newest pings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from statuspage.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeat_checks",
        sa.Column("check_id", sa.String(140), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("token_created_at", UTCDateTime, nullable=False),
        sa.Column("last_ping_at", UTCDateTime),
        sa.Column("last_fail_at", UTCDateTime),
        sa.Column("pings", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("check_id", name="pk_heartbeat_checks"),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name="fk_heartbeat_checks_check_id_checks"
        ),
        sa.UniqueConstraint("token_hash", name="uq_heartbeat_checks_token_hash"),
    )


def downgrade() -> None:
    raise RuntimeError("downgrades are not supported; restore a backup instead")
