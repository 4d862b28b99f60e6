"""The write API under /api/v1. For now: heartbeat pings."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from statuspage.checks.heartbeat import hash_token
from statuspage.web import deps

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
