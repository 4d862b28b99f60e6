"""Component status through the write API, and the Alertmanager receiver.

`GET /api/v1/components` lists every component with its status and any
status set by hand; `PUT`/`DELETE /api/v1/components/<id>/status` set and
release that status (REL-08) as the admin does; `POST /api/v1/alertmanager`
takes Alertmanager's webhook. All need a bearer token; changes an editor's.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from werkzeug.exceptions import RequestEntityTooLarge

from statuspage.alertmanager import Notification, apply_notification
from statuspage.auth import Role
from statuspage.domain import ComponentStatus
from statuspage.overrides_service import release_status, set_status
from statuspage.store.incident_rows import Override
from statuspage.store.incidents import IncidentRepository
from statuspage.store.store import ComponentRow
from statuspage.web import deps
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_models import first_error

bp = Blueprint("api_components", __name__, url_prefix="/api/v1")

REASON_MAX_CHARS = 500


class ComponentStatusIn(BaseModel):
    """`PUT /api/v1/components/<id>/status`."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    status: ComponentStatus
    reason: str = Field(min_length=1, max_length=REASON_MAX_CHARS)

    @field_validator("status", mode="before")
    @classmethod
    def _settable(cls, value: Any) -> Any:
        # Strict mode takes an enum member only from its exact string value.
        if value == ComponentStatus.UNKNOWN.value:
            raise ValueError("`unknown` is the absence of data; it cannot be set")
        if isinstance(value, str) and value in ComponentStatus._value2member_map_:
            return ComponentStatus(value)
        return value


@bp.get("/components")
@token_required(Role.VIEWER)
def component_list() -> ResponseReturnValue:
    """Every component, its status and the status set by hand, if any."""
    store = deps.store()
    overrides = IncidentRepository(store).overrides()
    return jsonify(components=[_component_json(c, overrides.get(c.id)) for c in store.components()])


@bp.put("/components/<component_id>/status")
@token_required(Role.EDITOR)
def component_status_set(component_id: str) -> ResponseReturnValue:
    """Set the component's status until released; the checks are ignored."""
    store = deps.store()
    if store.component(component_id) is None:
        return _unknown(component_id)
    try:
        given = ComponentStatusIn.model_validate_json(request.get_data() or b"")
    except ValidationError as exc:
        status, body = first_error(exc)
        return jsonify(body), status
    who = api_token().actor
    with store.transaction() as conn:
        set_status(
            store, conn, component_id, given.status,
            reason=given.reason, set_by=who, actor=who, now=deps.now(), tz=deps.config().site.tz,
        )  # fmt: skip
    return _current(component_id)


@bp.delete("/components/<component_id>/status")
@token_required(Role.EDITOR)
def component_status_release(component_id: str) -> ResponseReturnValue:
    """Hand the component back to its checks."""
    store = deps.store()
    if store.component(component_id) is None:
        return _unknown(component_id)
    with store.transaction() as conn:
        released = release_status(
            store, conn, component_id,
            actor=api_token().actor, now=deps.now(), tz=deps.config().site.tz,
        )  # fmt: skip
    if not released:
        return jsonify(error=f"{component_id} has no status set by hand", field=""), 409
    return _current(component_id)


@bp.post("/alertmanager")
@token_required(Role.EDITOR)
def alertmanager_webhook() -> ResponseReturnValue:
    """Alertmanager's webhook (version 4). Alerts no rule maps are listed
    under `ignored`; the answer is still 200, as retrying cannot help."""
    try:
        notification = Notification.model_validate_json(request.get_data() or b"")
    except ValidationError as exc:
        status, body = first_error(exc)
        return jsonify(body), status
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


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    return jsonify(error="the request body is too large"), 413


def _unknown(component_id: str) -> ResponseReturnValue:
    return jsonify(error=f"unknown component {component_id[:64]!r}", field="id"), 404


def _current(component_id: str) -> ResponseReturnValue:
    store = deps.store()
    found = store.component(component_id)
    assert found is not None
    return jsonify(_component_json(found, IncidentRepository(store).overrides().get(component_id)))


def _component_json(c: ComponentRow, o: Override | None) -> dict[str, Any]:
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
