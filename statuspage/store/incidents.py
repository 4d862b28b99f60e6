"""Incidents, their updates and components; staff overrides; deploy markers.

Writes take a connection from `store.transaction()`, so an incident and its
first update (or a component change and the update that reports it) commit
together or not at all. Reads take an optional connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incidents import (
    AUTHOR,
    Action,
    IncidentView,
    JoinIncident,
    OpenIncident,
    ResolveIncident,
)
from statuspage.store import tables as t
from statuspage.store.ids import new_id
from statuspage.store.incident_rows import (
    AffectedComponent,
    Deployment,
    IncidentDetail,
    IncidentRow,
    Override,
    UpdateRow,
    incident_row,
    update_row,
)
from statuspage.store.outbox import EventKind, enqueue
from statuspage.store.overrides import OverridesAndDeployments
from statuspage.store.store import _upsert

OPERATIONAL = ComponentStatus.OPERATIONAL
CLOSED = (IncidentStatus.RESOLVED.value, IncidentStatus.POSTMORTEM.value)

__all__ = [
    "AffectedComponent",
    "Deployment",
    "IncidentDetail",
    "IncidentRepository",
    "IncidentRow",
    "Override",
    "UpdateRow",
    "new_id",
]


class IncidentRepository(OverridesAndDeployments):
    """Incidents, their updates and components, behind one object built with
    the app's `Store`; overrides and deploy markers come with it."""

    # --- incidents: writes ------------------------------------------------

    def create(
        self,
        conn: Connection,
        *,
        name: str,
        status: IncidentStatus,
        impact: IncidentImpact,
        components: Mapping[str, ComponentStatus],
        body: str,
        author: str,
        now: datetime,
        source: str = "staff",
        publish: bool = True,
        display_at: datetime | None = None,
        deliver_notifications: bool = True,
    ) -> str:
        """A new incident with its components and its first update; returns
        its id. `publish=False` keeps it a draft, hidden until published."""
        incident_id = new_id()
        started = display_at or now
        conn.execute(
            insert(t.incidents).values(
                id=incident_id,
                name=name,
                status=status.value,
                impact=impact.value,
                source=source,
                created_at=started,
                updated_at=now,
                published_at=now if publish else None,
                resolved_at=started if status.value in CLOSED else None,
            )
        )
        self.add_update(
            conn,
            incident_id,
            status=status,
            body=body,
            author=author,
            now=now,
            display_at=started,
            deliver_notifications=deliver_notifications,
            components=components,
            first=True,
        )
        return incident_id

    def add_update(
        self,
        conn: Connection,
        incident_id: str,
        *,
        status: IncidentStatus,
        body: str,
        author: str,
        now: datetime,
        display_at: datetime | None = None,
        deliver_notifications: bool = True,
        components: Mapping[str, ComponentStatus] | None = None,
        impact: IncidentImpact | None = None,
        first: bool = False,
    ) -> str:
        """Post an update; moves the incident to `status`, sets the given
        component statuses (others stay) and, if given, the impact. The
        update records which components changed, from what to what. An
        update of a published incident marked for notification writes its
        outbox event in the same transaction."""
        shown = display_at or now
        affected = self._merge_components(conn, incident_id, components or {})
        values: dict[str, Any] = {"status": status.value, "updated_at": now}
        if impact is not None:
            values["impact"] = impact.value
        if status is IncidentStatus.RESOLVED:
            values["resolved_at"] = shown
        elif status is not IncidentStatus.POSTMORTEM:
            values["resolved_at"] = None  # reopened
        self._update_incident(conn, incident_id, values)
        update_id = new_id()
        conn.execute(
            insert(t.incident_updates).values(
                id=update_id,
                incident_id=incident_id,
                status=status.value,
                body=body,
                author=author,
                created_at=now,
                display_at=shown,
                deliver_notifications=deliver_notifications,
                affected_components=json.dumps([a.as_json() for a in affected]),
            )
        )
        if deliver_notifications:
            kind = EventKind.INCIDENT_CREATED if first else EventKind.INCIDENT_UPDATED
            self._notify(conn, incident_id, update_id, kind, now)
        return update_id

    def resolve(
        self,
        conn: Connection,
        incident_id: str,
        *,
        body: str,
        author: str,
        now: datetime,
        display_at: datetime | None = None,
        deliver_notifications: bool = True,
    ) -> str:
        """Resolve: a `resolved` update that sets every component of the
        incident back to operational."""
        components = dict.fromkeys(self._components(conn, incident_id), OPERATIONAL)
        return self.add_update(
            conn,
            incident_id,
            status=IncidentStatus.RESOLVED,
            body=body,
            author=author,
            now=now,
            display_at=display_at,
            deliver_notifications=deliver_notifications,
            components=components,
        )

    def set_components(
        self,
        conn: Connection,
        incident_id: str,
        components: Mapping[str, ComponentStatus],
        now: datetime,
    ) -> list[AffectedComponent]:
        """Make the incident's components exactly these (an edit, without an
        update); returns what changed (`new_status` None: removed)."""
        current = self._components(conn, incident_id)
        removed = [cid for cid in current if cid not in components]
        if removed:
            ic = t.incident_components
            conn.execute(
                delete(ic).where(ic.c.incident_id == incident_id, ic.c.component_id.in_(removed))
            )
        changed = self._merge_components(conn, incident_id, components)
        self._update_incident(conn, incident_id, {"updated_at": now})
        return changed + [AffectedComponent(cid, current[cid], None) for cid in removed]

    def edit(
        self,
        conn: Connection,
        incident_id: str,
        now: datetime,
        *,
        name: str | None = None,
        impact: IncidentImpact | None = None,
    ) -> None:
        """Change the title or the impact (staff edits, no update posted)."""
        values: dict[str, Any] = {"updated_at": now}
        if name is not None:
            values["name"] = name
        if impact is not None:
            values["impact"] = impact.value
        self._update_incident(conn, incident_id, values)

    def publish(self, conn: Connection, incident_id: str, now: datetime) -> bool:
        """Publish a draft; False when it was already public (two staff
        clicking at once publish it, and notify, once)."""
        i = t.incidents
        result = conn.execute(
            update(i)
            .where(i.c.id == incident_id, i.c.published_at.is_(None))
            .values(published_at=now, updated_at=now)
        )
        if result.rowcount != 1:
            return False
        u = t.incident_updates
        latest = conn.execute(
            select(u.c.id, u.c.deliver_notifications)
            .where(u.c.incident_id == incident_id)
            .order_by(u.c.display_at.desc(), u.c.created_at.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.deliver_notifications:
            self._notify(conn, incident_id, latest.id, EventKind.INCIDENT_CREATED, now, force=True)
        return True

    def set_postmortem(
        self, conn: Connection, incident_id: str, body: str, now: datetime, publish: bool = True
    ) -> None:
        """Write the postmortem of a resolved incident; publishing it moves
        the incident to `postmortem`."""
        row = self.get(incident_id, conn=conn)
        if row is None:
            raise KeyError(incident_id)
        if row.resolved_at is None:
            raise ValueError("a postmortem needs a resolved incident")
        values: dict[str, Any] = {"postmortem_body": body, "updated_at": now}
        if publish:
            values["postmortem_published_at"] = now
            values["status"] = IncidentStatus.POSTMORTEM.value
        self._update_incident(conn, incident_id, values)

    def apply(self, conn: Connection, action: Action, now: datetime) -> str:
        """Carry out one action of the automatic-incident policy; returns the
        incident id (new for `OpenIncident`). Author: `automation`."""
        if isinstance(action, OpenIncident):
            return self.create(
                conn,
                name=action.title,
                status=action.status,
                impact=action.impact,
                components=action.components,
                body=action.body,
                author=AUTHOR,
                now=now,
                source="automatic",
                publish=action.publish,
                display_at=action.at,
                deliver_notifications=action.notify,
            )
        if isinstance(action, ResolveIncident):
            self.resolve(
                conn,
                action.incident_id,
                body=action.body,
                author=AUTHOR,
                now=now,
                display_at=action.at,
                deliver_notifications=action.notify,
            )
            return action.incident_id
        if isinstance(action, JoinIncident):
            components = {action.component_id: action.component_status}
        else:
            components = dict(action.components)
        self.add_update(
            conn,
            action.incident_id,
            status=action.status,
            body=action.body,
            author=AUTHOR,
            now=now,
            display_at=action.at,
            deliver_notifications=action.notify,
            components=components,
            impact=action.impact,
        )
        return action.incident_id

    # --- incidents: reads -----------------------------------------------------

    def get(self, incident_id: str, conn: Connection | None = None) -> IncidentRow | None:
        with self._reader(conn) as c:
            rows = self._rows(c, select(t.incidents).where(t.incidents.c.id == incident_id))
        return rows[0] if rows else None

    def detail(self, incident_id: str, conn: Connection | None = None) -> IncidentDetail | None:
        """One incident with its updates, newest first."""
        with self._reader(conn) as c:
            incident = self.get(incident_id, conn=c)
            if incident is None:
                return None
            u = t.incident_updates
            query = (
                select(u)
                .where(u.c.incident_id == incident_id)
                .order_by(u.c.display_at.desc(), u.c.created_at.desc())
            )
            return IncidentDetail(incident, [update_row(r) for r in c.execute(query)])

    def recent(
        self,
        limit: int = 50,
        drafts: bool = False,
        conn: Connection | None = None,
        offset: int = 0,
    ) -> list[IncidentRow]:
        """The newest incidents, skipping `offset` (a page of a list);
        drafts only when asked (never public)."""
        with self._reader(conn) as c:
            return self._rows(c, self._listing(drafts).limit(limit).offset(offset))

    def unresolved(self, drafts: bool = False, conn: Connection | None = None) -> list[IncidentRow]:
        query = self._listing(drafts).where(t.incidents.c.resolved_at.is_(None))
        with self._reader(conn) as c:
            return self._rows(c, query)

    def drafts(self, conn: Connection | None = None) -> list[IncidentRow]:
        """Incidents waiting for a person to publish them."""
        query = self._listing(True).where(t.incidents.c.published_at.is_(None))
        with self._reader(conn) as c:
            return self._rows(c, query)

    def overlapping(
        self, start: datetime, end: datetime, conn: Connection | None = None
    ) -> list[IncidentRow]:
        """Published incidents open at some time between `start` and `end`
        (for the days of the uptime bars), oldest first."""
        i = t.incidents
        query = (
            self._listing(False)
            .where(i.c.created_at <= end)
            .where((i.c.resolved_at.is_(None)) | (i.c.resolved_at >= start))
            .order_by(None)
            .order_by(i.c.created_at, i.c.id)
        )
        with self._reader(conn) as c:
            return self._rows(c, query)

    def for_component(
        self,
        component_id: str,
        limit: int = 50,
        drafts: bool = False,
        conn: Connection | None = None,
    ) -> list[IncidentRow]:
        ic = t.incident_components
        ids = select(ic.c.incident_id).where(ic.c.component_id == component_id)
        query = self._listing(drafts).where(t.incidents.c.id.in_(ids)).limit(limit)
        with self._reader(conn) as c:
            return self._rows(c, query)

    def open_views(self, conn: Connection | None = None) -> list[IncidentView]:
        """Every unresolved incident (drafts too) as the policy sees it."""
        u = t.incident_updates
        with self._reader(conn) as c:
            views = []
            for row in self.unresolved(drafts=True, conn=c):
                last = c.execute(
                    select(u.c.display_at)
                    .where(u.c.incident_id == row.id)
                    .order_by(u.c.display_at.desc())
                    .limit(1)
                ).scalar()
                views.append(
                    IncidentView(
                        id=row.id,
                        status=row.status,
                        impact=row.impact,
                        started_at=row.created_at,
                        published=row.published,
                        components=row.components,
                        last_change_at=last or row.created_at,
                        automatic=row.source == "automatic",
                    )
                )
            return views

    # --- helpers -----------------------------------------------------------------

    def _notify(
        self,
        conn: Connection,
        incident_id: str,
        update_id: str,
        kind: EventKind,
        now: datetime,
        force: bool = False,
    ) -> None:
        """An outbox event for subscribers of the incident's components; a
        draft tells no one (publishing it does, with `force`)."""
        i = t.incidents
        published = conn.execute(
            select(i.c.published_at).where(i.c.id == incident_id)
        ).scalar_one_or_none()
        if published is None and not force:
            return
        payload = {"incident_id": incident_id, "update_id": update_id}
        enqueue(conn, kind, payload, now, list(self._components(conn, incident_id)))

    def _update_incident(self, conn: Connection, incident_id: str, values: dict[str, Any]) -> None:
        i = t.incidents
        result = conn.execute(update(i).where(i.c.id == incident_id).values(**values))
        if result.rowcount != 1:
            raise KeyError(incident_id)

    def _components(self, conn: Connection, incident_id: str) -> dict[str, ComponentStatus]:
        ic = t.incident_components
        rows = conn.execute(
            select(ic).where(ic.c.incident_id == incident_id).order_by(ic.c.component_id)
        )
        return {r.component_id: ComponentStatus(r.status) for r in rows}

    def _merge_components(
        self, conn: Connection, incident_id: str, components: Mapping[str, ComponentStatus]
    ) -> list[AffectedComponent]:
        """Set these component statuses; returns the ones that changed."""
        current = self._components(conn, incident_id)
        changed = []
        for cid, status in components.items():
            old = current.get(cid)
            if old is status:
                continue
            _upsert(
                conn,
                t.incident_components,
                key={"incident_id": incident_id, "component_id": cid},
                values={"status": status.value},
            )
            changed.append(AffectedComponent(cid, old, status))
        return changed

    def _listing(self, drafts: bool) -> Any:
        i = t.incidents
        query = select(i).order_by(i.c.created_at.desc(), i.c.id)
        return query if drafts else query.where(i.c.published_at.is_not(None))

    def _rows(self, conn: Connection, query: Any) -> list[IncidentRow]:
        rows = list(conn.execute(query))
        ic, c = t.incident_components, t.components
        components: dict[str, dict[str, ComponentStatus]] = {r.id: {} for r in rows}
        if rows:
            # In page order, as the components are listed on the page.
            found = conn.execute(
                select(ic)
                .join(c, c.c.id == ic.c.component_id)
                .where(ic.c.incident_id.in_(list(components)))
                .order_by(ic.c.incident_id, c.c.position, ic.c.component_id)
            )
            for r in found:
                components[r.incident_id][r.component_id] = ComponentStatus(r.status)
        return [incident_row(r, components[r.id]) for r in rows]
