"""The Statuspage-compatible read API (`/api/v2`) as pure serializers.

Keys, types, nesting and value sets follow Atlassian Statuspage (real
responses are in `../shared/fixtures/statuspage/`), so widgets and client
libraries written for it read ours. Two rules of our own:

* Clients parse the component status strictly, so our `unknown` (no fresh
  data) is reported as `degraded_performance`, with `status_detail: "no_data"`
  saying why; the page indicator follows the reported value.
* Only allow-listed fields leave (SEC-14): no authors, check targets, status
  reasons or deploys. Callers pass published incidents only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NotRequired, Protocol, TypedDict
from zoneinfo import ZoneInfo

from statuspage.domain import (
    INDICATOR_DESCRIPTIONS,
    ComponentStatus,
    IncidentStatus,
    MaintenanceStatus,
    page_indicator,
)
from statuspage.store.ids import ID_ALPHABET, ID_LENGTH
from statuspage.store.incident_rows import IncidentRow, UpdateRow
from statuspage.store.maintenance import Maintenance

NO_DATA = "no_data"
MAINTENANCE_IMPACT = "maintenance"


# --- the shapes we emit ----------------------------------------------------


class PageJSON(TypedDict):
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str


class StatusJSON(TypedDict):
    indicator: str
    description: str


class ComponentJSON(TypedDict):
    id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    position: int
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool
    # Ours: why a status was reported as it was (`no_data`), else null.
    status_detail: str | None
    # Groups only: the ids of their members.
    components: NotRequired[list[str]]


class AffectedComponentJSON(TypedDict):
    code: str
    name: str
    old_status: str
    new_status: str


class IncidentUpdateJSON(TypedDict):
    id: str
    status: str
    body: str
    incident_id: str
    created_at: str
    updated_at: str
    display_at: str
    affected_components: list[AffectedComponentJSON] | None
    deliver_notifications: bool
    custom_tweet: None
    tweet_id: None


class IncidentJSON(TypedDict):
    id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    monitoring_at: str | None
    resolved_at: str | None
    impact: str
    shortlink: str
    started_at: str
    page_id: str
    incident_updates: list[IncidentUpdateJSON]
    components: list[ComponentJSON]


class MaintenanceJSON(IncidentJSON):
    scheduled_for: str
    scheduled_until: str


# --- inputs ------------------------------------------------------------------


class ComponentLike(Protocol):
    """What the serializer needs of a component as the page shows it
    (`statuspage.web.pageview.ComponentView` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def group(self) -> str | None: ...
    @property
    def status(self) -> ComponentStatus: ...
    @property
    def since(self) -> datetime: ...


@dataclass(frozen=True)
class ApiPage:
    """The page as the API names it; `id` is derived from the site URL so it
    stays the same across restarts and processes."""

    id: str
    name: str
    url: str
    time_zone: str

    @classmethod
    def of(cls, title: str, url: str, time_zone: str) -> ApiPage:
        return cls(stable_id("page", url), title, url, time_zone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


# --- values --------------------------------------------------------------------


def stable_id(kind: str, name: str) -> str:
    """A Statuspage-style id (12 lowercase letters and digits) that is a
    function of its name: the same on every call, process and restart."""
    number = int.from_bytes(hashlib.sha256(f"{kind}\0{name}".encode()).digest()[:16], "big")
    chars = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[digit])
    return "".join(chars)


def timestamp(at: datetime, tz: ZoneInfo) -> str:
    """ISO 8601 in the page's zone with milliseconds, as Statuspage writes
    them: `2022-11-25T10:19:51.123-05:00`, or `...Z` at a zero offset."""
    local = at.astimezone(tz)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond // 1000:03d}"
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def reported_status(status: ComponentStatus) -> tuple[ComponentStatus, str | None]:
    """The status a Statuspage client may see, and why it differs (or None)."""
    if status is ComponentStatus.UNKNOWN:
        return ComponentStatus.DEGRADED_PERFORMANCE, NO_DATA
    return status, None


# --- components and status -------------------------------------------------------


def components_json(
    page: ApiPage,
    components: Sequence[ComponentLike],
    created: Mapping[str, datetime] | None = None,
) -> list[ComponentJSON]:
    """Components in page order; each config group becomes a `group: true`
    object listing its members, just before them. `created` maps a
    component id to when it first appeared (else its status time is used)."""
    created = created or {}
    found: list[ComponentJSON] = []
    groups: dict[str, list[ComponentLike]] = {}
    for c in components:
        if c.group is not None:
            groups.setdefault(c.group, []).append(c)
    emitted: set[str] = set()
    for c in components:
        if c.group is not None and c.group not in emitted:
            emitted.add(c.group)
            found.append(_group_json(page, c.group, groups[c.group], created))
            found.extend(_component_json(page, m, created) for m in groups[c.group])
        elif c.group is None:
            found.append(_component_json(page, c, created))
    for position, item in enumerate(found, start=1):
        item["position"] = position
    return found


def status_json(components: Iterable[ComponentJSON]) -> StatusJSON:
    """The page indicator from the reported statuses of the leaf components."""
    statuses = [ComponentStatus(c["status"]) for c in components if not c["group"]]
    indicator = page_indicator(statuses)
    return {"indicator": indicator.value, "description": INDICATOR_DESCRIPTIONS[indicator]}


def page_json(page: ApiPage, updated_at: datetime) -> PageJSON:
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": timestamp(updated_at, page.tz),
    }


