"""Public pages: what customers see."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from statuspage.web import deps
from statuspage.web.incidentview import published_incident
from statuspage.web.pageview import build_page

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    page = build_page(deps.config(), deps.store(), deps.now())
    return render_template("index.html", page=page)


@bp.get("/incidents/<incident_id>")
def incident(incident_id: str) -> ResponseReturnValue:
    page = build_page(deps.config(), deps.store(), deps.now())
    names = {c.id: c.name for c in page.components}
    found = published_incident(deps.store(), incident_id, names)
    if found is None:
        abort(404)
    return render_template("incident.html", page=page, incident=found)


# The other public pages register on `bp` when imported.
import statuspage.web.feeds_routes  # noqa: E402, F401
from statuspage.web import public_more  # noqa: E402, F401
