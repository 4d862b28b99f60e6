"""What an outbox event says, built once when it is fanned out.

The document is shaped like Atlassian Statuspage's webhook payload (`page`,
and `incident` or `component` + `component_update`), so a receiver written
for Statuspage reads ours unchanged; email is written from the same
document. Two fields are our own: `event` (what happened) and `update`
(the update that caused it, for the mail's text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.maintenance import next_occurrence, status_at
from statuspage.statuspage_api import (
    incident_json,
    maintenance_json,
    reported_status,
    stable_id,
    status_json,
    timestamp,
)
from statuspage.store import Store
from statuspage.store.incident_rows import UpdateRow
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository, MaintenanceUpdate
from statuspage.store.outbox import Event, EventKind
from statuspage.web.api_v2 import Snapshot, snapshot_of


def build_document(
    config: Config, store: Store, conn: Connection, event: Event, now: datetime
) -> dict[str, Any] | None:
    """The document for `event`, or None when there is nothing left to say
    (the incident or maintenance was deleted before the worker got to it)."""
    if event.kind is EventKind.SUBSCRIBER_CONFIRM:
        return {"event": event.kind.value}
    snap = snapshot_of(config, store, now)
    document: dict[str, Any] = {"event": event.kind.value, "page": _page(snap)}
    if event.kind in (EventKind.INCIDENT_CREATED, EventKind.INCIDENT_UPDATED):
        incident = _incident(store, conn, snap, event.payload)
        if incident is None:
            return None
        document.update(incident)
    elif event.kind in (
        EventKind.MAINTENANCE_SCHEDULED,
        EventKind.MAINTENANCE_STARTED,
        EventKind.MAINTENANCE_COMPLETED,
    ):
        maintenance = _maintenance(store, conn, snap, event.payload, now)
        if maintenance is None:
            return None
        document.update(maintenance)
    else:
        document.update(_component(snap, event))
    return document


def _page(snap: Snapshot) -> dict[str, Any]:
    status = status_json(snap.components)
    return {
        "id": snap.page.id,
        "name": snap.page.name,
        "url": snap.page.url,
        "status_indicator": status["indicator"],
        "status_description": status["description"],
    }


def _incident(
    store: Store, conn: Connection, snap: Snapshot, payload: dict[str, Any]
) -> dict[str, Any] | None:
    detail = IncidentRepository(store).detail(payload["incident_id"], conn=conn)
    if detail is None:
        return None
    incident = incident_json(snap.page, detail.incident, detail.updates, snap.by_id)
    update = next((u for u in detail.updates if u.id == payload["update_id"]), None)
    return {"incident": incident, "update": _update(update, snap)}


def _maintenance(
    store: Store, conn: Connection, snap: Snapshot, payload: dict[str, Any], now: datetime
) -> dict[str, Any] | None:
    m = MaintenanceRepository(store).get(payload["maintenance_id"], conn=conn)
    if m is None:
        return None
    window = m.window()
    occurrence = next_occurrence(window, now) or (m.starts_at, m.ends_at)
    found = maintenance_json(snap.page, m, status_at(window, now), occurrence, snap.by_id)
    update = next((u for u in m.updates if u.id == payload["update_id"]), None)
    return {"incident": found, "update": _update(update, snap)}


def _update(update: UpdateRow | MaintenanceUpdate | None, snap: Snapshot) -> dict[str, Any] | None:
    """The update that caused the event, for the mail's text."""
    if update is None:
        return None
    return {
        "id": update.id,
        "status": update.status.value,
        "body": update.body,
        "display_at": timestamp(update.display_at, snap.page.tz),
    }


def _component(snap: Snapshot, event: Event) -> dict[str, Any]:
    payload = event.payload
    component_id = payload["component_id"]
    component = snap.by_id.get(component_id)
    old, _ = reported_status(ComponentStatus(payload["old_status"]))
    new, _ = reported_status(ComponentStatus(payload["new_status"]))
    at = datetime.fromisoformat(payload["at"])
    return {
        "component": {
            "id": component["id"] if component else component_id,
            "name": component["name"] if component else component_id,
            "status": new.value,
            "created_at": component["created_at"] if component else timestamp(at, snap.page.tz),
        },
        "component_update": {
            "id": stable_id("component_update", str(payload.get("transition_id") or event.id)),
            "component_id": component["id"] if component else component_id,
            "old_status": old.value,
            "new_status": new.value,
            "created_at": timestamp(at, snap.page.tz),
        },
    }
