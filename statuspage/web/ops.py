"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from statuspage.monitor import SCHEDULER_HEARTBEAT
from statuspage.web import deps
from statuspage.web.pageview import SCHEDULER_STALL_AFTER, blind_sources

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process answers. Nothing else is checked: a load balancer must not
    restart a web process because the database blinked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready to serve the truth: the database answers, its schema is current,
    and the scheduler is beating. Each failing condition is named."""
    problems: list[str] = []
    store = deps.store()
    try:
        store.ping()
        if store.pending_migrations():
            problems.append("database schema is not up to date: run `statuspage db upgrade`")
        heartbeat = store.heartbeat(SCHEDULER_HEARTBEAT)
    except Exception as exc:  # the database is the one thing we cannot work without
        problems.append(f"database unreachable ({type(exc).__name__})")
        heartbeat = None
    else:
        now = deps.now()
        if heartbeat is None:
            problems.append("the scheduler has not started")
        elif now - heartbeat > SCHEDULER_STALL_AFTER:
            problems.append(
                f"the scheduler has not reported since {heartbeat:%Y-%m-%d %H:%M:%S} UTC"
            )
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    # Blind checks do not make the page unready (it must keep serving, and
    # it says so in its banner), but they are named here for operators.
    blind = [
        {
            "component": b.component,
            "check": b.check,
            "since": b.since.isoformat(),
            "reason": b.reason,
        }
        for b in blind_sources(store, now)
    ]
    return jsonify(
        status="degraded" if blind else "ok",
        scheduler_heartbeat=heartbeat.isoformat() if heartbeat else None,
        blind=blind,
    )
