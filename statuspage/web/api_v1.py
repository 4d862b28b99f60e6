"""The write API under /api/v1: heartbeat pings (their own token in the
path) and deploy markers (bearer tokens, `statuspage.web.api_auth`)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from statuspage import audit
from statuspage.auth import Role
from statuspage.checks.heartbeat import hash_token
from statuspage.store.incident_rows import Deployment
from statuspage.store.incidents import IncidentRepository
from statuspage.web import deps
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_models import DeploymentIn, first_error

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

MAX_TOKEN_LENGTH = 200


@bp.route("/heartbeat/<token>", methods=["GET", "POST", "HEAD"])
def heartbeat(token: str) -> ResponseReturnValue:
    """A job says it ran. GET too, so `curl URL` from cron works."""
    return _ping(token, failed=False)


@bp.route("/heartbeat/<token>/fail", methods=["GET", "POST"])
def heartbeat_fail(token: str) -> ResponseReturnValue:
    """A job says it ran and failed: an outage at once, not after the grace."""
    return _ping(token, failed=True)


def _ping(token: str, failed: bool) -> ResponseReturnValue:
    if len(token) > MAX_TOKEN_LENGTH:
        return jsonify(error="unknown heartbeat token"), 404
    check_id = deps.store().record_ping(hash_token(token), deps.now(), failed=failed)
    if check_id is None:
        # The same answer for every wrong token: no oracle for guessing.
        return jsonify(error="unknown heartbeat token"), 404
    return jsonify(ok=True, check=check_id, failed=failed)


# --- deploy markers (staff only: never on a public page) --------------------

DEPLOYMENTS_LISTED = 50


@bp.post("/deployments")
@token_required(Role.EDITOR)
def deployment_create() -> ResponseReturnValue:
    """Record a deploy; `at` defaults to now."""
    try:
        given = DeploymentIn.model_validate_json(request.get_data() or b"")
    except ValidationError as exc:
        status, body = first_error(exc)
        return jsonify(body), status
    store, now = deps.store(), deps.now()
    if store.component(given.component) is None:
        return jsonify(error=f"unknown component {given.component!r}", field="component"), 404
    repo = IncidentRepository(store)
    at = given.at.astimezone(UTC) if given.at is not None else now
    who = api_token().actor
    with store.transaction() as conn:
        deploy_id = repo.record_deployment(
            conn, given.component, given.version, at=at, now=now, who=given.who, link=given.link
        )
        shown = _deployment_json(repo.recent_deployments(given.component, limit=1, conn=conn)[0])
        audit.record(conn, who, "deployment.create", "deployment", deploy_id, None, shown, now)
    return jsonify(shown), 201


@bp.get("/deployments")
@token_required(Role.VIEWER)
def deployment_list() -> ResponseReturnValue:
    """Recent deploys, newest first; `?component=ID` for one component."""
    component = request.args.get("component") or None
    store = deps.store()
    if component is not None and store.component(component) is None:
        return jsonify(error=f"unknown component {component!r}", field="component"), 404
    found = IncidentRepository(store).recent_deployments(component, limit=DEPLOYMENTS_LISTED)
    return jsonify(deployments=[_deployment_json(d) for d in found])


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    return jsonify(error="the request body is too large"), 413


def _deployment_json(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "component": d.component_id,
        "version": d.version,
        "who": d.who,
        "link": d.link,
        "at": d.at.isoformat(),
        "recorded_at": d.recorded_at.isoformat(),
    }