def _component_json(
    page: ApiPage, c: ComponentLike, created: Mapping[str, datetime]
) -> ComponentJSON:
    status, detail = reported_status(c.status)
    return {
        "id": c.id,
        "name": c.name,
        "status": status.value,
        "created_at": timestamp(min(created.get(c.id, c.since), c.since), page.tz),
        "updated_at": timestamp(c.since, page.tz),
        "position": 0,
        "description": c.description or None,
        "showcase": True,  # every component shows its uptime bars
        "start_date": None,
        "group_id": stable_id("group", c.group) if c.group is not None else None,
        "page_id": page.id,
        "group": False,
        "only_show_if_degraded": False,
        "status_detail": detail,
    }


def _group_json(
    page: ApiPage, name: str, members: Sequence[ComponentLike], created: Mapping[str, datetime]
) -> ComponentJSON:
    statuses = [m.status for m in members]
    known = [s for s in statuses if s is not ComponentStatus.UNKNOWN]
    worst = max(known, key=lambda s: s.severity, default=None)
    detail = None
    if len(known) < len(statuses) and (worst is None or worst.severity < 1):
        status, detail = ComponentStatus.DEGRADED_PERFORMANCE, NO_DATA
    elif worst is None or worst.severity == 0:
        under = ComponentStatus.UNDER_MAINTENANCE in statuses
        status = ComponentStatus.UNDER_MAINTENANCE if under else ComponentStatus.OPERATIONAL
    else:
        status = worst
    return {
        "id": stable_id("group", name),
        "name": name,
        "status": status.value,
        "created_at": timestamp(
            min(min(created.get(m.id, m.since), m.since) for m in members), page.tz
        ),
        "updated_at": timestamp(max(m.since for m in members), page.tz),
        "position": 0,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page.id,
        "group": True,
        "only_show_if_degraded": False,
        "status_detail": detail,
        "components": [m.id for m in members],
    }


# --- incidents and maintenance ------------------------------------------------------


def incident_json(
    page: ApiPage,
    incident: IncidentRow,
    updates: Sequence[UpdateRow],
    components: Mapping[str, ComponentJSON],
) -> IncidentJSON:
    """A published incident with its updates (newest first, as given)."""
    tz = page.tz
    monitoring = [u.display_at for u in updates if u.status is IncidentStatus.MONITORING]
    return {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status.value,
        "created_at": timestamp(incident.created_at, tz),
        "updated_at": timestamp(incident.updated_at, tz),
        "monitoring_at": timestamp(min(monitoring), tz) if monitoring else None,
        "resolved_at": _maybe(incident.resolved_at, tz),
        "impact": incident.impact.value,
        "shortlink": f"{page.url}/incidents/{incident.id}",
        "started_at": timestamp(incident.created_at, tz),
        "page_id": page.id,
        "incident_updates": [_update_json(u, components, tz) for u in updates],
        "components": [components[cid] for cid in incident.components if cid in components],
    }


