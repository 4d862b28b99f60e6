"""The staff side of incidents: each change a person makes, with the
component overrides it implies, the components re-settled at once and one
audit row per change, all in the caller's transaction.

A component status set in an incident is a staff override (REL-08): it wins
over the checks until the incident is resolved, which releases the overrides
it set and lets the checks decide again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from statuspage import audit
from statuspage.components import settle_component
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incidents import deploy_hint
from statuspage.maintenance import maintenance_titles
from statuspage.store import Store
from statuspage.store.incidents import Deployment, IncidentRepository, IncidentRow
from statuspage.store.maintenance import MaintenanceRepository

# A deploy older than this before the failure is listed, not blamed.
DEPLOY_HINT_WINDOW = timedelta(hours=2)
RECENT_DEPLOYS = 5


@dataclass(frozen=True)
class NewIncident:
    name: str
    status: IncidentStatus
    impact: IncidentImpact
    components: Mapping[str, ComponentStatus]
    body: str
    display_at: datetime | None
    notify: bool


@dataclass(frozen=True)
class NewUpdate:
    status: IncidentStatus
    body: str
    components: Mapping[str, ComponentStatus]
    display_at: datetime | None
    notify: bool


@dataclass(frozen=True)
class ComponentDeploys:
    """Recent deploys of one affected component, and the sentence that blames
    the last one before the incident began (None when there is none close)."""

    component_id: str
    name: str
    deploys: list[Deployment]
    hint: str | None


class IncidentDesk:
    """Staff incident changes for one request: who, when, on which store."""

    def __init__(self, store: Store, tz: ZoneInfo, actor: str, now: datetime) -> None:
        self.store = store
        self.repo = IncidentRepository(store)
        self.tz = tz
        self.actor = actor
        self.now = now

    def open(self, conn: Connection, new: NewIncident) -> str:
        incident_id = self.repo.create(
            conn,
            name=new.name,
            status=new.status,
            impact=new.impact,
            components=new.components,
            body=new.body,
            author=self.actor,
            now=self.now,
            display_at=new.display_at,
            deliver_notifications=new.notify,
        )
        after = {
            "name": new.name,
            "status": new.status,
            "impact": new.impact,
            "components": dict(new.components),
            "body": new.body,
            "display_at": new.display_at or self.now,
            "notify": new.notify,
        }
        self._record(conn, "incident.create", incident_id, None, after)
        self._override(conn, incident_id, new.name, new.components)
        return incident_id

    def post_update(self, conn: Connection, incident: IncidentRow, new: NewUpdate) -> str:
        update_id = self.repo.add_update(
            conn,
            incident.id,
            status=new.status,
            body=new.body,
            author=self.actor,
            now=self.now,
            display_at=new.display_at,
            deliver_notifications=new.notify,
            components=new.components,
        )
        before = {"status": incident.status, "components": dict(incident.components)}
        after = {
            "status": new.status,
            "components": {**incident.components, **new.components},
            "body": new.body,
            "display_at": new.display_at or self.now,
            "notify": new.notify,
            "update_id": update_id,
        }
        self._record(conn, "incident.update", incident.id, before, after)
        self._override(conn, incident.id, incident.name, new.components)
        return update_id

    def resolve(
        self,
        conn: Connection,
        incident: IncidentRow,
        body: str,
        notify: bool,
        display_at: datetime | None = None,
    ) -> None:
        """Resolve, release the overrides this incident set, and let the
        checks decide those components again."""
        self.repo.resolve(
            conn,
            incident.id,
            body=body,
            author=self.actor,
            now=self.now,
            display_at=display_at,
            deliver_notifications=notify,
        )
        before = {"status": incident.status, "components": dict(incident.components)}
        after = {
            "status": IncidentStatus.RESOLVED,
            "body": body,
            "notify": notify,
            "components": dict.fromkeys(incident.components, ComponentStatus.OPERATIONAL),
        }
        self._record(conn, "incident.resolve", incident.id, before, after)
        for cid, override in self.repo.overrides(conn).items():
            if override.incident_id != incident.id:
                continue  # set by hand or by another incident: not ours to release
            self.repo.release_override(conn, cid)
            audit.record(
                conn,
                self.actor,
                "override.release",
                "component",
                cid,
                {"status": override.status, "incident_id": incident.id},
                None,
                self.now,
            )
            self.settle(conn, cid)

    def edit(
        self, conn: Connection, incident: IncidentRow, name: str, impact: IncidentImpact
    ) -> bool:
        """Change title and impact; False when nothing changed."""
        before = {"name": incident.name, "impact": incident.impact}
        after = {"name": name, "impact": impact}
        if before == after:
            return False
        self.repo.edit(conn, incident.id, self.now, name=name, impact=impact)
        self._record(conn, "incident.edit", incident.id, before, after)
        return True

    def publish(self, conn: Connection, incident: IncidentRow) -> bool:
        """Publish a draft; False when someone else already did."""
        if not self.repo.publish(conn, incident.id, self.now):
            return False
        after = {"published_at": self.now}
        self._record(conn, "incident.publish", incident.id, {"published_at": None}, after)
        return True

    def set_postmortem(
        self, conn: Connection, incident: IncidentRow, body: str, publish: bool
    ) -> None:
        self.repo.set_postmortem(conn, incident.id, body, self.now, publish=publish)
        before = {
            "postmortem_body": incident.postmortem_body,
            "postmortem_published_at": incident.postmortem_published_at,
            "status": incident.status,
        }
        after = {
            "postmortem_body": body,
            "postmortem_published_at": self.now if publish else incident.postmortem_published_at,
            "status": IncidentStatus.POSTMORTEM if publish else incident.status,
        }
        self._record(conn, "incident.postmortem", incident.id, before, after)

    def settle(self, conn: Connection, component_id: str) -> None:
        """Write the component's status now, from its checks, its override
        and any maintenance window, so the public page changes at once."""
        checks = self.store.checks(component_id, conn=conn)
        override = self.repo.overrides(conn).get(component_id)
        windows = MaintenanceRepository(self.store).windows(conn)
        settle_component(
            self.store,
            conn,
            component_id,
            [(c.name, c.state) for c in checks],
            self.now,
            self.tz,
            override=(override.status, override.reason) if override else None,
            maintenance=maintenance_titles(windows, self.now).get(component_id),
        )

    def _override(
        self,
        conn: Connection,
        incident_id: str,
        name: str,
        components: Mapping[str, ComponentStatus],
    ) -> None:
        current = self.repo.overrides(conn)
        for cid, status in components.items():
            old = current.get(cid)
            self.repo.set_override(
                conn,
                cid,
                status,
                set_by=self.actor,
                now=self.now,
                reason=f"incident {name}",
                incident_id=incident_id,
            )
            before = {"status": old.status, "incident_id": old.incident_id} if old else None
            after = {"status": status, "incident_id": incident_id}
            audit.record(
                conn, self.actor, "override.set", "component", cid, before, after, self.now
            )
            self.settle(conn, cid)

    def _record(
        self,
        conn: Connection,
        action: str,
        incident_id: str,
        before: Mapping[str, object] | None,
        after: Mapping[str, object] | None,
    ) -> None:
        audit.record(conn, self.actor, action, "incident", incident_id, before, after, self.now)


def deploys_near(
    repo: IncidentRepository, incident: IncidentRow, names: Mapping[str, str]
) -> list[ComponentDeploys]:
    """For staff: each affected component's recent deploys, and a hint when
    one landed shortly before the incident began ("Payments went down 3 min
    after deploy v2.14 by ci"), so rolling back is the obvious first move.
    The incident's start is when the component went down: automatic
    incidents start at the confirmed transition."""
    found = []
    went_down = incident.created_at
    for cid in incident.components:
        name = names.get(cid, cid)
        deploys = repo.recent_deployments(cid, limit=RECENT_DEPLOYS)
        last = repo.last_deployment_before(cid, went_down)
        hint = None
        if last is not None and went_down - last.at <= DEPLOY_HINT_WINDOW:
            hint = deploy_hint(name, went_down, last.version, last.who, last.at)
        if deploys or hint:
            found.append(ComponentDeploys(cid, name, deploys, hint))
    return found
