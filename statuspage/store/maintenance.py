"""Scheduled maintenance in the store: rows in, `Window`s out, and the
automatic status changes written as the maintenance's timeline.

The stored `status` is the read model the scheduler keeps up to date with
`apply_transitions`; the lists for the page (`upcoming`, `active`, `recent`)
recompute it from the window at `now`, so a page never trusts a scheduler
that may be late. `completed` is final: those rows are never revisited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from statuspage.domain import MaintenanceStatus
from statuspage.localtime import local_time_text
from statuspage.maintenance import (
    Window,
    automatic_update_body,
    next_change_at,
    next_occurrence,
    status_at,
    status_since,
)
from statuspage.store import tables as t
from statuspage.store.ids import new_id
from statuspage.store.maintenance_records import (
    Maintenance,
    MaintenanceChange,
    MaintenanceUpdate,
    components_of,
    maintenance_from_row,
    timeline_order,
    update_from_row,
    window_from_row,
)
from statuspage.store.outbox import EventKind, enqueue
from statuspage.store.store import Store

__all__ = ["Maintenance", "MaintenanceChange", "MaintenanceRepository", "MaintenanceUpdate"]

AUTOMATION = "automation"
SCHEDULED = MaintenanceStatus.SCHEDULED
COMPLETED = MaintenanceStatus.COMPLETED
# Subscribers hear when the work begins and when it is over for good;
# "verifying" and "next occurrence" updates only go on the page (a daily
# window would otherwise mail everyone at every end as well).
# What subscribers hear of, by the status an update moves to ("verifying"
# is staff's business).
MAINTENANCE_EVENTS = {
    SCHEDULED: EventKind.MAINTENANCE_SCHEDULED,
    MaintenanceStatus.IN_PROGRESS: EventKind.MAINTENANCE_STARTED,
    COMPLETED: EventKind.MAINTENANCE_COMPLETED,
}
NOTIFY_ON = frozenset({MaintenanceStatus.IN_PROGRESS, COMPLETED})


class MaintenanceRepository:
    """Maintenance windows in a `Store`. Methods that write take an optional
    connection, so a caller can commit the change together with its own
    (an audit row); without one they use a transaction of their own.

    `verify_after` is the page's policy for every window (the schema has no
    column for it): how long a finished window stays `verifying`."""

    def __init__(self, store: Store, verify_after: timedelta | None = None) -> None:
        self.store = store
        self.verify_after = verify_after

    # --- writing ---------------------------------------------------------

    def create(
        self,
        *,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        timezone: str,
        components: Sequence[str],
        created_by: str,
        now: datetime,
        body: str = "",
        recurrence: str | None = None,
        recurrence_until: datetime | None = None,
        deliver_notifications: bool = True,
        conn: Connection | None = None,
    ) -> Maintenance:
        """Store a new maintenance, `scheduled`, with its first update.

        Raises ValueError for an impossible window (the admin form checks
        first, with messages per field). `apply_transitions` moves it on,
        also when it was entered already running."""
        maintenance_id = new_id()
        window = Window(
            maintenance_id,
            title,
            starts_at,
            ends_at,
            timezone,
            recurrence,
            recurrence_until if recurrence else None,
        )
        first_word = body.strip() or (
            f"Scheduled for {local_time_text(window.starts_at, timezone)} "
            f"until {local_time_text(window.ends_at, timezone)}."
        )
        with self._writer(conn) as c:
            c.execute(
                insert(t.maintenances).values(
                    id=maintenance_id,
                    title=title.strip(),
                    body=body,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    timezone=timezone,
                    recurrence=window.recurrence,
                    recurrence_until=window.recurrence_until,
                    status=SCHEDULED.value,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            for component_id in dict.fromkeys(components):  # unique, in order
                c.execute(
                    insert(t.maintenance_components).values(
                        maintenance_id=maintenance_id, component_id=component_id
                    )
                )
            _add_update(
                c,
                maintenance_id,
                SCHEDULED,
                first_word,
                created_by,
                now,
                now,
                deliver_notifications,
            )
            created = self.get(maintenance_id, conn=c)
        assert created is not None
        return created

    def cancel(
        self,
        maintenance_id: str,
        *,
        by: str,
        now: datetime,
        conn: Connection | None = None,
        body: str = "",
        deliver_notifications: bool = True,
    ) -> bool:
        """Cancel a maintenance that is not over yet: it becomes `completed`
        and is never in progress again. False when there was nothing to
        cancel (unknown, already cancelled or completed)."""
        said = body.strip() or "This scheduled maintenance has been cancelled."
        return self._finish(
            maintenance_id, (), {"cancelled_at": now}, said, by, now, conn, deliver_notifications
        )

    def complete(
        self,
        maintenance_id: str,
        *,
        by: str,
        now: datetime,
        conn: Connection | None = None,
        body: str = "",
        deliver_notifications: bool = True,
    ) -> bool:
        """The work of a one-off maintenance in progress is done early: it
        ends now and is `completed` (not `verifying`). False when it is not
        a one-off window in progress at `now` (not begun, over, cancelled,
        or repeating: a repeating window is cancelled instead)."""
        m = t.maintenances
        running = (m.c.recurrence.is_(None), m.c.starts_at <= now, m.c.ends_at > now)
        said = body.strip() or "The scheduled maintenance is complete."
        return self._finish(
            maintenance_id, running, {"ends_at": now}, said, by, now, conn, deliver_notifications
        )

    def apply_transitions(self, now: datetime) -> list[MaintenanceChange]:
        """Move every maintenance that is not completed to its status at
        `now`, in one transaction, writing an update per change. Running it
        again changes nothing. A late run dates each update when the change
        happened by the rules (`display_at`), not when it was noticed."""
        m = t.maintenances
        changes = []
        with self.store.transaction() as c:
            # FOR UPDATE on PostgreSQL: two schedulers cannot both write the
            # same change (SQLite serializes writers anyway).
            query = select(m).where(m.c.status != COMPLETED.value).order_by(m.c.starts_at, m.c.id)
            rows = list(c.execute(query.with_for_update()))
            covered = components_of(c, [row.id for row in rows])
            for row in rows:
                window = window_from_row(row, covered.get(row.id, ()), self.verify_after)
                old, new = MaintenanceStatus(row.status), status_at(window, now)
                if new is old:
                    continue
                claimed = c.execute(
                    update(m)
                    .where(m.c.id == row.id, m.c.status == old.value)
                    .values(status=new.value, updated_at=now)
                ).rowcount
                if claimed != 1:
                    continue
                # Not before the maintenance was entered: the timeline starts there.
                display_at = min(max(status_since(window, now) or now, row.created_at), now)
                body = automatic_update_body(window, new, now)
                _add_update(c, row.id, new, body, AUTOMATION, now, display_at, new in NOTIFY_ON)
                changes.append(MaintenanceChange(row.id, old, new))
        return changes

    def _finish(
        self,
        maintenance_id: str,
        where: tuple[Any, ...],
        values: dict[str, Any],
        body: str,
        by: str,
        now: datetime,
        conn: Connection | None,
        deliver_notifications: bool,
    ) -> bool:
        """Make a maintenance that is not over `completed` (claimed with a
        conditional update, so two staff cannot both), with its update."""
        m = t.maintenances
        with self._writer(conn) as c:
            claimed = c.execute(
                update(m)
                .where(m.c.id == maintenance_id, m.c.cancelled_at.is_(None))
                .where(m.c.status != COMPLETED.value, *where)
                .values(status=COMPLETED.value, updated_at=now, **values)
            ).rowcount
            if claimed != 1:
                return False
            _add_update(c, maintenance_id, COMPLETED, body, by, now, now, deliver_notifications)
        return True

    # --- reading ---------------------------------------------------------

    def get(self, maintenance_id: str, conn: Connection | None = None) -> Maintenance | None:
        found = self._load(conn, t.maintenances.c.id == maintenance_id)
        return found[0] if found else None

    def windows(self, conn: Connection | None = None) -> list[Window]:
        """The windows of every maintenance not yet completed, for the pure
        rules (`components_under_maintenance`, `next_change_at`)."""
        return [m.window(self.verify_after) for m in self._not_completed(conn)]

    def upcoming(self, now: datetime, conn: Connection | None = None) -> list[Maintenance]:
        """Maintenances `scheduled` at `now`, the next to start first."""
        found = self._with_status(now, conn, {SCHEDULED})
        return sorted(found, key=lambda m: self._next_start(m, now))

    def active(self, now: datetime, conn: Connection | None = None) -> list[Maintenance]:
        """Maintenances in progress or verifying at `now`, earliest first."""
        statuses = {MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING}
        return sorted(self._with_status(now, conn, statuses), key=lambda m: m.starts_at)

    def recent(
        self, now: datetime, limit: int = 20, conn: Connection | None = None
    ) -> list[Maintenance]:
        """Completed (or cancelled) maintenances, the latest to finish first."""
        m = t.maintenances
        # Only rows that can be over by now; exact status decided below.
        over = or_(
            m.c.status == COMPLETED.value,
            m.c.recurrence.is_(None) & (m.c.ends_at <= now),
            m.c.recurrence_until <= now,
        )
        done = [x for x in self._load(conn, over) if self._status(x, now) is COMPLETED]
        done.sort(key=lambda x: (self._finished_at(x, now), x.id), reverse=True)
        return done[:limit]

    def next_change_at(self, now: datetime, conn: Connection | None = None) -> datetime | None:
        """The soonest time any maintenance changes status on its own."""
        times = [at for w in self.windows(conn) if (at := next_change_at(w, now)) is not None]
        return min(times, default=None)

    # --- helpers ---------------------------------------------------------

    def _not_completed(self, conn: Connection | None) -> list[Maintenance]:
        return self._load(conn, t.maintenances.c.status != COMPLETED.value, with_updates=False)

    def _with_status(
        self, now: datetime, conn: Connection | None, statuses: set[MaintenanceStatus]
    ) -> list[Maintenance]:
        return [m for m in self._not_completed(conn) if self._status(m, now) in statuses]

    def _status(self, m: Maintenance, now: datetime) -> MaintenanceStatus:
        return status_at(m.window(self.verify_after), now)

    def _next_start(self, m: Maintenance, now: datetime) -> datetime:
        occurrence = next_occurrence(m.window(self.verify_after), now)
        return occurrence[0] if occurrence else m.starts_at

    def _finished_at(self, m: Maintenance, now: datetime) -> datetime:
        if m.cancelled_at is not None:
            return m.cancelled_at
        return status_since(m.window(self.verify_after), now) or m.ends_at

    def _load(
        self, conn: Connection | None, where: Any, with_updates: bool = True
    ) -> list[Maintenance]:
        m, u = t.maintenances, t.maintenance_updates
        with _reading(self.store, conn) as c:
            rows = list(c.execute(select(m).where(where).order_by(m.c.starts_at, m.c.id)))
            ids = [row.id for row in rows]
            covered = components_of(c, ids)
            updates: dict[str, list[MaintenanceUpdate]] = {i: [] for i in ids}
            if with_updates and ids:
                for r in c.execute(select(u).where(u.c.maintenance_id.in_(ids))):
                    updates[r.maintenance_id].append(update_from_row(r))
        return [
            maintenance_from_row(
                row, covered.get(row.id, ()), sorted(updates[row.id], key=timeline_order)
            )
            for row in rows
        ]

    @contextlib.contextmanager
    def _writer(self, conn: Connection | None) -> Iterator[Connection]:
        """The caller's connection (it commits), else a transaction."""
        if conn is not None:
            yield conn
        else:
            with self.store.transaction() as c:
                yield c


@contextlib.contextmanager
def _reading(store: Store, conn: Connection | None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
    else:
        with store.engine.connect() as c:
            yield c


def _add_update(
    conn: Connection,
    maintenance_id: str,
    status: MaintenanceStatus,
    body: str,
    author: str,
    created_at: datetime,
    display_at: datetime,
    deliver_notifications: bool,
) -> None:
    """An update to the maintenance's timeline and, when marked for it, the
    outbox event that tells subscribers (same transaction)."""
    update_id = new_id()
    conn.execute(
        insert(t.maintenance_updates).values(
            id=update_id,
            maintenance_id=maintenance_id,
            status=status.value,
            body=body,
            author=author,
            created_at=created_at,
            display_at=display_at,
            deliver_notifications=deliver_notifications,
        )
    )
    kind = MAINTENANCE_EVENTS.get(status)
    if deliver_notifications and kind is not None:
        mc = t.maintenance_components
        components = conn.execute(
            select(mc.c.component_id)
            .where(mc.c.maintenance_id == maintenance_id)
            .order_by(mc.c.component_id)
        ).scalars()
        payload = {"maintenance_id": maintenance_id, "update_id": update_id}
        enqueue(conn, kind, payload, created_at, list(components))
