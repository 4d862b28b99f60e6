"""The schema. Alembic migrations in `migrations/` create it; a test checks
that the migrations and these tables agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend
    (SQLite has no time zones and hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Autoincrementing 64-bit ids; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

components = Table(
    "components",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("group_name", String(200)),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    # The current status: the read model the pages use.
    Column("status", String(32), nullable=False),
    Column("status_since", UTCDateTime, nullable=False),
    Column("status_reason", Text, nullable=False, default=""),
)

checks = Table(
    "checks",
    metadata,
    Column("id", String(140), primary_key=True),
    Column("component_id", String(64), ForeignKey("components.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("interval_s", Float, nullable=False),
    # The confirmed state from the state engine.
    Column("status", String(32), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("last_data_at", UTCDateTime),
    Column("next_change_at", UTCDateTime),
    # The newest raw result, whatever it said.
    Column("last_result_at", UTCDateTime),
    Column("last_result_status", String(32)),
    Column("last_result_reason", Text),
    Column("last_latency_ms", Float),
    Column("last_value", Float),
)

check_results = Table(
    "check_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("check_id", String(140), ForeignKey("checks.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("latency_ms", Float),
    Column("value", Float),
    Index("ix_check_results_check_id_at", "check_id", "at"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("component_id", String(64), ForeignKey("components.id"), nullable=False),
    # When the rule says the change happened (not when it was noticed).
    Column("at", UTCDateTime, nullable=False),
    Column("old_status", String(32)),
    Column("new_status", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_transitions_component_id_at", "component_id", "at"),
)

daily_rollups = Table(
    "daily_rollups",
    metadata,
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("operational_s", Float, nullable=False, default=0.0),
    Column("degraded_performance_s", Float, nullable=False, default=0.0),
    Column("partial_outage_s", Float, nullable=False, default=0.0),
    Column("major_outage_s", Float, nullable=False, default=0.0),
    Column("under_maintenance_s", Float, nullable=False, default=0.0),
    # No-data time, kept apart: it is neither up nor down.
    Column("unknown_s", Float, nullable=False, default=0.0),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The 90-day bar of each component, rewritten with its rollups (same
# transaction), so a page reads one row per component, not one per day.
# A missing or older row is no error: the page then reads the rollups.
uptime_bars = Table(
    "uptime_bars",
    metadata,
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
    Column("last_day", Date, nullable=False),
    Column("cells", Text, nullable=False),  # one per day, comma-separated (uptime.UptimeBar)
    Column("uptime", Float),  # over the bar's days; NULL without any data
    Column("no_data_s", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

missed_runs = Table(
    "missed_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("check_id", String(140), nullable=False),
    Column("scheduled_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_missed_runs_check_id_scheduled_at", "check_id", "scheduled_at"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=False, default=""),
)

heartbeat_checks = Table(
    "heartbeat_checks",
    metadata,
    Column("check_id", String(140), ForeignKey("checks.id"), primary_key=True),
    # SHA-256 of the token; the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("token_created_at", UTCDateTime, nullable=False),
    Column("last_ping_at", UTCDateTime),
    Column("last_fail_at", UTCDateTime),
    Column("pings", BigInteger, nullable=False, default=0),
)

# --- people, tokens, audit (issue: admin) -------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # admin, editor, viewer
    Column("disabled", Boolean, nullable=False, default=False),
    # Bumped on password change or disable: every older session stops working.
    Column("session_version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256
    Column("role", String(16), nullable=False),
    Column("user_id", BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    # "user:alice", "token:ci", "automation"
    Column("actor", String(120), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(140), nullable=False),
    # JSON of the object before and after; null for a creation / deletion.
    Column("before", Text),
    Column("after", Text),
    Index("ix_audit_log_at", "at"),
)

# --- incidents ------------------------------------------------------------

incidents = Table(
    "incidents",
    metadata,
    # Statuspage-style ids: 12 lowercase letters and digits, stable forever.
    Column("id", String(16), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("impact", String(16), nullable=False),
    # "automatic", "staff", "alertmanager", "api"
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Null while a draft waits for a person to publish it.
    Column("published_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("postmortem_body", Text),
    Column("postmortem_published_at", UTCDateTime),
    Index("ix_incidents_created_at", "created_at"),
)

incident_components = Table(
    "incident_components",
    metadata,
    Column("incident_id", String(16), ForeignKey("incidents.id"), primary_key=True),
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
    # The status this incident says the component is in.
    Column("status", String(32), nullable=False),
)

incident_updates = Table(
    "incident_updates",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("incident_id", String(16), ForeignKey("incidents.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),  # Markdown, as written
    # "user:alice", "automation"; never shown to the public.
    Column("author", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The time the page shows (staff may backdate an update they post late).
    Column("display_at", UTCDateTime, nullable=False),
    Column("deliver_notifications", Boolean, nullable=False, default=True),
    # JSON list of {component_id, old_status, new_status} at this update.
    Column("affected_components", Text, nullable=False, default="[]"),
    Index("ix_incident_updates_incident_id_display_at", "incident_id", "display_at"),
)

component_overrides = Table(
    "component_overrides",
    metadata,
    # A status a person (or an Alertmanager alert) set by hand: it wins over
    # the checks until released.
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("set_by", String(120), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
    Column("incident_id", String(16), ForeignKey("incidents.id")),
)

alertmanager_alerts = Table(
    "alertmanager_alerts",
    metadata,
    # The alerts Alertmanager says are firing, by its fingerprint (a hash of
    # the labels), each mapped to a component and status by the config. A
    # component's Alertmanager override is the worst of its rows; resolved
    # alerts are deleted.
    Column("fingerprint", String(64), primary_key=True),
    Column("component_id", String(64), ForeignKey("components.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_alertmanager_alerts_component_id", "component_id"),
)

# --- scheduled maintenance ---------------------------------------------------

maintenances = Table(
    "maintenances",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    # The zone it was entered in: a weekly window keeps its local time
    # across a DST change.
    Column("timezone", String(64), nullable=False),
    # None, "daily" or "weekly"; repeats until `recurrence_until`.
    Column("recurrence", String(16)),
    Column("recurrence_until", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime),
)

maintenance_components = Table(
    "maintenance_components",
    metadata,
    Column("maintenance_id", String(16), ForeignKey("maintenances.id"), primary_key=True),
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
)

maintenance_updates = Table(
    "maintenance_updates",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("maintenance_id", String(16), ForeignKey("maintenances.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("author", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("display_at", UTCDateTime, nullable=False),
    Column("deliver_notifications", Boolean, nullable=False, default=True),
)

# --- deploy markers ------------------------------------------------------------

deployments = Table(
    "deployments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("component_id", String(64), ForeignKey("components.id"), nullable=False),
    Column("version", String(200), nullable=False),
    Column("who", String(200), nullable=False, default=""),
    Column("link", Text),
    # When the deploy happened (CI may report it a little later).
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_deployments_component_id_at", "component_id", "at"),
)

# --- subscribers and the notification outbox ----------------------------------

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("kind", String(16), nullable=False),  # "email" or "webhook"
    # The mail address (lower-cased domain) or the webhook URL.
    Column("address", String(2000), nullable=False),
    # "pending" (waiting for its confirmation), "active", "unsubscribed",
    # "disabled" (a permanent failure), "quarantined" (a webhook that kept failing)
    Column("state", String(16), nullable=False),
    # True: every component; false: only those in subscriber_components.
    Column("all_components", Boolean, nullable=False, default=True),
    # Also tell of component status changes, not only incidents and maintenance.
    Column("component_updates", Boolean, nullable=False, default=False),
    # A random value the confirmation link is signed with; cleared when used,
    # so the link works once. Its expiry is in the signed link itself.
    Column("confirm_nonce", String(64)),
    # Bumped to make every earlier unsubscribe/manage link stop working.
    Column("link_version", Integer, nullable=False, default=1),
    # A webhook's signing key, encrypted with the site's secret key.
    Column("secret_encrypted", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_by", String(120), nullable=False),  # "public" or "user:alice"
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_subscribers_kind_address", "kind", "address", unique=True),
    Index("ix_subscribers_state", "state"),
)

subscriber_components = Table(
    "subscriber_components",
    metadata,
    Column("subscriber_id", String(16), ForeignKey("subscribers.id"), primary_key=True),
    Column("component_id", String(64), ForeignKey("components.id"), primary_key=True),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    # One row per thing subscribers hear of, written in the same transaction
    # as the change that caused it.
    Column("id", BigId, primary_key=True, autoincrement=True),
    # incident.created, incident.updated, maintenance.scheduled,
    # maintenance.started, maintenance.completed, component.updated,
    # subscriber.confirm
    Column("kind", String(32), nullable=False),
    # JSON: what happened, by reference ({"incident_id", "update_id"}, ...).
    Column("payload", Text, nullable=False),
    # JSON: the message for subscribers (Statuspage's webhook shape), built
    # once at fan-out so every delivery and every retry says the same.
    Column("document", Text),
    # The components it concerns (JSON list); empty: the whole page.
    Column("component_ids", Text, nullable=False, default="[]"),
    # Only this subscriber (a confirmation mail); null: everyone who matches.
    Column("subscriber_id", String(16), ForeignKey("subscribers.id")),
    Column("created_at", UTCDateTime, nullable=False),
    # Set once its deliveries are written (fan-out is idempotent).
    Column("fanned_out_at", UTCDateTime),
    Index("ix_outbox_events_fanned_out_at", "fanned_out_at"),
)

outbox_deliveries = Table(
    "outbox_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "event_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("outbox_events.id"),
        nullable=False,
    ),
    Column("subscriber_id", String(16), ForeignKey("subscribers.id"), nullable=False),
    # The same on every attempt (Message-ID, webhook-id), so a receiver can
    # drop a repeat after a crash between sending and marking it sent.
    Column("message_id", String(120), nullable=False, unique=True),
    # pending, sending, sent, failed (gave up), dropped (subscriber gone)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # The worker holding it and until when: a claim is a conditional update,
    # and a claim whose holder died runs out and is taken again.
    Column("claimed_by", String(64)),
    Column("claimed_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("uq_outbox_deliveries_event_subscriber", "event_id", "subscriber_id", unique=True),
    Index("ix_outbox_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
)
