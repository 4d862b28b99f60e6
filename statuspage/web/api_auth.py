"""Bearer tokens for the /api/v1 routes that change or read staff data.

`Authorization: Bearer <token>` is hashed and looked up (revoked tokens and
tokens of disabled users are not found); a use is noted as `last_used_at`.
Missing or unknown: 401 with `WWW-Authenticate: Bearer`; a role too small
for the route: 403. The admin's session cookie is never accepted here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue

from statuspage.auth import Role, at_least, hash_api_token
from statuspage.store.users import ApiToken, UserRepository
from statuspage.web import deps

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

MAX_TOKEN_CHARS = 200
CHALLENGE = 'Bearer realm="statuspage"'


def token_required(min_role: Role) -> Callable[[F], F]:
    """A view decorator: the request must carry a live token of at least
    `min_role`; the view finds it as `api_token()`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            token = _presented_token()
            if token is None:
                return _unauthorized("send an API token: Authorization: Bearer <token>")
            repo = UserRepository(deps.store())
            found = repo.token_by_hash(hash_api_token(token))
            if found is None:
                return _unauthorized("unknown or revoked API token")
            repo.touch_token(found.id, deps.now())
            if not at_least(found.role, min_role):
                return jsonify(
                    error=f"this needs a {min_role} token; this one is {found.role}"
                ), 403
            g.api_token = found
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def api_token() -> ApiToken:
    """The token of the current request (inside a `token_required` view)."""
    token: ApiToken = g.api_token
    return token


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_TOKEN_CHARS:
        return None
    return value


def _unauthorized(message: str) -> ResponseReturnValue:
    response = jsonify(error=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response
