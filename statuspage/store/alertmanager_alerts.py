"""The alerts Alertmanager last said are firing, one row per fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from statuspage.domain import ComponentStatus
from statuspage.store import tables as t
from statuspage.store.store import _upsert


@dataclass(frozen=True)
class FiringAlert:
    fingerprint: str
    component_id: str
    status: ComponentStatus
    name: str
    starts_at: datetime
    ends_at: datetime | None


def note_firing(conn: Connection, alert: FiringAlert, now: datetime) -> None:
    """Insert or refresh a firing alert (a repeat changes nothing that counts)."""
    _upsert(
        conn,
        t.alertmanager_alerts,
        key={"fingerprint": alert.fingerprint},
        values={
            "component_id": alert.component_id,
            "status": alert.status.value,
            "name": alert.name,
            "starts_at": alert.starts_at,
            "ends_at": alert.ends_at,
            "updated_at": now,
        },
    )


def forget(conn: Connection, fingerprint: str) -> str | None:
    """Drop a resolved alert; the component it was firing for, if any."""
    a = t.alertmanager_alerts
    component = conn.execute(
        select(a.c.component_id).where(a.c.fingerprint == fingerprint)
    ).scalar()
    if component is not None:
        conn.execute(delete(a).where(a.c.fingerprint == fingerprint))
    return component


def component_of(conn: Connection, fingerprint: str) -> str | None:
    """The component an alert is recorded as firing for, if it is."""
    a = t.alertmanager_alerts
    found: str | None = conn.execute(
        select(a.c.component_id).where(a.c.fingerprint == fingerprint)
    ).scalar()
    return found


def firing_for(conn: Connection, component_id: str) -> list[FiringAlert]:
    a = t.alertmanager_alerts
    rows = conn.execute(select(a).where(a.c.component_id == component_id).order_by(a.c.fingerprint))
    return [
        FiringAlert(
            r.fingerprint,
            r.component_id,
            ComponentStatus(r.status),
            r.name,
            r.starts_at,
            r.ends_at,
        )
        for r in rows
    ]
