"""Incidents through the write API: list, open, read, edit, post updates
and resolve, with bodies and answers in Atlassian Statuspage's shapes.

Every change goes through `IncidentDesk`, as the admin pages' do: a
component status given in an incident holds the component until the
incident is resolved, and each change writes its audit row (actor
`token:<name>`) in the same transaction. A resolved incident takes no more
updates (409); its name and impact may still be corrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from statuspage.auth import Role
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incident_desk import IncidentDesk, NewIncident, NewUpdate
from statuspage.statuspage_api import incident_json
from statuspage.store.incidents import IncidentRepository, IncidentRow
from statuspage.web import deps
from statuspage.web.admin.incident_forms import DISPLAY_AHEAD
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_base import ApiError, bp, read_json, read_query, stored_id_or_404
from statuspage.web.api_models import (
    IncidentCreateIn,
    IncidentPatchIn,
    IncidentUpdate,
    IncidentUpdateIn,
    PageQuery,
)
from statuspage.web.api_shapes import IncidentListJSON, StaffIncidentJSON
from statuspage.web.api_v2 import Snapshot, snapshot

RESOLVED_BODY = "This incident has been resolved."


@bp.get("/incidents")
@token_required(Role.VIEWER)
def incident_list() -> ResponseReturnValue:
    """Newest first, drafts included, a page at a time."""
    query = read_query(PageQuery)
    rows = IncidentRepository(deps.store()).recent(
        limit=query.per_page + 1, drafts=True, offset=(query.page - 1) * query.per_page
    )
    snap = snapshot()
    more = len(rows) > query.per_page
    answer: IncidentListJSON = {
        "incidents": [_incident_json(snap, row) for row in rows[: query.per_page]],
        "pagination": {
            "page": query.page,
            "per_page": query.per_page,
            "next_page": query.page + 1 if more else None,
        },
    }
    return jsonify(answer)


@bp.post("/incidents")
@token_required(Role.EDITOR)
def incident_create() -> ResponseReturnValue:
    given = read_json(IncidentCreateIn).incident
    new = NewIncident(
        name=given.name.strip(),
        status=IncidentStatus(given.status),
        impact=IncidentImpact(given.impact),
        components=_known_components(given.components, "incident.components"),
        body=given.body,
        display_at=None,
        notify=given.deliver_notifications,
    )
    store = deps.store()
    with store.transaction() as conn:
        incident_id = _desk().open(conn, new)
    return _answer(incident_id, 201)


@bp.get("/incidents/<incident_id>")
@token_required(Role.VIEWER)
def incident_get(incident_id: str) -> ResponseReturnValue:
    return _answer(_incident_or_404(incident_id).id)


@bp.patch("/incidents/<incident_id>")
@token_required(Role.EDITOR)
def incident_patch(incident_id: str) -> ResponseReturnValue:
    """`name`/`impact` are edited; `status`, `body` or `components` post
    an update (`status: resolved` resolves), as Statuspage does."""
    incident = _incident_or_404(incident_id)
    given = read_json(IncidentPatchIn).incident
    update = None
    if given.posts_update:
        status = given.status or incident.status.value
        body = given.body or (RESOLVED_BODY if status == IncidentStatus.RESOLVED.value else None)
        if body is None:
            raise ApiError(422, "incident.body: say what changed", "incident.body")
        update = IncidentUpdate.model_construct(
            status=status,
            body=body,
            components=given.components or {},
            deliver_notifications=given.deliver_notifications,
            display_at=given.display_at,
        )
        _check_update(incident, update, "incident")
    store = deps.store()
    with store.transaction() as conn:
        desk = _desk()
        if given.name is not None or given.impact is not None:
            name = given.name.strip() if given.name is not None else incident.name
            desk.edit(conn, incident, name, IncidentImpact(given.impact or incident.impact))
        if update is not None:
            _post(desk, conn, incident, update, "incident")
    return _answer(incident.id)


@bp.post("/incidents/<incident_id>/updates")
@token_required(Role.EDITOR)
def incident_update(incident_id: str) -> ResponseReturnValue:
    incident = _incident_or_404(incident_id)
    update = read_json(IncidentUpdateIn).incident_update
    _check_update(incident, update, "incident_update")
    store = deps.store()
    with store.transaction() as conn:
        _post(_desk(), conn, incident, update, "incident_update")
    return _answer(incident.id, 201)


# --- helpers ---------------------------------------------------------------------


def _desk() -> IncidentDesk:
    return IncidentDesk(deps.store(), deps.config().site.tz, api_token().actor, deps.now())


def _incident_or_404(incident_id: str) -> IncidentRow:
    found = IncidentRepository(deps.store()).get(stored_id_or_404(incident_id, "incident"))
    if found is None:
        raise ApiError(404, f"unknown incident {incident_id!r}", "id")
    return found


def _known_components(given: Mapping[str, str], field: str) -> dict[str, ComponentStatus]:
    known = {c.id for c in deps.store().components()}
    for cid in given:
        if cid not in known:
            raise ApiError(422, f"{field}: unknown component {cid[:64]!r}", f"{field}.{cid[:64]}")
    return {cid: ComponentStatus(status) for cid, status in given.items()}


def _check_update(incident: IncidentRow, update: IncidentUpdate, prefix: str) -> None:
    """Refuse an update before anything is written."""
    if incident.resolved:
        raise ApiError(409, "the incident is resolved; open a new one", f"{prefix}.status")
    _known_components(update.components, f"{prefix}.components")
    if update.status == IncidentStatus.RESOLVED.value:
        held = [cid for cid, s in update.components.items() if s != ComponentStatus.OPERATIONAL]
        if held:
            message = "resolving sets every component of the incident back to operational"
            raise ApiError(422, f"{prefix}.components: {message}", f"{prefix}.components.{held[0]}")
    if update.display_at is not None and update.display_at > deps.now() + DISPLAY_AHEAD:
        message = "is in the future; leave it out for now"
        raise ApiError(422, f"{prefix}.display_at: {message}", f"{prefix}.display_at")


def _post(
    desk: IncidentDesk, conn: Connection, incident: IncidentRow, update: IncidentUpdate, prefix: str
) -> None:
    display_at: datetime | None = update.display_at
    if update.status == IncidentStatus.RESOLVED.value:
        desk.resolve(conn, incident, update.body, update.deliver_notifications, display_at)
        return
    new = NewUpdate(
        status=IncidentStatus(update.status),
        body=update.body,
        components=_known_components(update.components, f"{prefix}.components"),
        display_at=display_at,
        notify=update.deliver_notifications,
    )
    desk.post_update(conn, incident, new)


def _incident_json(snap: Snapshot, row: IncidentRow) -> StaffIncidentJSON:
    detail = IncidentRepository(deps.store()).detail(row.id)
    updates = detail.updates if detail else []
    shown = incident_json(snap.page, row, updates, snap.by_id)
    return {**shown, "draft": not row.published}


def _answer(incident_id: str, status: int = 200) -> ResponseReturnValue:
    row = IncidentRepository(deps.store()).get(incident_id)
    assert row is not None
    return jsonify(_incident_json(snapshot(), row)), status
