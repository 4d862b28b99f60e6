"""Maintenance rows as values: what `MaintenanceRepository` reads and
returns. No queries of their own beyond the component lookup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from statuspage.domain import MaintenanceStatus
from statuspage.maintenance import Window
from statuspage.store import tables as t

# Ties in the timeline (two updates at the same instant) follow the lifecycle.
_LIFECYCLE = {status: rank for rank, status in enumerate(MaintenanceStatus)}


@dataclass(frozen=True)
class MaintenanceUpdate:
    id: str
    maintenance_id: str
    status: MaintenanceStatus
    body: str
    author: str  # "user:alice", "automation"; never shown to the public
    created_at: datetime
    display_at: datetime  # when the change happened by the rules
    deliver_notifications: bool


@dataclass(frozen=True)
class Maintenance:
    """A maintenance as stored, with its components and its timeline
    (oldest update first). `status` is the stored one."""

    id: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    recurrence: str | None
    recurrence_until: datetime | None
    status: MaintenanceStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    components: tuple[str, ...]
    updates: tuple[MaintenanceUpdate, ...] = ()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def window(self, verify_after: timedelta | None = None) -> Window:
        return Window(
            id=self.id,
            title=self.title,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            timezone=self.timezone,
            recurrence=self.recurrence,
            recurrence_until=self.recurrence_until,
            cancelled=self.cancelled,
            components=frozenset(self.components),
            verify_after=verify_after,
        )


class MaintenanceChange(NamedTuple):
    maintenance_id: str
    old: MaintenanceStatus
    new: MaintenanceStatus


def components_of(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    if not ids:
        return {}
    mc = t.maintenance_components
    query = (
        select(mc)
        .where(mc.c.maintenance_id.in_(ids))
        .order_by(mc.c.maintenance_id, mc.c.component_id)
    )
    found: dict[str, list[str]] = {}
    for r in conn.execute(query):
        found.setdefault(r.maintenance_id, []).append(r.component_id)
    return {key: tuple(value) for key, value in found.items()}


def timeline_order(update: MaintenanceUpdate) -> tuple[datetime, datetime, int]:
    return update.display_at, update.created_at, _LIFECYCLE[update.status]


def window_from_row(row: Any, components: Sequence[str], verify_after: timedelta | None) -> Window:
    return maintenance_from_row(row, components, ()).window(verify_after)


def maintenance_from_row(
    row: Any, components: Sequence[str], updates: Sequence[MaintenanceUpdate]
) -> Maintenance:
    return Maintenance(
        id=row.id,
        title=row.title,
        body=row.body,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        timezone=row.timezone,
        recurrence=row.recurrence,
        recurrence_until=row.recurrence_until,
        status=MaintenanceStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        components=tuple(components),
        updates=tuple(updates),
    )


def update_from_row(r: Any) -> MaintenanceUpdate:
    return MaintenanceUpdate(
        id=r.id,
        maintenance_id=r.maintenance_id,
        status=MaintenanceStatus(r.status),
        body=r.body,
        author=r.author,
        created_at=r.created_at,
        display_at=r.display_at,
        deliver_notifications=r.deliver_notifications,
    )