def maintenance_json(
    page: ApiPage,
    m: Maintenance,
    status: MaintenanceStatus,
    window: tuple[datetime, datetime],
    components: Mapping[str, ComponentJSON],
) -> MaintenanceJSON:
    """A maintenance in the incident shape; `window` is the occurrence
    shown (the running or next one of a recurring window)."""
    tz = page.tz
    finished = [u.display_at for u in m.updates if u.status is MaintenanceStatus.COMPLETED]
    resolved_at = None
    if status is MaintenanceStatus.COMPLETED:
        resolved_at = m.cancelled_at or max(finished, default=window[1])
    updates = _maintenance_updates(m, components, tz)
    return {
        "id": m.id,
        "name": m.title,
        "status": status.value,
        "created_at": timestamp(m.created_at, tz),
        "updated_at": timestamp(m.updated_at, tz),
        "monitoring_at": None,
        "resolved_at": _maybe(resolved_at, tz),
        "impact": MAINTENANCE_IMPACT,
        "shortlink": f"{page.url}/",
        "started_at": timestamp(m.created_at, tz),
        "page_id": page.id,
        "incident_updates": updates,
        "components": [components[cid] for cid in m.components if cid in components],
        "scheduled_for": timestamp(window[0], tz),
        "scheduled_until": timestamp(window[1], tz),
    }


def _maintenance_updates(
    m: Maintenance, components: Mapping[str, ComponentJSON], tz: ZoneInfo
) -> list[IncidentUpdateJSON]:
    """The timeline, newest first. Each update says what it did to the
    covered components: a window in progress or verifying holds them under
    maintenance, before and after it leaves them to their checks."""
    found: list[IncidentUpdateJSON] = []
    before = MaintenanceStatus.SCHEDULED
    for u in m.updates:  # oldest first
        old, new = _maintenance_effect(before), _maintenance_effect(u.status)
        before = u.status
        affected: list[AffectedComponentJSON] = [
            {"code": cid, "name": _name(cid, components), "old_status": old, "new_status": new}
            for cid in m.components
        ]
        found.append(
            {
                "id": u.id,
                "status": u.status.value,
                "body": u.body,
                "incident_id": m.id,
                "created_at": timestamp(u.created_at, tz),
                "updated_at": timestamp(u.created_at, tz),
                "display_at": timestamp(u.display_at, tz),
                "affected_components": affected,
                "deliver_notifications": u.deliver_notifications,
                "custom_tweet": None,
                "tweet_id": None,
            }
        )
    return found[::-1]


def _maintenance_effect(status: MaintenanceStatus) -> str:
    held = status in (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)
    return (ComponentStatus.UNDER_MAINTENANCE if held else ComponentStatus.OPERATIONAL).value


def _name(component_id: str, components: Mapping[str, ComponentJSON]) -> str:
    found = components.get(component_id)
    return found["name"] if found else component_id


def _update_json(
    u: UpdateRow, components: Mapping[str, ComponentJSON], tz: ZoneInfo
) -> IncidentUpdateJSON:
    affected: list[AffectedComponentJSON] = [
        {
            "code": a.component_id,
            "name": _name(a.component_id, components),
            # Joining or leaving an incident is a change from or to operational.
            "old_status": reported_status(a.old or ComponentStatus.OPERATIONAL)[0].value,
            "new_status": reported_status(a.new or ComponentStatus.OPERATIONAL)[0].value,
        }
        for a in u.affected_components
    ]
    return {
        "id": u.id,
        "status": u.status.value,
        "body": u.body,
        "incident_id": u.incident_id,
        "created_at": timestamp(u.created_at, tz),
        "updated_at": timestamp(u.created_at, tz),
        "display_at": timestamp(u.display_at, tz),
        "affected_components": affected or None,
        "deliver_notifications": u.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _maybe(at: datetime | None, tz: ZoneInfo) -> str | None:
    return timestamp(at, tz) if at is not None else None


__all__ = [
    "ApiPage",
    "ComponentJSON",
    "IncidentJSON",
    "MaintenanceJSON",
    "PageJSON",
    "StatusJSON",
    "components_json",
    "incident_json",
    "maintenance_json",
    "page_json",
    "stable_id",
    "status_json",
    "timestamp",
]
