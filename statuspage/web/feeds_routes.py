"""The feeds on the public blueprint: `/history.rss` and `/history.atom`
for the whole page, `/components/<id>/history.rss` and `.atom` for what
affected one component. Drafts never appear; unknown (or inactive)
components are a 404 like any other public page. Being on `public`, the
answers go through the render cache like the pages."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort
from flask.typing import ResponseReturnValue

from statuspage.feeds import (
    ATOM_CONTENT_TYPE,
    MAX_ENTRIES,
    RSS_CONTENT_TYPE,
    FeedEntry,
    FeedInfo,
    atom_feed,
    component_feed_info,
    incident_entry,
    maintenance_entry,
    newest_entries,
    page_feed_info,
    rss_feed,
)
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import Maintenance, MaintenanceRepository
from statuspage.web import deps
from statuspage.web.public import bp

COMPLETED_READ = 100_000  # no cut before the component filter


def _maintenances(store: Store, now: datetime, component_id: str | None) -> list[Maintenance]:
    """Active, upcoming and recently completed maintenance (affecting the
    component, if given), with their timelines: the active and upcoming
    lists come without updates, so those are read again."""

    def affects(m: Maintenance) -> bool:
        return component_id is None or component_id in m.components

    repo = MaintenanceRepository(store)
    # `recent` reads every finished window anyway; filter before the cut.
    done = [m for m in repo.recent(now, limit=COMPLETED_READ) if affects(m)]
    found = {m.id: m for m in done[:MAX_ENTRIES]}
    for pending in [*repo.active(now), *repo.upcoming(now)]:
        if affects(pending) and pending.id not in found:
            full = repo.get(pending.id)
            if full is not None:
                found[full.id] = full
    return list(found.values())


def _entries(
    store: Store, site_url: str, now: datetime, component_id: str | None
) -> list[FeedEntry]:
    repo = IncidentRepository(store)
    if component_id is None:
        incidents = repo.recent(limit=MAX_ENTRIES)
    else:
        incidents = repo.for_component(component_id, limit=MAX_ENTRIES)
    entries = []
    for incident in incidents:
        if incident.published_at is None:  # the queries leave drafts out; twice sure
            continue
        detail = repo.detail(incident.id)
        entries.append(incident_entry(site_url, incident, detail.updates if detail else []))
    for maintenance in _maintenances(store, now, component_id):
        entries.append(maintenance_entry(site_url, maintenance))
    return newest_entries(entries, MAX_ENTRIES)


def _info_and_entries(component_id: str | None) -> tuple[FeedInfo, list[FeedEntry]]:
    config, store, now = deps.config(), deps.store(), deps.now()
    site = config.site
    if component_id is None:
        info = page_feed_info(site.title, site.url)
    else:
        component = store.component(component_id)
        if component is None:
            abort(404)
        info = component_feed_info(site.title, site.url, component.id, component.name)
    return info, _entries(store, site.url, now, component_id)


def _rss(component_id: str | None) -> Response:
    info, entries = _info_and_entries(component_id)
    body = rss_feed(info, entries, deps.now(), deps.config().site.tz)
    return Response(body, content_type=RSS_CONTENT_TYPE)


def _atom(component_id: str | None) -> Response:
    info, entries = _info_and_entries(component_id)
    body = atom_feed(info, entries, deps.now(), deps.config().site.tz)
    return Response(body, content_type=ATOM_CONTENT_TYPE)


@bp.get("/history.rss")
def history_rss() -> ResponseReturnValue:
    return _rss(None)


@bp.get("/history.atom")
def history_atom() -> ResponseReturnValue:
    return _atom(None)


@bp.get("/components/<component_id>/history.rss")
def component_history_rss(component_id: str) -> ResponseReturnValue:
    return _rss(component_id)


@bp.get("/components/<component_id>/history.atom")
def component_history_atom(component_id: str) -> ResponseReturnValue:
    return _atom(component_id)
