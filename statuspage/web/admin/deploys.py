"""Deploy markers for staff (never public), and the dashboard's facts:
drafts, open incidents, blind monitoring sources, the scheduler's heartbeat
and recent deploys."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from statuspage.auth import Role
from statuspage.monitor import SCHEDULER_HEARTBEAT
from statuspage.store.incidents import IncidentRepository
from statuspage.web import deps
from statuspage.web.admin.blueprint import bp
from statuspage.web.admin.session import login_required
from statuspage.web.pageview import SCHEDULER_STALL_AFTER, blind_sources

DEPLOYS_LISTED = 50
DEPLOYS_ON_DASHBOARD = 5
SAFE_LINK_SCHEMES = ("http://", "https://")


@bp.app_template_test("safe_link")
def is_safe_link(value: object) -> bool:
    """A link staff may click: http or https only (no `javascript:`)."""
    return isinstance(value, str) and value.lower().startswith(SAFE_LINK_SCHEMES)


@bp.get("/deploys")
@login_required(Role.VIEWER)
def deploy_list() -> ResponseReturnValue:
    store = deps.store()
    return render_template(
        "admin/deploys.html",
        deploys=IncidentRepository(store).recent_deployments(limit=DEPLOYS_LISTED),
        names={c.id: c.name for c in store.components()},
    )


def dashboard_facts() -> dict[str, Any]:
    """What the dashboard shows; the view in `login` passes it on."""
    store, now = deps.store(), deps.now()
    incidents = IncidentRepository(store)
    heartbeat = store.heartbeat(SCHEDULER_HEARTBEAT)
    age = (now - heartbeat).total_seconds() if heartbeat is not None else None
    return {
        "drafts": incidents.drafts(),
        "open_incidents": incidents.unresolved(),
        "blind": blind_sources(store, now),
        "heartbeat_age_s": age,
        "heartbeat_stalled": age is None or age > SCHEDULER_STALL_AFTER.total_seconds(),
        "recent_deploys": incidents.recent_deployments(limit=DEPLOYS_ON_DASHBOARD),
        "component_names": {c.id: c.name for c in store.components()},
    }
