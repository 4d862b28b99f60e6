"""Component status through the write API, and the Alertmanager receiver.

`GET /api/v1/components` lists every component with its status and any
status set by hand; `PUT`/`DELETE /api/v1/components/<id>/status` set and
release that status (REL-08) as the admin does, and `PATCH
/api/v1/components/<id>` sets it the way Statuspage's API takes it
(`{"component": {"status": ...}}`); `POST /api/v1/alertmanager` takes
Alertmanager's webhook. All need a bearer token; changes an editor's.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from statuspage.alertmanager import Notification, apply_notification
from statuspage.auth import Role
from statuspage.domain import ComponentStatus
from statuspage.overrides_service import release_status, set_status
from statuspage.store.incidents import IncidentRepository
from statuspage.web import deps
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_base import ApiError, component_or_404, read_json
from statuspage.web.api_models import ComponentPatchIn, ComponentStatusIn
from statuspage.web.api_shapes import staff_component_json

bp = Blueprint("api_components", __name__, url_prefix="/api/v1")


@bp.get("/components")
@token_required(Role.VIEWER)
def component_list() -> ResponseReturnValue:
    """Every component, its status and the status set by hand, if any."""
    store = deps.store()
    overrides = IncidentRepository(store).overrides()
    return jsonify(
        components=[staff_component_json(c, overrides.get(c.id)) for c in store.components()]
    )


@bp.get("/components/<component_id>")
@token_required(Role.VIEWER)
def component_get(component_id: str) -> ResponseReturnValue:
    return _current(component_or_404(component_id).id)


@bp.put("/components/<component_id>/status")
@token_required(Role.EDITOR)
def component_status_set(component_id: str) -> ResponseReturnValue:
    """Set the component's status until released; the checks are ignored."""
    component_or_404(component_id)
    given = read_json(ComponentStatusIn)
    return _set(component_id, ComponentStatus(given.status), given.reason)


@bp.patch("/components/<component_id>")
@token_required(Role.EDITOR)
def component_patch(component_id: str) -> ResponseReturnValue:
    """The same, in Statuspage's shape; `reason` is ours and optional."""
    component_or_404(component_id)
    given = read_json(ComponentPatchIn).component
    return _set(component_id, ComponentStatus(given.status), given.reason)


@bp.delete("/components/<component_id>/status")
@token_required(Role.EDITOR)
def component_status_release(component_id: str) -> ResponseReturnValue:
    """Hand the component back to its checks."""
    component_or_404(component_id)
    store = deps.store()
    with store.transaction() as conn:
        released = release_status(
            store, conn, component_id,
            actor=api_token().actor, now=deps.now(), tz=deps.config().site.tz,
        )  # fmt: skip
    if not released:
        raise ApiError(409, f"{component_id} has no status set by hand")
    return _current(component_id)


@bp.post("/alertmanager")
@token_required(Role.EDITOR)
def alertmanager_webhook() -> ResponseReturnValue:
    """Alertmanager's webhook (version 4). Alerts no rule maps are listed
    under `ignored`; the answer is still 200, as retrying cannot help."""
    notification = read_json(Notification)
    config = deps.config()
    outcome = apply_notification(
        deps.store(),
        config.alertmanager,
        notification,
        actor=api_token().actor,
        now=deps.now(),
        tz=config.site.tz,
    )
    return jsonify(
        components={c: s.value if s else None for c, s in outcome.components.items()},
        changed=outcome.changed,
        ignored=outcome.ignored,
        truncated_alerts=notification.truncated_alerts,
    )


def _set(component_id: str, status: ComponentStatus, reason: str) -> ResponseReturnValue:
    store, who = deps.store(), api_token().actor
    with store.transaction() as conn:
        set_status(
            store, conn, component_id, status,
            reason=reason.strip(), set_by=who, actor=who, now=deps.now(), tz=deps.config().site.tz,
        )  # fmt: skip
    return _current(component_id)


def _current(component_id: str) -> ResponseReturnValue:
    store = deps.store()
    found = store.component(component_id)
    assert found is not None
    override = IncidentRepository(store).overrides().get(component_id)
    return jsonify(staff_component_json(found, override))
