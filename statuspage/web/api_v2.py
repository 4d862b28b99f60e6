"""The Statuspage-compatible read API under /api/v2: what embedded widgets,
exporters and client libraries written for Atlassian Statuspage read.

Public, read-only, cacheable and readable from any origin. No query
parameter is used, so none (unknown, repeated, `a[]=`) can change the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, jsonify

from statuspage.config import Config
from statuspage.maintenance import next_occurrence, status_at
from statuspage.statuspage_api import (
    ApiPage,
    ComponentJSON,
    IncidentJSON,
    MaintenanceJSON,
    PageJSON,
    components_json,
    incident_json,
    maintenance_json,
    page_json,
    status_json,
)
from statuspage.store import Store
from statuspage.store.incident_rows import IncidentRow
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import Maintenance, MaintenanceRepository
from statuspage.web import deps
from statuspage.web.pageview import build_page

bp = Blueprint("api_v2", __name__, url_prefix="/api/v2")

RECENT_INCIDENTS = 50
RECENT_MAINTENANCES = 50
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    if response.status_code == 200:
        response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@dataclass(frozen=True)
class Snapshot:
    """The page at one instant, ready to serialize."""

    page: ApiPage
    now: datetime
    components: list[ComponentJSON]
    by_id: dict[str, ComponentJSON]
    latest_change: datetime


def snapshot() -> Snapshot:
    return snapshot_of(deps.config(), deps.store(), deps.now())


def snapshot_of(config: Config, store: Store, now: datetime) -> Snapshot:
    """The page at `now`, outside a request too (the outbox worker)."""
    view = build_page(config, store, now)
    page = ApiPage.of(config.site.title, config.site.url, config.site.timezone)
    created = {}
    for c in view.components:
        first = store.transitions(c.id, limit=1)
        if first:
            created[c.id] = first[0].at
    components = components_json(page, view.components, created)
    by_id = {c["id"]: c for c in components if not c["group"]}
    latest = max((c.since for c in view.components), default=now)
    return Snapshot(page, now, components, by_id, latest)


def incidents(snap: Snapshot, rows: Sequence[IncidentRow]) -> list[IncidentJSON]:
    repo = IncidentRepository(deps.store())
    found = []
    for row in rows:
        if row.published_at is None:  # the repository already leaves drafts out
            continue
        detail = repo.detail(row.id)
        updates = detail.updates if detail else []
        found.append(incident_json(snap.page, row, updates, snap.by_id))
    return found


def maintenances(snap: Snapshot, items: Iterable[Maintenance]) -> list[MaintenanceJSON]:
    repo = _maintenance_repo()
    found = []
    for listed in items:
        # The lists for the page leave the timeline out; the API shows it.
        m = listed if listed.updates else repo.get(listed.id) or listed
        window = m.window()
        occurrence = next_occurrence(window, snap.now) or (m.starts_at, m.ends_at)
        status = status_at(window, snap.now)
        found.append(maintenance_json(snap.page, m, status, occurrence, snap.by_id))
    return found


def _maintenance_repo() -> MaintenanceRepository:
    return MaintenanceRepository(deps.store())


def _page(snap: Snapshot, *shown: Iterable[IncidentRow | Maintenance]) -> PageJSON:
    """The page object, updated at its latest change among what is shown."""
    times = [item.updated_at for items in shown for item in items]
    return page_json(snap.page, max([snap.latest_change, *times]))


def _maintenance_answer(snap: Snapshot, items: Sequence[Maintenance]) -> Response:
    return jsonify(
        {"page": _page(snap, items), "scheduled_maintenances": maintenances(snap, items)}
    )


@bp.get("/summary.json")
def summary() -> Response:
    snap = snapshot()
    repo = _maintenance_repo()
    open_rows = IncidentRepository(deps.store()).unresolved()
    planned_rows = [*repo.active(snap.now), *repo.upcoming(snap.now)]
    return jsonify(
        {
            "page": _page(snap, open_rows, planned_rows),
            "components": snap.components,
            "incidents": incidents(snap, open_rows),
            "scheduled_maintenances": maintenances(snap, planned_rows),
            "status": status_json(snap.components),
        }
    )


@bp.get("/status.json")
def status() -> Response:
    snap = snapshot()
    return jsonify({"page": _page(snap), "status": status_json(snap.components)})


@bp.get("/components.json")
def components() -> Response:
    snap = snapshot()
    return jsonify({"page": _page(snap), "components": snap.components})


@bp.get("/incidents.json")
def all_incidents() -> Response:
    snap = snapshot()
    rows = IncidentRepository(deps.store()).recent(limit=RECENT_INCIDENTS)
    return jsonify({"page": _page(snap, rows), "incidents": incidents(snap, rows)})


@bp.get("/incidents/unresolved.json")
def unresolved_incidents() -> Response:
    snap = snapshot()
    rows = IncidentRepository(deps.store()).unresolved()
    return jsonify({"page": _page(snap, rows), "incidents": incidents(snap, rows)})


@bp.get("/scheduled-maintenances.json")
def all_maintenances() -> Response:
    snap = snapshot()
    repo = _maintenance_repo()
    items = [
        *repo.active(snap.now),
        *repo.upcoming(snap.now),
        *repo.recent(snap.now, limit=RECENT_MAINTENANCES),
    ][:RECENT_MAINTENANCES]
    return _maintenance_answer(snap, items)


@bp.get("/scheduled-maintenances/upcoming.json")
def upcoming_maintenances() -> Response:
    snap = snapshot()
    return _maintenance_answer(snap, _maintenance_repo().upcoming(snap.now))


@bp.get("/scheduled-maintenances/active.json")
def active_maintenances() -> Response:
    snap = snapshot()
    return _maintenance_answer(snap, _maintenance_repo().active(snap.now))
