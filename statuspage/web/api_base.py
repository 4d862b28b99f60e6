"""What every /api/v1 route shares: the blueprint, reading a JSON body or
the query string into a model, ids from the path, and errors as JSON.

An error is always `{"error": "...", "field": "..."}` (`field` is "" when
no single field is to blame): 400 for a body that is not JSON or not sent
as JSON, or a query parameter unknown or given twice; 401/403 for the token
(`statuspage.web.api_auth`); 404; 405; 409 for a change the resource's
state forbids; 413 past the app's MAX_CONTENT_LENGTH; 422 for JSON of the
wrong shape. Unknown routes, wrong methods and oversized bodies under
/api/v1 answer JSON too; elsewhere the HTML error pages stay.

The routes of `api_incidents`, `api_maintenances` and `openapi` are on this
blueprint (`api_v1` imports them), so they share its CSRF exemption.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from statuspage.config import ID_PATTERN
from statuspage.store.store import ComponentRow
from statuspage.web import deps, security
from statuspage.web.api_models import COMPONENT_ID_MAX_CHARS, NO_NUL

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

PREFIX = "/api/v1/"
M = TypeVar("M", bound=BaseModel)
# Ids as they are made (`store.ids`, the config's pattern): anything else is
# unknown without asking the database (which may refuse, e.g. a NUL).
STORED_ID_PATTERN = "^[a-z0-9]{1,16}$"
STORED_ID = re.compile(STORED_ID_PATTERN)
COMPONENT_ID = re.compile(ID_PATTERN)
JSON_TYPES = ("application/json",)


class ApiError(Exception):
    """Raised by a view to answer `{"error", "field"}` with `status`."""

    def __init__(self, status: int, error: str, field: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field


def error_response(status: int, error: str, field: str = "") -> Response:
    response = jsonify(error=error, field=field)
    response.status_code = status
    return response


@bp.app_errorhandler(ApiError)
def _api_error(error: ApiError) -> ResponseReturnValue:
    return error_response(error.status, error.error, error.field)


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(413)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    """JSON under /api/v1, the HTML error page elsewhere."""
    if not request.path.startswith(PREFIX):
        return security.render_error(error)
    code = error.code or 500
    messages = {
        404: "there is nothing at this address",
        405: f"this address does not take {request.method}",
        413: f"the request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes",
    }
    response = error_response(code, messages.get(code, error.name))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


# --- reading the request ---------------------------------------------------------


def read_json(model: type[M], optional: bool = False) -> M:
    """The request body as `model`, or an ApiError. With `optional`, an
    empty body counts as `{}`."""
    data = request.get_data()  # 413 past MAX_CONTENT_LENGTH, before anything else
    if optional and not data:
        data = b"{}"
    elif request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise ApiError(400, "send the body as JSON, with Content-Type: application/json")
    try:
        value = model.model_validate_json(data)
    except ValidationError as exc:
        raise ApiError(*first_error(exc)) from None
    # Models of our own refuse NUL by their schema; this also covers those
    # of other modules (Alertmanager's), since PostgreSQL refuses NUL.
    where = _nul_at(value.model_dump(by_alias=True), ())
    if where is not None:
        raise ApiError(422, f"{where}: must not contain NUL characters", where)
    return value


def read_query(model: type[M]) -> M:
    """The query string as `model`. A parameter it does not know, or one
    given twice (`?a=1&a=2`, `?a[]=1`), is a 400: only listed parameters
    are read, and never as arrays (SEC-05, SEC-06)."""
    for key in request.args:
        if key not in model.model_fields:
            raise ApiError(400, f"unknown query parameter {key[:40]!r}", key[:40])
        if len(request.args.getlist(key)) > 1:
            raise ApiError(400, f"give {key[:40]} once", key[:40])
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(*first_error(exc)) from None


def first_error(exc: ValidationError) -> tuple[int, str, str]:
    """The status, message and field answering input that failed validation."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return 400, "the request is not valid", ""
    error = errors[0]
    if error["type"] == "json_invalid":
        return 400, "the request body is not valid JSON", ""
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind in ("model_type", "model_attributes_type", "dict_type") and not field:
        return 422, "send a JSON object", ""
    elif kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == NO_NUL:
        message = "must not contain NUL characters"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    return 422, f"{field}: {message}" if field else message, field


def _nul_at(value: Any, path: Sequence[str | int]) -> str | None:
    if isinstance(value, str):
        return ".".join(map(str, path)) if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _nul_at(key, (*path, key)) or _nul_at(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _nul_at(item, (*path, i))
            if found is not None:
                return found
    return None


# --- ids from the path --------------------------------------------------------------


def component_or_404(component_id: str, field: str = "id") -> ComponentRow:
    found = None
    if len(component_id) <= COMPONENT_ID_MAX_CHARS and COMPONENT_ID.fullmatch(component_id):
        found = deps.store().component(component_id)
    if found is None:
        raise ApiError(404, f"unknown component {component_id[:64]!r}", field)
    return found


def stored_id_or_404(stored_id: str, what: str) -> str:
    """An incident's or maintenance's id from the path, if it could be one."""
    if not STORED_ID.fullmatch(stored_id):
        raise ApiError(404, f"unknown {what} {stored_id[:16]!r}", "id")
    return stored_id
