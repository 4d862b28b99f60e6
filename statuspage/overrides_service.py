"""Setting and releasing a component's status by hand (REL-08), shared by
the admin pages, the write API and the Alertmanager receiver.

Each change writes the override, its audit row and the component's new
status in the caller's transaction, so the public page shows it at once
and the checks cannot change it back until it is released.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from statuspage import audit
from statuspage.components import settle_component
from statuspage.domain import ComponentStatus
from statuspage.maintenance import maintenance_titles
from statuspage.store import Store
from statuspage.store.incident_rows import Override
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository


def resettle(
    store: Store, conn: Connection, component_id: str, now: datetime, tz: ZoneInfo
) -> None:
    """Write the component's status from its checks, its override and any
    maintenance window covering it now (as the monitor does)."""
    override = IncidentRepository(store).overrides(conn).get(component_id)
    title = maintenance_titles(MaintenanceRepository(store).windows(conn), now).get(component_id)
    settle_component(
        store,
        conn,
        component_id,
        [(c.name, c.state) for c in store.checks(component_id, conn=conn)],
        now,
        tz,
        override=(override.status, override.reason) if override else None,
        maintenance=title,
    )


def shown(o: Override | None) -> dict[str, str] | None:
    """An override as the audit log and the API show it."""
    if o is None:
        return None
    return {"status": o.status.value, "reason": o.reason, "set_by": o.set_by}


def set_status(
    store: Store,
    conn: Connection,
    component_id: str,
    status: ComponentStatus,
    *,
    reason: str,
    set_by: str,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
    only_over: str | None = None,
) -> bool:
    """Override the component's status and re-settle it; True when anything
    changed (the same status, reason and author again is no change and
    leaves no audit row). With `only_over`, an override set by someone else
    is left alone (Alertmanager never replaces a person's status)."""
    repo = IncidentRepository(store)
    before = repo.overrides(conn).get(component_id)
    if before is not None and (before.status, before.reason, before.set_by) == (
        status,
        reason,
        set_by,
    ):
        return False
    written = repo.set_override(
        conn, component_id, status, set_by=set_by, now=now, reason=reason, only_over=only_over
    )
    if not written:
        return False
    after = repo.overrides(conn).get(component_id)
    audit.record(
        conn,
        actor,
        "component.override",
        "component",
        component_id,
        shown(before),
        shown(after),
        now,
    )
    resettle(store, conn, component_id, now, tz)
    return True


def release_status(
    store: Store,
    conn: Connection,
    component_id: str,
    *,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
    only_set_by: str | None = None,
) -> bool:
    """Hand the component back to its checks; False if there was nothing to
    release (or, with `only_set_by`, it was set by someone else)."""
    repo = IncidentRepository(store)
    before = repo.overrides(conn).get(component_id)
    if not repo.release_override(conn, component_id, set_by=only_set_by):
        return False
    audit.record(
        conn, actor, "component.release", "component", component_id, shown(before), None, now
    )
    resettle(store, conn, component_id, now, tz)
    return True
