"""The OpenAPI 3.1 document of /api/v1, served at `GET
/api/v1/openapi.json` (public: it describes, it holds nothing).

Every route of the blueprint is listed in `OPERATIONS`, with the role its
token needs, its request model, its answer's shape and the errors it can
give; the schemas come from the code's own types (`openapi_schemas`), and
tests/test_openapi.py checks the app against the document with
schemathesis, and that no /api/v1 route is missing from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from statuspage.alertmanager import Notification
from statuspage.auth import Role
from statuspage.config import ID_PATTERN
from statuspage.statuspage_api import MaintenanceJSON
from statuspage.web import deps
from statuspage.web.api_base import STORED_ID_PATTERN, bp
from statuspage.web.api_maintenances import NoQuery
from statuspage.web.api_models import (
    COMPONENT_ID_MAX_CHARS,
    REQUEST_MODELS,
    ComponentPatchIn,
    ComponentStatusIn,
    DeploymentIn,
    DeploymentQuery,
    IncidentCreateIn,
    IncidentPatchIn,
    IncidentUpdateIn,
    MaintenanceCreateIn,
    MaintenanceFinishIn,
    PageQuery,
)
from statuspage.web.api_shapes import (
    AlertmanagerJSON,
    ComponentListJSON,
    DeploymentJSON,
    DeploymentListJSON,
    ErrorJSON,
    HeartbeatJSON,
    IncidentListJSON,
    MaintenanceListJSON,
    StaffComponentJSON,
    StaffIncidentJSON,
)
from statuspage.web.openapi_schemas import REF, model_schemas, query_parameters, shape_schema

ERRORS = {
    400: "The body is not JSON, or not sent as JSON; a query parameter is unknown or repeated.",
    401: "No token, or an unknown or revoked one.",
    403: "The token's role is too small for this.",
    404: "No such resource (for a deploy: no such component).",
    409: "The resource's state forbids the change.",
    413: "The body is larger than the app accepts (1 MB).",
    422: "The JSON has the wrong shape; `field` names the first wrong field.",
}
PATH_PARAMETERS = {
    "token": {"type": "string"},
    "component_id": {"type": "string", "pattern": ID_PATTERN, "maxLength": COMPONENT_ID_MAX_CHARS},
    "incident_id": {"type": "string", "pattern": STORED_ID_PATTERN},
    "maintenance_id": {"type": "string", "pattern": STORED_ID_PATTERN},
}


@dataclass(frozen=True)
class Operation:
    summary: str
    ok: tuple[int, Any]  # status, the answer's shape (a TypedDict; None: no body)
    role: Role | None = Role.VIEWER  # None: public
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()


def _reading(
    summary: str, shape: Any, *errors: int, query: type[BaseModel] | None = None
) -> Operation:
    more = (400, 422) if query is not None else ()
    return Operation(summary, (200, shape), query=query, errors=(401, *more, *errors))


def _writing(
    summary: str,
    ok: tuple[int, Any],
    body: type[BaseModel] | None,
    *errors: int,
    required: bool = True,
) -> Operation:
    shown = (400, 413, 422) if body is not None else ()
    return Operation(summary, ok, Role.EDITOR, body, required, errors=(401, 403, *shown, *errors))


_PING = Operation("A job says it ran", (200, HeartbeatJSON), role=None, errors=(404,))
_PING_FAIL = Operation(
    "A job says it ran and failed", (200, HeartbeatJSON), role=None, errors=(404,)
)

OPERATIONS: dict[str, dict[str, Operation]] = {
    "/api/v1/openapi.json": {
        "get": Operation("This document", (200, dict[str, Any]), role=None),
    },
    "/api/v1/heartbeat/{token}": {"get": _PING, "post": _PING, "head": _PING},
    "/api/v1/heartbeat/{token}/fail": {"get": _PING_FAIL, "post": _PING_FAIL},
    "/api/v1/deployments": {
        "get": _reading("Recent deploys, newest first", DeploymentListJSON, 404, query=DeploymentQuery),
        "post": _writing("Record a deploy", (201, DeploymentJSON), DeploymentIn, 404),
    },
    "/api/v1/components": {
        "get": _reading("Every component and its status", ComponentListJSON),
    },
    "/api/v1/components/{component_id}": {
        "get": _reading("One component", StaffComponentJSON, 404),
        "patch": _writing("Set its status (Statuspage's shape)", (200, StaffComponentJSON), ComponentPatchIn, 404),
    },
    "/api/v1/components/{component_id}/status": {
        "put": _writing("Set its status until released", (200, StaffComponentJSON), ComponentStatusIn, 404),
        "delete": _writing("Hand it back to its checks", (200, StaffComponentJSON), None, 404, 409),
    },
    "/api/v1/alertmanager": {
        "post": _writing("Alertmanager's webhook (version 4)", (200, AlertmanagerJSON), Notification),
    },
    "/api/v1/incidents": {
        "get": _reading("Incidents, newest first, drafts too", IncidentListJSON, query=PageQuery),
        "post": _writing("Open an incident", (201, StaffIncidentJSON), IncidentCreateIn),
    },
    "/api/v1/incidents/{incident_id}": {
        "get": _reading("One incident with its updates, newest first", StaffIncidentJSON, 404),
        "patch": _writing("Edit it, post an update or resolve it", (200, StaffIncidentJSON), IncidentPatchIn, 404, 409),
    },
    "/api/v1/incidents/{incident_id}/updates": {
        "post": _writing("Post an update", (201, StaffIncidentJSON), IncidentUpdateIn, 404, 409),
    },
    "/api/v1/maintenances": {
        "get": _reading("Running, upcoming and recent maintenance", MaintenanceListJSON, query=NoQuery),
        "post": _writing("Schedule a maintenance", (201, MaintenanceJSON), MaintenanceCreateIn),
    },
    "/api/v1/maintenances/{maintenance_id}": {
        "get": _reading("One maintenance with its timeline", MaintenanceJSON, 404),
    },
    "/api/v1/maintenances/{maintenance_id}/cancel": {
        "post": _writing("Call it off", (200, MaintenanceJSON), MaintenanceFinishIn, 404, 409, required=False),
    },
    "/api/v1/maintenances/{maintenance_id}/complete": {
        "post": _writing("End a one-off window in progress now", (200, MaintenanceJSON), MaintenanceFinishIn, 404, 409, required=False),
    },
}  # fmt: skip


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify({**document(), "info": _info(deps.config().site.title)})


@cache
def document() -> dict[str, Any]:
    """The document without its `info` (the site's title goes there)."""
    schemas: dict[str, Any] = model_schemas([*REQUEST_MODELS, Notification])
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        paths[path] = {
            "parameters": [
                {"name": n, "in": "path", "required": True, "schema": PATH_PARAMETERS[n]}
                for n in names
            ],
            **{method: _operation(op, schemas) for method, op in methods.items()},
        }
        if not names:
            del paths[path]["parameters"]
    shape_schema(ErrorJSON, schemas)
    return {
        "openapi": "3.1.0",
        "info": _info("statuspage"),
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token: `statuspage token create --role editor`.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _info(title: str) -> dict[str, Any]:
    return {
        "title": f"{title} write API",
        "version": "1",
        "description": (
            "Incidents, maintenance, component status and deploy markers, in Atlassian "
            "Statuspage's names. Send `Authorization: Bearer <token>`; a viewer token may "
            "read, an editor token may change. Every error is "
            '`{"error": "...", "field": "..."}`.'
        ),
    }


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    status, shape = op.ok
    ok: dict[str, Any] = {"description": "Done."}
    if shape is not None:
        ok["content"] = {"application/json": {"schema": shape_schema(shape, schemas)}}
    error = {"$ref": REF.format(model="ErrorJSON")}
    responses = {str(status): ok}
    for code in sorted(op.errors):
        responses[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": error}},
        }
    found: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.role is None:
        found["security"] = []
    else:
        found["description"] = f"Needs a token of role {op.role.value} or above."
    if op.query is not None:
        found["parameters"] = query_parameters(op.query)
    if op.body is not None:
        found["requestBody"] = {
            "required": op.body_required,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
            },
        }
    return found
