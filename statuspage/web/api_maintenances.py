"""Scheduled maintenance through the write API: list, schedule, read,
cancel and complete. Answers are Statuspage's scheduled-maintenance objects
(`statuspage.statuspage_api.maintenance_json`), as /api/v2 shows them.

Changes go through `MaintenanceDesk`: each writes its audit row (actor
`token:<name>`), and a window that starts or ends now re-settles the
components it covers at once.
"""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict

from statuspage.auth import Role
from statuspage.maintenance import Window
from statuspage.maintenance_desk import MaintenanceDesk, NewMaintenance
from statuspage.store.maintenance import Maintenance, MaintenanceRepository
from statuspage.web import deps
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_base import ApiError, bp, read_json, read_query, stored_id_or_404
from statuspage.web.api_models import MaintenanceCreateIn, MaintenanceFinishIn
from statuspage.web.api_shapes import MaintenanceListJSON
from statuspage.web.api_v2 import maintenances, snapshot

RECENT_MAINTENANCES = 50


class NoQuery(BaseModel):
    """A list that takes no query parameters refuses them (SEC-06)."""

    model_config = ConfigDict(extra="forbid")


@bp.get("/maintenances")
@token_required(Role.VIEWER)
def maintenance_list() -> ResponseReturnValue:
    """Running ones first, then upcoming (next first), then recent ones."""
    read_query(NoQuery)
    snap = snapshot()
    repo = MaintenanceRepository(deps.store())
    items = [
        *repo.active(snap.now),
        *repo.upcoming(snap.now),
        *repo.recent(snap.now, limit=RECENT_MAINTENANCES),
    ]
    answer: MaintenanceListJSON = {"maintenances": maintenances(snap, items)}
    return jsonify(answer)


@bp.post("/maintenances")
@token_required(Role.EDITOR)
def maintenance_create() -> ResponseReturnValue:
    given = read_json(MaintenanceCreateIn).maintenance
    problem = given.problem()
    if problem is not None:
        field, message = problem
        raise ApiError(422, f"maintenance.{field}: {message}", f"maintenance.{field}")
    store = deps.store()
    known = {c.id for c in store.components()}
    for i, cid in enumerate(given.component_ids):
        if cid not in known:
            field = f"maintenance.component_ids.{i}"
            raise ApiError(422, f"{field}: unknown component {cid[:64]!r}", field)
    new = NewMaintenance(
        title=given.name,
        body=given.body,
        starts_at=given.scheduled_for,
        ends_at=given.scheduled_until,
        timezone=given.timezone or deps.config().site.timezone,
        components=given.component_ids,
        recurrence=given.recurrence,
        recurrence_until=given.recurrence_until,
        notify=given.deliver_notifications,
    )
    try:  # the rules of `Window` too, e.g. a daily window of 25 local hours
        Window("new", new.title, new.starts_at, new.ends_at, new.timezone, new.recurrence,
               new.recurrence_until)  # fmt: skip
    except ValueError as exc:
        raise ApiError(422, f"maintenance: {exc}", "maintenance") from None
    with store.transaction() as conn:
        created = _desk().schedule(conn, new)
    return _answer(created.id, 201)


@bp.get("/maintenances/<maintenance_id>")
@token_required(Role.VIEWER)
def maintenance_get(maintenance_id: str) -> ResponseReturnValue:
    return _answer(_maintenance_or_404(maintenance_id).id)


@bp.post("/maintenances/<maintenance_id>/cancel")
@token_required(Role.EDITOR)
def maintenance_cancel(maintenance_id: str) -> ResponseReturnValue:
    """Call it off; it will not start again (409 once it is over)."""
    found = _maintenance_or_404(maintenance_id)
    given = read_json(MaintenanceFinishIn, optional=True).maintenance
    with deps.store().transaction() as conn:
        done = _desk().cancel(conn, found, given.body, given.deliver_notifications)
    if not done:
        raise ApiError(409, "the maintenance is over or cancelled already")
    return _answer(found.id)


@bp.post("/maintenances/<maintenance_id>/complete")
@token_required(Role.EDITOR)
def maintenance_complete(maintenance_id: str) -> ResponseReturnValue:
    """The work is done early: a one-off window in progress ends now (409
    otherwise; a repeating one is cancelled instead)."""
    found = _maintenance_or_404(maintenance_id)
    given = read_json(MaintenanceFinishIn, optional=True).maintenance
    with deps.store().transaction() as conn:
        done = _desk().complete(conn, found, given.body, given.deliver_notifications)
    if not done:
        message = (
            "only a one-off maintenance in progress can be completed early; "
            "cancel one that has not begun or repeats"
        )
        raise ApiError(409, message)
    return _answer(found.id)


# --- helpers ---------------------------------------------------------------------


def _desk() -> MaintenanceDesk:
    return MaintenanceDesk(deps.store(), deps.config().site.tz, api_token().actor, deps.now())


def _maintenance_or_404(maintenance_id: str) -> Maintenance:
    repo = MaintenanceRepository(deps.store())
    found = repo.get(stored_id_or_404(maintenance_id, "maintenance"))
    if found is None:
        raise ApiError(404, f"unknown maintenance {maintenance_id!r}", "id")
    return found


def _answer(maintenance_id: str, status: int = 200) -> ResponseReturnValue:
    found = MaintenanceRepository(deps.store()).get(maintenance_id)
    assert found is not None
    (shown,) = maintenances(snapshot(), [found])
    return jsonify(shown), status
