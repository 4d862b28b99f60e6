"""Initial schema: components, checks, results, transitions, rollups.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from statuspage.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("group_name", sa.String(200)),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_since", UTCDateTime, nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_components"),
    )
    op.create_table(
        "checks",
        sa.Column("id", sa.String(140), nullable=False),
        sa.Column("component_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("last_data_at", UTCDateTime),
        sa.Column("next_change_at", UTCDateTime),
        sa.Column("last_result_at", UTCDateTime),
        sa.Column("last_result_status", sa.String(32)),
        sa.Column("last_result_reason", sa.Text),
        sa.Column("last_latency_ms", sa.Float),
        sa.Column("last_value", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_checks"),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name="fk_checks_component_id_components"
        ),
    )
    op.create_table(
        "check_results",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("check_id", sa.String(140), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("latency_ms", sa.Float),
        sa.Column("value", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_check_results"),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name="fk_check_results_check_id_checks"
        ),
    )
    op.create_index("ix_check_results_check_id_at", "check_results", ["check_id", "at"])
    op.create_table(
        "transitions",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("component_id", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("old_status", sa.String(32)),
        sa.Column("new_status", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name="fk_transitions_component_id_components"
        ),
    )
    op.create_index("ix_transitions_component_id_at", "transitions", ["component_id", "at"])
    op.create_table(
        "daily_rollups",
        sa.Column("component_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("operational_s", sa.Float, nullable=False),
        sa.Column("degraded_performance_s", sa.Float, nullable=False),
        sa.Column("partial_outage_s", sa.Float, nullable=False),
        sa.Column("major_outage_s", sa.Float, nullable=False),
        sa.Column("under_maintenance_s", sa.Float, nullable=False),
        sa.Column("unknown_s", sa.Float, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("component_id", "day", name="pk_daily_rollups"),
        sa.ForeignKeyConstraint(
            ["component_id"], ["components.id"], name="fk_daily_rollups_component_id_components"
        ),
    )
    op.create_table(
        "missed_runs",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("check_id", sa.String(140), nullable=False),
        sa.Column("scheduled_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_missed_runs"),
    )
    op.create_index(
        "ix_missed_runs_check_id_scheduled_at", "missed_runs", ["check_id", "scheduled_at"]
    )
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_heartbeats"),
    )


def downgrade() -> None:
    # Migrations are forward-only: restore a backup to go back.
    raise RuntimeError("downgrades are not supported; restore a backup instead")
