"""Value objects the incident repository returns, and their row mappers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus


class AffectedComponentJSON(TypedDict):
    component_id: str
    old_status: str | None
    new_status: str | None


@dataclass(frozen=True)
class AffectedComponent:
    """One component's change at an update. `old` None: it joined the
    incident; `new` None: it was removed from it."""

    component_id: str
    old: ComponentStatus | None
    new: ComponentStatus | None

    def as_json(self) -> AffectedComponentJSON:
        return {
            "component_id": self.component_id,
            "old_status": self.old.value if self.old else None,
            "new_status": self.new.value if self.new else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AffectedComponent:
        old, new = data.get("old_status"), data.get("new_status")
        return cls(
            data["component_id"],
            ComponentStatus(old) if old else None,
            ComponentStatus(new) if new else None,
        )


@dataclass(frozen=True)
class IncidentRow:
    id: str
    name: str
    status: IncidentStatus
    impact: IncidentImpact
    source: str  # automatic, staff, alertmanager, api
    created_at: datetime  # when it started
    updated_at: datetime
    published_at: datetime | None
    resolved_at: datetime | None
    postmortem_body: str | None
    postmortem_published_at: datetime | None
    # Component id -> the status this incident says it is in (page order).
    components: Mapping[str, ComponentStatus]

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


@dataclass(frozen=True)
class UpdateRow:
    id: str
    incident_id: str
    status: IncidentStatus
    body: str  # Markdown as written; render with statuspage.markdown
    author: str  # never shown to the public
    created_at: datetime
    display_at: datetime
    deliver_notifications: bool
    affected_components: tuple[AffectedComponent, ...]


@dataclass(frozen=True)
class IncidentDetail:
    incident: IncidentRow
    updates: list[UpdateRow]  # newest first


@dataclass(frozen=True)
class Override:
    component_id: str
    status: ComponentStatus
    reason: str
    set_by: str
    set_at: datetime
    incident_id: str | None


@dataclass(frozen=True)
class Deployment:
    id: int
    component_id: str
    version: str
    who: str
    link: str | None
    at: datetime
    recorded_at: datetime


def incident_row(r: Any, components: Mapping[str, ComponentStatus]) -> IncidentRow:
    return IncidentRow(
        id=r.id,
        name=r.name,
        status=IncidentStatus(r.status),
        impact=IncidentImpact(r.impact),
        source=r.source,
        created_at=r.created_at,
        updated_at=r.updated_at,
        published_at=r.published_at,
        resolved_at=r.resolved_at,
        postmortem_body=r.postmortem_body,
        postmortem_published_at=r.postmortem_published_at,
        components=dict(components),
    )


def update_row(r: Any) -> UpdateRow:
    return UpdateRow(
        id=r.id,
        incident_id=r.incident_id,
        status=IncidentStatus(r.status),
        body=r.body,
        author=r.author,
        created_at=r.created_at,
        display_at=r.display_at,
        deliver_notifications=bool(r.deliver_notifications),
        affected_components=tuple(
            AffectedComponent.from_json(a) for a in json.loads(r.affected_components or "[]")
        ),
    )


def override_row(r: Any) -> Override:
    return Override(
        component_id=r.component_id,
        status=ComponentStatus(r.status),
        reason=r.reason,
        set_by=r.set_by,
        set_at=r.set_at,
        incident_id=r.incident_id,
    )


def deployment_row(r: Any) -> Deployment:
    return Deployment(
        id=int(r.id),
        component_id=r.component_id,
        version=r.version,
        who=r.who,
        link=r.link,
        at=r.at,
        recorded_at=r.recorded_at,
    )
