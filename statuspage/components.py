"""Settling a component's status: checks, staff overrides and maintenance
windows in, one transition (with its rollups) out.

The one place that writes a component's status, used by the scheduler (a
check moved), the admin (a person set or released a status) and the
maintenance job (a window began or ended), so every path records the same
transition and keeps the uptime rollups current.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from statuspage.domain import ComponentStatus
from statuspage.state import (
    CheckState,
    component_change_time,
    derive_component_state,
    effective_component_state,
)
from statuspage.store import Store
from statuspage.uptime import Transition, day_bounds, local_day, rollup_days

log = logging.getLogger(__name__)


def settle_component(
    store: Store,
    conn: Connection,
    component_id: str,
    checks: Sequence[tuple[str, CheckState]],
    now: datetime,
    tz: ZoneInfo,
    changed: Sequence[CheckState] = (),
    fallback_at: datetime | None = None,
    override: tuple[ComponentStatus, str] | None = None,
    maintenance: str | None = None,
) -> Transition | None:
    """Write the component's status as the rules make it; return the
    transition when it changed. `changed` are the check states that moved
    in this evaluation: the transition is dated from them."""
    automated = derive_component_state(checks)
    wanted = effective_component_state(automated, override, maintenance)
    current = store.component(component_id, conn=conn)
    if current is None:
        return None
    if wanted.status is current.status:
        if wanted.reason != current.status_reason:
            store.set_component_status(
                conn, component_id, current.status, current.status_since, wanted.reason
            )
        return None
    automatic_change = override is None and maintenance is None
    at = component_change_time(
        changed if automatic_change else (),
        fallback_at or now,
        not_before=current.status_since,
    )
    transition = Transition(at=at, old=current.status, new=wanted.status, reason=wanted.reason)
    store.insert_transition(conn, component_id, transition, recorded_at=now)
    store.set_component_status(conn, component_id, wanted.status, at, wanted.reason)
    log.info(
        "component %s: %s -> %s (%s)",
        component_id,
        current.status.value,
        wanted.status.value,
        wanted.reason,
        extra={"component": component_id},
    )
    write_rollups(store, conn, component_id, local_day(at, tz), now, tz)
    return transition


def write_rollups(
    store: Store, conn: Connection, component_id: str, first_day: date, now: datetime, tz: ZoneInfo
) -> None:
    """Recompute the daily rollups from `first_day` to today from the
    transitions (cheap: a few transitions a day)."""
    start, _ = day_bounds(first_day, tz)
    transitions = store.transitions(component_id, since=start, conn=conn)
    rollups = rollup_days(transitions, first_day, local_day(now, tz), now, tz)
    store.upsert_rollups(conn, component_id, rollups, now)
