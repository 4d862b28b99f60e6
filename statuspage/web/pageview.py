"""What the public pages show, read from the store, ready to render.

The web process never trusts that the scheduler is alive: a check whose
deadline passed without a new result is shown as stale here, even if no
scheduler is left to mark it so. Never green while blind.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from statuspage.config import Config
from statuspage.domain import ComponentStatus, Indicator, page_description, page_indicator
from statuspage.localtime import countdown, local_time_text
from statuspage.maintenance import maintenance_titles, next_occurrence
from statuspage.monitor import RESTART_REASON, SCHEDULER_HEARTBEAT
from statuspage.state import (
    ComponentState,
    as_of,
    derive_component_state,
    effective_component_state,
)
from statuspage.store import CheckRow, ComponentRow, Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import Maintenance, MaintenanceRepository
from statuspage.uptime import BAR_DAYS, DayBar, UptimeBar, local_day, uptime_bar
from statuspage.web.incidentview import IncidentCard, active_and_recent

# The scheduler beats every 5 s; this much silence means it stalled.
SCHEDULER_STALL_AFTER = timedelta(seconds=30)


def is_blind(check: CheckRow) -> bool:
    """Lost its data (as opposed to: not run yet since a start)."""
    return check.state.status is ComponentStatus.UNKNOWN and check.state.reason != RESTART_REASON


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    description: str
    group: str | None
    status: ComponentStatus
    since: datetime
    reason: str
    checks: list[CheckRow]
    bar: UptimeBar  # the last BAR_DAYS days, as the template draws them
    uptime: float | None
    no_data_seconds: float
    # The titles of the incidents open on each day of the bar (local days).
    bar_incidents: dict[date, list[str]] = field(default_factory=dict)

    @property
    def bars(self) -> list[DayBar]:
        return self.bar.days()

    @property
    def last_checked_at(self) -> datetime | None:
        times = [c.last_result_at for c in self.checks if c.last_result_at]
        return max(times, default=None)


@dataclass(frozen=True)
class BlindSource:
    component: str
    check: str
    since: datetime
    reason: str


@dataclass(frozen=True)
class PageView:
    title: str
    description: str
    indicator: Indicator
    status_line: str
    components: list[ComponentView]
    blind: list[BlindSource]
    scheduler_stalled_since: datetime | None
    generated_at: datetime
    active_incidents: list[IncidentCard] = field(default_factory=list)
    recent_incidents: list[IncidentCard] = field(default_factory=list)
    maintenance_now: list[MaintenanceCard] = field(default_factory=list)
    maintenance_upcoming: list[MaintenanceCard] = field(default_factory=list)

    @property
    def groups(self) -> list[tuple[str | None, list[ComponentView]]]:
        """Components in config order, consecutive members of a group together."""
        result: list[tuple[str | None, list[ComponentView]]] = []
        for c in self.components:
            if c.group is not None and result and result[-1][0] == c.group:
                result[-1][1].append(c)
            elif c.group is not None and any(g == c.group for g, _ in result):
                next(items for g, items in result if g == c.group).append(c)
            else:
                result.append((c.group, [c]))
        return result


def effective_check(row: CheckRow, now: datetime) -> CheckRow:
    """A check as it stands now: stale when its deadline passed unseen."""
    return replace(row, state=as_of(row.state, now))


@dataclass(frozen=True)
class MaintenanceCard:
    id: str
    title: str
    body: str
    components: list[str]
    starts_at: datetime
    ends_at: datetime
    local_window: str  # "Sat, Oct 24, 02:00 CEST until 04:00 CEST"
    countdown: str  # "in 2 days 3 hours"


def maintenance_card(m: Maintenance, names: dict[str, str], now: datetime) -> MaintenanceCard:
    window = m.window()
    starts_at, ends_at = next_occurrence(window, now) or (m.starts_at, m.ends_at)
    local_start = local_time_text(starts_at, m.timezone)
    local_end = local_time_text(ends_at, m.timezone)
    start_day, _ = local_start.rsplit(", ", 1)
    end_day, end_time = local_end.rsplit(", ", 1)
    if start_day == end_day:
        local_end = end_time  # the same day: only the time
    return MaintenanceCard(
        id=m.id,
        title=m.title,
        body=m.body,
        components=[names.get(cid, cid) for cid in m.components],
        starts_at=starts_at,
        ends_at=ends_at,
        local_window=f"{local_start} until {local_end}",
        countdown=countdown(now, starts_at),
    )


def blind_sources(store: Store, now: datetime) -> list[BlindSource]:
    """Every check without fresh data (stale or lost), oldest first, for
    /readyz and the staff view; cheaper than building the whole page."""
    names = {c.id: c.name for c in store.components()}
    found = [
        BlindSource(
            names.get(check.component_id, check.component_id),
            check.name,
            check.state.since,
            check.state.reason,
        )
        for check in (effective_check(row, now) for row in store.checks())
        if check.component_id in names and is_blind(check)
    ]
    return sorted(found, key=lambda b: b.since)


def uptime_bars(store: Store, component_ids: list[str], today: date) -> dict[str, UptimeBar]:
    """The bars ending today: the stored ones (one row per component), and
    from the rollups those not stored or not yet moved on to today (a
    database from before the bars, the first minutes after midnight)."""
    bars = store.uptime_bars(component_ids)
    behind = [
        cid
        for cid in component_ids
        if (bar := bars.get(cid)) is None or (bar.last_day, len(bar.cells)) != (today, BAR_DAYS)
    ]
    if behind:
        rollups = store.rollups(behind, today - timedelta(days=BAR_DAYS - 1), today)
        bars.update({cid: uptime_bar(rollups[cid], today) for cid in behind})
    return bars


def incidents_by_day(
    store: Store, tz: ZoneInfo, now: datetime, days: int = BAR_DAYS
) -> dict[str, dict[date, list[str]]]:
    """For each component, the titles of the published incidents open on
    each local day of the bar ending today: a day's tooltip names them."""
    today = local_day(now, tz)
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tz)
    found: dict[str, dict[date, list[str]]] = {}
    for incident in IncidentRepository(store).overlapping(start, now):
        opened = max(local_day(incident.created_at, tz), first)
        closed = min(local_day(incident.resolved_at, tz), today) if incident.resolved_at else today
        for cid in incident.components:
            by_day = found.setdefault(cid, {})
            for n in range((closed - opened).days + 1):
                by_day.setdefault(opened + timedelta(days=n), []).append(incident.name)
    return found


