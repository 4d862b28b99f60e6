"""Staff overrides of component status, and deploy markers.

An override is a status a person (or an Alertmanager alert) set by hand: it
wins over the checks until released (REL-08). Deploy markers come from CI and
are shown to staff next to incidents, never to the public.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from statuspage.domain import ComponentStatus
from statuspage.store import tables as t
from statuspage.store.incident_rows import Deployment, Override, deployment_row, override_row
from statuspage.store.store import Store, _upsert


class OverridesAndDeployments:
    """Queries on `component_overrides` and `deployments`; the incident
    repository inherits them, so staff code holds one object."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- overrides (REL-08: a person's status wins until released) -----------

    def set_override(
        self,
        conn: Connection,
        component_id: str,
        status: ComponentStatus,
        *,
        set_by: str,
        now: datetime,
        reason: str = "",
        incident_id: str | None = None,
        only_over: str | None = None,
    ) -> bool:
        """Set (or replace) the component's override; True when written.
        With `only_over`, an existing override is replaced only if it was
        set by `only_over`, in the same statement (no race with a person)."""
        values = {
            "status": status.value,
            "reason": reason,
            "set_by": set_by,
            "set_at": now,
            "incident_id": incident_id,
        }
        if only_over is None:
            _upsert(conn, t.component_overrides, key={"component_id": component_id}, values=values)
            return True
        o = t.component_overrides
        module = sqlite if conn.dialect.name == "sqlite" else postgresql
        statement = module.insert(o).values(component_id=component_id, **values)
        upsert = statement.on_conflict_do_update(
            index_elements=["component_id"], set_=values, where=o.c.set_by == only_over
        )
        return conn.execute(upsert.returning(o.c.component_id)).first() is not None

    def release_override(
        self, conn: Connection, component_id: str, *, set_by: str | None = None
    ) -> bool:
        """Hand the component back to its checks; False if none was set (or,
        with `set_by`, the one set was someone else's)."""
        o = t.component_overrides
        query = delete(o).where(o.c.component_id == component_id)
        if set_by is not None:
            query = query.where(o.c.set_by == set_by)
        result = conn.execute(query)
        return result.rowcount == 1

    def overrides(self, conn: Connection | None = None) -> dict[str, Override]:
        o = t.component_overrides
        with self._reader(conn) as c:
            rows = c.execute(select(o).order_by(o.c.component_id))
            return {r.component_id: override_row(r) for r in rows}

    # --- deploy markers (staff only, never public) ---------------------------

    def record_deployment(
        self,
        conn: Connection,
        component_id: str,
        version: str,
        *,
        at: datetime,
        now: datetime,
        who: str = "",
        link: str | None = None,
    ) -> int:
        result = conn.execute(
            insert(t.deployments)
            .values(
                component_id=component_id,
                version=version,
                who=who,
                link=link,
                at=at,
                recorded_at=now,
            )
            .returning(t.deployments.c.id)
        )
        return int(result.scalar_one())

    def recent_deployments(
        self,
        component_id: str | None = None,
        limit: int = 20,
        since: datetime | None = None,
        conn: Connection | None = None,
    ) -> list[Deployment]:
        """Newest first; of one component or of all."""
        d = t.deployments
        query = select(d).order_by(d.c.at.desc(), d.c.id.desc()).limit(limit)
        if component_id is not None:
            query = query.where(d.c.component_id == component_id)
        if since is not None:
            query = query.where(d.c.at >= since)
        with self._reader(conn) as c:
            return [deployment_row(r) for r in c.execute(query)]

    def last_deployment_before(
        self, component_id: str, at: datetime, conn: Connection | None = None
    ) -> Deployment | None:
        """The deploy most likely to blame for a failure at `at` (at or before it)."""
        d = t.deployments
        query = (
            select(d)
            .where(d.c.component_id == component_id, d.c.at <= at)
            .order_by(d.c.at.desc(), d.c.id.desc())
            .limit(1)
        )
        with self._reader(conn) as c:
            row = c.execute(query).first()
        return deployment_row(row) if row else None

    @contextlib.contextmanager
    def _reader(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.store.engine.connect() as c:
                yield c
