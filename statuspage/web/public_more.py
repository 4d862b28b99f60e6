"""More public pages on the public blueprint: the incident history, a
component's own page with its uptime windows and charts, and badges."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from statuspage.web import deps
from statuspage.web.badges import Badge, component_badge, page_badge
from statuspage.web.componentpage import latency_charts, uptime_windows
from statuspage.web.history import BadPage, history_page, parse_page_number
from statuspage.web.pageview import build_page
from statuspage.web.public import bp

RECENT_TRANSITIONS = 20

BADGE_CACHE_CONTROL = "public, max-age=30"


@bp.get("/history")
def history() -> ResponseReturnValue:
    try:
        number = parse_page_number(request.args.to_dict(flat=False))
    except BadPage as exc:
        return render_template(
            "error.html", code=400, title="Bad request", message=f"Bad page number: {exc}."
        ), 400
    config, store, now = deps.config(), deps.store(), deps.now()
    page = build_page(config, store, now)
    names = {c.id: c.name for c in page.components}
    found = history_page(store, number, now, config.site.tz, names)
    if found is None:
        abort(404)
    return render_template("history.html", page=page, history=found)


@bp.get("/components/<component_id>")
def component(component_id: str) -> ResponseReturnValue:
    config, store, now = deps.config(), deps.store(), deps.now()
    page = build_page(config, store, now)
    found = next((c for c in page.components if c.id == component_id), None)
    if found is None:
        abort(404)
    transitions = store.transitions(found.id, limit=RECENT_TRANSITIONS, newest_first=True)
    return render_template(
        "component.html",
        page=page,
        component=found,
        transitions=transitions,
        windows=uptime_windows(store, found.id, now, config.site.tz),
        charts=latency_charts(store, found.checks, now, config.site.tz),
        day=timedelta(days=1),
    )


@bp.get("/badge.svg")
def badge() -> ResponseReturnValue:
    page = build_page(deps.config(), deps.store(), deps.now())
    return _svg(page_badge(page.title, page.indicator, page.status_line))


@bp.get("/components/<component_id>/badge.svg")
def component_badge_svg(component_id: str) -> ResponseReturnValue:
    page = build_page(deps.config(), deps.store(), deps.now())
    found = next((c for c in page.components if c.id == component_id), None)
    if found is None:
        abort(404)
    return _svg(component_badge(found.name, found.status))


def _svg(badge: Badge) -> Response:
    body = render_template("badge.svg.xml", badge=badge)
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = BADGE_CACHE_CONTROL
    return response
