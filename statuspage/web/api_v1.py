"""The write API under /api/v1: heartbeat pings (their own token in the
path) and deploy markers (bearer tokens, `statuspage.web.api_auth`).

Incidents, maintenance and the OpenAPI document are routes on the same
blueprint, in modules of their own, imported here so that registering
`bp` registers them all."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from statuspage import audit
from statuspage.auth import Role
from statuspage.checks.heartbeat import hash_token
from statuspage.store.incidents import IncidentRepository
from statuspage.web import api_incidents, api_maintenances, deps, openapi
from statuspage.web.api_auth import api_token, token_required
from statuspage.web.api_base import bp, component_or_404, read_json, read_query
from statuspage.web.api_models import DeploymentIn, DeploymentQuery
from statuspage.web.api_shapes import deployment_json

__all__ = ["api_incidents", "api_maintenances", "bp", "openapi"]

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
    # The same answer for every wrong token: no oracle for guessing.
    unknown = jsonify(error="unknown heartbeat token"), 404
    if len(token) > MAX_TOKEN_LENGTH:
        return unknown
    check_id = deps.store().record_ping(hash_token(token), deps.now(), failed=failed)
    if check_id is None:
        return unknown
    return jsonify(ok=True, check=check_id, failed=failed)


# --- deploy markers (staff only: never on a public page) --------------------

DEPLOYMENTS_LISTED = 50


@bp.post("/deployments")
@token_required(Role.EDITOR)
def deployment_create() -> ResponseReturnValue:
    """Record a deploy; `at` defaults to now."""
    given = read_json(DeploymentIn)
    component_or_404(given.component, field="component")
    store, now = deps.store(), deps.now()
    repo = IncidentRepository(store)
    at = given.at or now
    who = api_token().actor
    with store.transaction() as conn:
        deploy_id = repo.record_deployment(
            conn, given.component, given.version.strip(),
            at=at, now=now, who=given.who.strip(), link=given.link,
        )  # fmt: skip
        shown = deployment_json(repo.recent_deployments(given.component, limit=1, conn=conn)[0])
        audit.record(conn, who, "deployment.create", "deployment", deploy_id, None, shown, now)
    return jsonify(shown), 201


@bp.get("/deployments")
@token_required(Role.VIEWER)
def deployment_list() -> ResponseReturnValue:
    """Recent deploys, newest first; `?component=ID` for one component."""
    component = read_query(DeploymentQuery).component or None
    if component is not None:
        component_or_404(component, field="component")
    found = IncidentRepository(deps.store()).recent_deployments(component, limit=DEPLOYMENTS_LISTED)
    return jsonify(deployments=[deployment_json(d) for d in found])
