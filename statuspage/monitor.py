"""The monitor: feeds check results through the state engine into the store.

This is the I/O edge around the pure rules in `state.py` and `uptime.py`:
each result, the check state it moves, the component transition that
follows and the rollups it touches are written in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from statuspage import audit
from statuspage.checks.base import CheckResult, CheckSpec
from statuspage.checks.heartbeat import HeartbeatCheck, hash_token
from statuspage.clock import Clock
from statuspage.components import settle_component, write_rollups
from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.incidents import (
    Action,
    ComponentChange,
    ComponentSnapshot,
    on_component_change,
    tick,
)
from statuspage.maintenance import maintenance_titles
from statuspage.state import (
    CheckState,
    Policy,
    derive_check_state,
    initial_state,
)
from statuspage.store import CheckRow, Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.uptime import local_day

log = logging.getLogger(__name__)

RESTART_REASON = "statuspage (re)started: waiting for the first check result"
SCHEDULER_HEARTBEAT = "scheduler"


@dataclass(frozen=True)
class WatchedCheck:
    id: str
    name: str
    component_id: str
    spec: CheckSpec
    policy: Policy


def watched_checks(config: Config) -> list[WatchedCheck]:
    return [
        WatchedCheck(
            id=check_id,
            name=spec.name,
            component_id=component.id,
            spec=spec,
            policy=Policy(
                interval=spec.effective_interval(),
                confirm_down=spec.confirm_down or 1,
                confirm_up=spec.confirm_up or 1,
                stale_after=spec.stale_after or 1,
            ),
        )
        for component, spec, check_id in config.checks()
    ]


def component_rows(config: Config) -> list[dict[str, object]]:
    """The config's components as the store's `sync_components` takes them."""
    return [
        {
            "id": c.id,
            "name": c.name,
            "description": c.description,
            "group_name": c.group,
            "checks": [
                {
                    "id": check_id,
                    "name": spec.name,
                    "type": spec.type,  # type: ignore[attr-defined]
                    "interval_s": spec.effective_interval().total_seconds(),
                }
                for component, spec, check_id in config.checks()
                if component.id == c.id
            ],
        }
        for c in config.components
    ]


class Monitor:
    """Owns the live state of every check in this (scheduler) process."""

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.tz = config.site.tz
        self.checks = {w.id: w for w in watched_checks(config)}
        self._by_component: dict[str, list[WatchedCheck]] = {c.id: [] for c in config.components}
        for w in self.checks.values():
            self._by_component[w.component_id].append(w)
        self._locks = {cid: threading.Lock() for cid in self._by_component}
        # One lock for automatic incidents: two components breaking at once
        # must join one incident, not open two.
        self._incident_lock = threading.Lock()
        self._names = {c.id: c.name for c in config.components}
        self.incidents = IncidentRepository(store)
        self.maintenance = MaintenanceRepository(store)
        self._states: dict[str, CheckState] = {}
        self.started_at: datetime | None = None

    # --- start ---------------------------------------------------------

    def start(self) -> None:
        """Sync the config into the store and start every check from
        `unknown`: after a restart nothing is known until checks report."""
        now = self.clock()
        self.started_at = now
        with self.store.transaction() as conn:
            self.store.sync_components(conn, component_rows(self.config), now)
            previous = {row.id: row for row in self.store.checks(conn=conn)}
            for cid, watched in self._by_component.items():
                went_dark = self._went_dark_at(watched, previous, now)
                for w in watched:
                    self._states[w.id] = initial_state(now, RESTART_REASON)
                    self.store.set_check_state(conn, w.id, self._states[w.id])
                self._apply_component(conn, cid, now, fallback_at=went_dark, changed=[])
        self._sync_heartbeat_tokens(now)
        self.refresh_rollups()

    def _sync_heartbeat_tokens(self, now: datetime) -> None:
        """A token given in the config (e.g. from ${ENV}) is stored hashed;
        a heartbeat check without one is named in the log with the command
        that makes one."""
        for watched in self.checks.values():
            if not isinstance(watched.spec, HeartbeatCheck):
                continue
            if watched.spec.token:
                token_hash = hash_token(watched.spec.token)
                if not self.store.has_heartbeat_token(watched.id, token_hash):
                    self.store.set_heartbeat_token(watched.id, token_hash, now)
            elif not self.store.has_heartbeat_token(watched.id):
                log.warning(
                    "heartbeat check %s has no token yet: run `statuspage heartbeat-token %s`",
                    watched.id,
                    watched.id,
                    extra={"check": watched.id},
                )

    def _went_dark_at(
        self, watched: Sequence[WatchedCheck], previous: Mapping[str, CheckRow], now: datetime
    ) -> datetime:
        """When the data of a component stopped, by the stale rule: the
        last check to go stale, or now if the data was fresh up to now.
        A check that had already lost its data (no-data results) no longer
        held the component up, whatever its last data was."""
        deadlines = []
        for w in watched:
            row = previous.get(w.id)
            if row is None or not row.state.fresh:
                continue
            last = row.state.last_data_at
            if last is not None:
                deadlines.append(min(now, last + w.policy.stale_window))
        return max(deadlines, default=now)

    # --- results ---------------------------------------------------------

    def record(self, check_id: str, result: CheckResult) -> CheckState:
        """Store one result and everything it changes, in one transaction."""
        watched = self.checks[check_id]
        with self._locks[watched.component_id], self.store.transaction() as conn:
            self.store.insert_result(conn, check_id, result)
            return self._evaluate(conn, watched, self.clock())

    def reevaluate(self) -> None:
        """Look again at every check whose state may change with time alone
        (it went stale); called on a short tick.

        The due checks of a component are all updated before the component
        is: when two went stale since the last tick, the component had data
        until the later deadline, whichever check is looked at first.
        """
        now = self.clock()
        for cid, watched in self._by_component.items():
            due = [w for w in watched if self._due(w, now)]
            if not due:
                continue
            with self._locks[cid], self.store.transaction() as conn:
                updates = [self._update_check(conn, w, now) for w in due]
                if any(moved for _, moved, _ in updates):
                    changed = [state for state, _, status_changed in updates if status_changed]
                    self._apply_component(conn, cid, now, fallback_at=now, changed=changed)

    def _due(self, watched: WatchedCheck, now: datetime) -> bool:
        state = self._states.get(watched.id)
        return (
            state is not None and state.next_change_at is not None and state.next_change_at <= now
        )

    def _evaluate(self, conn: Connection, watched: WatchedCheck, now: datetime) -> CheckState:
        state, moved, status_changed = self._update_check(conn, watched, now)
        if moved:
            changed = [state] if status_changed else []
            self._apply_component(conn, watched.component_id, now, fallback_at=now, changed=changed)
        return state

    def _update_check(
        self, conn: Connection, watched: WatchedCheck, now: datetime
    ) -> tuple[CheckState, bool, bool]:
        """Derive and store one check's state: (state, moved, status changed)."""
        previous = self._states[watched.id]
        recent = self.store.results_for_state(
            conn, watched.id, with_data=watched.policy.window, since=self.started_at
        )
        state = derive_check_state(previous, recent, watched.policy, now)
        if state == previous:
            return state, False, False
        self._states[watched.id] = state
        self.store.set_check_state(conn, watched.id, state)
        if state.status is not previous.status:
            log.info(
                "check %s is %s: %s",
                watched.id,
                state.status.value,
                state.reason,
                extra={"check": watched.id, "component": watched.component_id},
            )
        return state, True, state.status is not previous.status

    def _apply_component(
        self,
        conn: Connection,
        component_id: str,
        now: datetime,
        fallback_at: datetime,
        changed: list[CheckState],
    ) -> None:
        checks = [(w.name, self._states[w.id]) for w in self._by_component[component_id]]
        override = self.incidents.overrides(conn).get(component_id)
        maintenance = self.maintenance_titles(conn, now).get(component_id)
        transition = settle_component(
            self.store,
            conn,
            component_id,
            checks,
            now,
            self.tz,
            changed=changed,
            fallback_at=fallback_at,
            override=(override.status, override.reason) if override else None,
            maintenance=maintenance,
        )
        if transition is not None:
            log.info(
                "component %s is %s",
                component_id,
                transition.new.value,
                extra={"component": component_id},
            )
            change = ComponentChange(
                component_id=component_id,
                name=self._names[component_id],
                old=transition.old or ComponentStatus.UNKNOWN,
                new=transition.new,
                at=transition.at,
                overridden=override is not None,
                under_maintenance=maintenance is not None,
            )
            with self._incident_lock:
                views = self.incidents.open_views(conn)
                for action in on_component_change(views, change, self.config.incidents, now):
                    self._carry_out(conn, action, now)

    def maintenance_titles(self, conn: Connection, now: datetime) -> dict[str, str]:
        """Components under a maintenance window now, with its title."""
        return maintenance_titles(self.maintenance.windows(conn), now)

    def apply_maintenance(self) -> None:
        """Move maintenance windows along their times, and re-settle the
        components they cover (under maintenance, or back to the checks)."""
        now = self.clock()
        changes = self.maintenance.apply_transitions(now)
        if not changes:
            return
        with self.store.transaction() as conn:
            for change in changes:
                audit.record(
                    conn,
                    "automation",
                    "maintenance.status",
                    "maintenance",
                    change.maintenance_id,
                    {"status": change.old.value},
                    {"status": change.new.value},
                    now,
                )
        touched = {
            cid
            for change in changes
            if (m := self.maintenance.get(change.maintenance_id)) is not None
            for cid in m.components
            if cid in self._by_component
        }
        for cid in sorted(touched):
            with self._locks[cid], self.store.transaction() as conn:
                self._apply_component(conn, cid, now, fallback_at=now, changed=[])

    def tick_incidents(self) -> None:
        """Time-based steps of automatic incidents: monitoring, resolved."""
        now = self.clock()
        with self._incident_lock, self.store.transaction() as conn:
            # The stored status already includes overrides and maintenance.
            snapshots = {
                c.id: ComponentSnapshot(c.name, c.status, c.status_since)
                for c in self.store.components(conn)
            }
            for view in self.incidents.open_views(conn):
                for action in tick(view, snapshots, self.config.incidents, now):
                    self._carry_out(conn, action, now)

    def _carry_out(self, conn: Connection, action: Action, now: datetime) -> None:
        """Apply one action of the incident policy, with its audit row:
        automation's changes are logged like a person's."""
        incident_id = self.incidents.apply(conn, action, now)
        kind = type(action).__name__
        log.info("incident %s: %s", incident_id, kind, extra={"incident": incident_id})
        audit.record(
            conn,
            "automation",
            f"incident.{kind}",
            "incident",
            incident_id,
            None,
            asdict(action),
            now,
        )

    # --- rollups ---------------------------------------------------------

    def refresh_rollups(self, days: int = 2) -> None:
        """Bring the last `days` daily rollups of every component up to now.

        Two by default: the first refresh after midnight must also finish
        yesterday, whose rollup was last written up to a refresh ago.
        """
        now = self.clock()
        first = local_day(now, self.tz) - timedelta(days=days - 1)
        for cid in self._by_component:
            with self._locks[cid], self.store.transaction() as conn:
                write_rollups(self.store, conn, cid, first, now, self.tz)

    # --- introspection ---------------------------------------------------

    def state(self, check_id: str) -> CheckState:
        return self._states[check_id]

    def component_status(self, component_id: str) -> ComponentStatus:
        component = self.store.component(component_id)
        assert component is not None
        return component.status

    def beat(self) -> None:
        self.store.beat(SCHEDULER_HEARTBEAT, self.clock())
