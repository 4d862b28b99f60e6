"""The staff side of scheduled maintenance: scheduling, cancelling and
completing a window, each with its audit row, and the components it covers
re-settled at once (a window running now puts them under maintenance; one
that ends hands them back to their checks), all in the caller's
transaction. The write API uses it; so can the admin pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from statuspage import audit
from statuspage.maintenance import maintenance_titles
from statuspage.overrides_service import resettle
from statuspage.store import Store
from statuspage.store.maintenance import Maintenance, MaintenanceRepository


@dataclass(frozen=True)
class NewMaintenance:
    """A window to schedule; times aware, `timezone` an IANA name."""

    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    components: Sequence[str]
    recurrence: str | None = None
    recurrence_until: datetime | None = None
    notify: bool = True


class MaintenanceDesk:
    """Staff maintenance changes for one request: who, when, on which store."""

    def __init__(self, store: Store, tz: ZoneInfo, actor: str, now: datetime) -> None:
        self.store = store
        self.repo = MaintenanceRepository(store)
        self.tz = tz
        self.actor = actor
        self.now = now

    def schedule(self, conn: Connection, new: NewMaintenance) -> Maintenance:
        """Store the window (ValueError for an impossible one)."""
        created = self.repo.create(
            title=new.title.strip(),
            body=new.body,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            timezone=new.timezone,
            components=new.components,
            recurrence=new.recurrence,
            recurrence_until=new.recurrence_until,
            created_by=self.actor,
            now=self.now,
            deliver_notifications=new.notify,
            conn=conn,
        )
        self._record(conn, "maintenance.create", created.id, None, shown(created))
        self._resettle(conn, self._covered(conn, created.components))
        return created

    def cancel(self, conn: Connection, m: Maintenance, body: str = "", notify: bool = True) -> bool:
        """Cancel a window not over yet; False when there was nothing to cancel."""
        return self._end(conn, m, "maintenance.cancel", self.repo.cancel, body, notify)

    def complete(
        self, conn: Connection, m: Maintenance, body: str = "", notify: bool = True
    ) -> bool:
        """End a one-off window in progress now; False when it is not one."""
        return self._end(conn, m, "maintenance.complete", self.repo.complete, body, notify)

    def _end(
        self,
        conn: Connection,
        m: Maintenance,
        action: str,
        change: Callable[..., bool],
        body: str,
        notify: bool,
    ) -> bool:
        held = self._covered(conn, m.components)  # to hand back once it ends
        if not change(
            m.id, by=self.actor, now=self.now, conn=conn, body=body, deliver_notifications=notify
        ):
            return False
        after = self.repo.get(m.id, conn=conn)
        assert after is not None
        self._record(conn, action, m.id, shown(m), shown(after))
        self._resettle(conn, held)
        return True

    def _covered(self, conn: Connection, components: Iterable[str]) -> list[str]:
        """Those of `components` a window holds under maintenance now."""
        titles = maintenance_titles(self.repo.windows(conn), self.now)
        known = {c.id for c in self.store.components(conn=conn)}
        return [cid for cid in components if cid in titles and cid in known]

    def _resettle(self, conn: Connection, components: Iterable[str]) -> None:
        for cid in components:
            resettle(self.store, conn, cid, self.now, self.tz)

    def _record(
        self,
        conn: Connection,
        action: str,
        maintenance_id: str,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> None:
        audit.record(
            conn, self.actor, action, "maintenance", maintenance_id, before, after, self.now
        )


def shown(m: Maintenance) -> dict[str, object]:
    """A maintenance as the audit log shows it."""
    return {
        "title": m.title,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "timezone": m.timezone,
        "recurrence": m.recurrence,
        "recurrence_until": m.recurrence_until,
        "components": sorted(m.components),
        "cancelled": m.cancelled,
    }