def build_page(config: Config, store: Store, now: datetime) -> PageView:
    rows = store.components()
    checks_by_component: dict[str, list[CheckRow]] = {r.id: [] for r in rows}
    for check in store.checks():
        if check.component_id in checks_by_component:
            checks_by_component[check.component_id].append(effective_check(check, now))
    today = local_day(now, config.site.tz)
    bars = uptime_bars(store, [r.id for r in rows], today)
    # A status a person set, or a window covering the component now, wins
    # over the checks (REL-08), also before the scheduler has caught up.
    overrides = IncidentRepository(store).overrides()
    titles = maintenance_titles(MaintenanceRepository(store).windows(), now)
    held = {
        cid: effective_component_state(
            ComponentState(ComponentStatus.UNKNOWN, ""),
            (o.status, o.reason) if (o := overrides.get(cid)) else None,
            titles.get(cid),
        )
        for cid in set(overrides) | set(titles)
    }
    on_days = incidents_by_day(store, config.site.tz, now)
    components = [
        _component_view(
            row, checks_by_component[row.id], bars[row.id], held.get(row.id), on_days.get(row.id)
        )
        for row in rows
    ]
    blind = [
        BlindSource(c.name, check.name, check.state.since, check.state.reason)
        for c in components
        for check in c.checks
        if is_blind(check)
    ]
    # Oldest first: the banner's first line is where the blindness began.
    blind.sort(key=lambda b: b.since)
    statuses = [c.status for c in components]
    heartbeat = store.heartbeat(SCHEDULER_HEARTBEAT)
    stalled = (
        heartbeat if heartbeat is not None and now - heartbeat > SCHEDULER_STALL_AFTER else None
    )
    names = {c.id: c.name for c in components}
    active, recent = active_and_recent(store, names, now)
    maintenance = MaintenanceRepository(store)
    return PageView(
        maintenance_now=[maintenance_card(m, names, now) for m in maintenance.active(now)],
        maintenance_upcoming=[maintenance_card(m, names, now) for m in maintenance.upcoming(now)],
        active_incidents=active,
        recent_incidents=recent,
        title=config.site.title,
        description=config.site.description,
        indicator=page_indicator(statuses),
        status_line=page_description(statuses),
        components=components,
        blind=blind,
        scheduler_stalled_since=stalled,
        generated_at=now,
    )


def _component_view(
    row: ComponentRow,
    checks: list[CheckRow],
    bar: UptimeBar,
    held: ComponentState | None = None,
    bar_incidents: dict[date, list[str]] | None = None,
) -> ComponentView:
    status, since, reason = row.status, row.status_since, row.status_reason
    if held is not None:
        if held.status is not status:
            status, reason = held.status, held.reason
    elif checks:
        # Recompute from the effective check states: the stored status may
        # predate a deadline that passed while no scheduler was running.
        derived = derive_component_state([(c.name, c.state) for c in checks])
        if derived.status is not status:
            status, reason = derived.status, derived.reason
            since = max((c.state.since for c in checks), default=since)
    return ComponentView(
        id=row.id,
        name=row.name,
        description=row.description,
        group=row.group_name,
        status=status,
        since=since,
        reason=reason,
        checks=checks,
        bar=bar,
        uptime=bar.uptime,
        no_data_seconds=bar.no_data_seconds,
        bar_incidents=bar_incidents or {},
    )
