"""Incidents as the public pages show them: published ones only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from statuspage.domain import IncidentImpact, IncidentStatus
from statuspage.store import Store
from statuspage.store.incident_rows import IncidentRow, UpdateRow
from statuspage.store.incidents import IncidentRepository

RECENT_DAYS = 7


@dataclass(frozen=True)
class IncidentCard:
    id: str
    name: str
    status: IncidentStatus
    impact: IncidentImpact
    started_at: datetime
    resolved_at: datetime | None
    components: list[str]  # names, page order
    updates: list[UpdateRow]  # newest first
    postmortem: str | None

    @property
    def latest(self) -> UpdateRow | None:
        return self.updates[0] if self.updates else None

    @property
    def duration(self) -> timedelta | None:
        return self.resolved_at - self.started_at if self.resolved_at else None


def card(store: Store, incident: IncidentRow, names: dict[str, str]) -> IncidentCard:
    detail = IncidentRepository(store).detail(incident.id)
    updates = detail.updates if detail else []
    return IncidentCard(
        id=incident.id,
        name=incident.name,
        status=incident.status,
        impact=incident.impact,
        started_at=incident.created_at,
        resolved_at=incident.resolved_at,
        components=[names.get(cid, cid) for cid in incident.components],
        updates=updates,
        postmortem=incident.postmortem_body if incident.postmortem_published_at else None,
    )


def active_and_recent(
    store: Store, names: dict[str, str], now: datetime
) -> tuple[list[IncidentCard], list[IncidentCard]]:
    """Unresolved incidents, and those resolved in the last days."""
    repo = IncidentRepository(store)
    active = [card(store, i, names) for i in repo.unresolved()]
    since = now - timedelta(days=RECENT_DAYS)
    recent = [
        card(store, i, names)
        for i in repo.recent(limit=20)
        if i.resolved_at is not None and i.resolved_at >= since
    ]
    return active, recent


def published_incident(
    store: Store, incident_id: str, names: dict[str, str]
) -> IncidentCard | None:
    """A published incident, or None (drafts and unknown ids look alike)."""
    incident = IncidentRepository(store).get(incident_id)
    if incident is None or incident.published_at is None:
        return None
    return card(store, incident, names)
