"""The JSON the /api/v1 routes answer with, as typed shapes, and the small
serializers of our own. Incidents and maintenances are answered in
Statuspage's shapes (`statuspage.statuspage_api`); the OpenAPI document
reads its response schemas from these types, so the two cannot drift."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from statuspage.statuspage_api import IncidentJSON, MaintenanceJSON
from statuspage.store.incident_rows import Deployment, Override
from statuspage.store.store import ComponentRow


class ErrorJSON(TypedDict):
    error: str
    # The field to blame ("" when none is); the token check names none.
    field: NotRequired[str]


class HeartbeatJSON(TypedDict):
    ok: bool
    check: str
    failed: bool


class DeploymentJSON(TypedDict):
    id: int
    component: str
    version: str
    who: str
    link: str | None
    at: str
    recorded_at: str


class DeploymentListJSON(TypedDict):
    deployments: list[DeploymentJSON]


class OverrideJSON(TypedDict):
    status: str
    reason: str
    set_by: str
    set_at: str


class StaffComponentJSON(TypedDict):
    """A component as staff see it: our own `unknown` is kept, and a status
    set by hand is shown with who set it and why."""

    id: str
    name: str
    status: str
    status_since: str
    override: OverrideJSON | None


class ComponentListJSON(TypedDict):
    components: list[StaffComponentJSON]


class AlertmanagerJSON(TypedDict):
    components: dict[str, str | None]
    changed: list[str]
    ignored: list[dict[str, str]]
    truncated_alerts: int


class StaffIncidentJSON(IncidentJSON):
    # Ours: not published yet (automatic incidents may wait for a person).
    draft: bool


class PaginationJSON(TypedDict):
    page: int
    per_page: int
    next_page: int | None


class IncidentListJSON(TypedDict):
    incidents: list[StaffIncidentJSON]
    pagination: PaginationJSON


class MaintenanceListJSON(TypedDict):
    maintenances: list[MaintenanceJSON]


def deployment_json(d: Deployment) -> DeploymentJSON:
    return {
        "id": d.id,
        "component": d.component_id,
        "version": d.version,
        "who": d.who,
        "link": d.link,
        "at": d.at.isoformat(),
        "recorded_at": d.recorded_at.isoformat(),
    }


def staff_component_json(c: ComponentRow, o: Override | None) -> StaffComponentJSON:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status.value,
        "status_since": c.status_since.isoformat(),
        "override": None
        if o is None
        else {
            "status": o.status.value,
            "reason": o.reason,
            "set_by": o.set_by,
            "set_at": o.set_at.isoformat(),
        },
    }
