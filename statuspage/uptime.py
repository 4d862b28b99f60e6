"""Rollups and uptime. Pure functions; the store keeps their output.

A component's history is its list of transitions. A daily rollup counts the
seconds the component spent in each status during one calendar day of the
page's time zone. Uptime is computed from rollups only, so rendering 90 days
never scans raw results.

Uptime formula (also in the README):

    uptime = 1 - (major + 0.3 * partial) / (total - unknown)

Major outage counts as downtime, partial outage as 30 % downtime; degraded
performance and maintenance count as up. Time without data (`unknown`) is
left out of the denominator and reported apart: silence is neither up nor
down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.domain import ComponentStatus

PARTIAL_OUTAGE_WEIGHT = 0.3
BAR_DAYS = 90


@dataclass(frozen=True)
class Transition:
    at: datetime
    old: ComponentStatus | None
    new: ComponentStatus
    reason: str = ""


@dataclass
class DayRollup:
    """Seconds per status in one day; only statuses that occurred appear."""

    day: date
    seconds: dict[ComponentStatus, float] = field(default_factory=dict)

    def add(self, status: ComponentStatus, seconds: float) -> None:
        if seconds > 0:
            self.seconds[status] = self.seconds.get(status, 0.0) + seconds

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def no_data(self) -> float:
        return self.seconds.get(ComponentStatus.UNKNOWN, 0.0)

    @property
    def observed(self) -> float:
        return self.total - self.no_data

    @property
    def downtime(self) -> float:
        return self.seconds.get(ComponentStatus.MAJOR_OUTAGE, 0.0) + PARTIAL_OUTAGE_WEIGHT * (
            self.seconds.get(ComponentStatus.PARTIAL_OUTAGE, 0.0)
        )

    @property
    def uptime(self) -> float | None:
        """Fraction up, or None for a day with no data at all."""
        return uptime_fraction(self.downtime, self.observed)

    @property
    def worst(self) -> ComponentStatus | None:
        known = [s for s in self.seconds if s is not ComponentStatus.UNKNOWN]
        if not known:
            return None
        return max(known, key=lambda s: s.severity)


def uptime_fraction(downtime: float, observed: float) -> float | None:
    if observed <= 0:
        return None
    return max(0.0, 1.0 - downtime / observed)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local calendar day starts and ends (23 or 25 hours on
    a DST change).

    Both carry `tz`, and Python subtracts two datetimes with the same tzinfo
    as wall-clock times (24 h on a DST day): convert to UTC before taking
    their difference.
    """
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start, end


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def rollup_days(
    transitions: Sequence[Transition], first_day: date, last_day: date, now: datetime, tz: ZoneInfo
) -> list[DayRollup]:
    """Seconds per status for each day from first_day to last_day.

    `transitions` is sorted by time and must include the last transition
    before first_day begins (it gives the status at the start). Time before
    the first transition, and after `now`, is not counted at all.
    """
    days = []
    day = first_day
    while day <= last_day:
        # In UTC: the arithmetic below must count elapsed seconds, and two
        # datetimes in the same zone subtract as wall-clock times.
        start, end = (bound.astimezone(UTC) for bound in day_bounds(day, tz))
        days.append(_rollup_one(transitions, day, start, min(end, now)))
        day += timedelta(days=1)
    return days


def _rollup_one(
    transitions: Sequence[Transition], day: date, start: datetime, end: datetime
) -> DayRollup:
    rollup = DayRollup(day)
    if end <= start:
        return rollup
    status: ComponentStatus | None = None
    cursor = start
    for t in transitions:
        if t.at <= start:
            status = t.new
            continue
        if t.at >= end:
            break
        if status is not None:
            rollup.add(status, _elapsed(cursor, t.at))
        status, cursor = t.new, t.at
    if status is not None:
        rollup.add(status, _elapsed(cursor, end))
    return rollup


def _elapsed(start: datetime, end: datetime) -> float:
    """Seconds between two instants, whatever zones they carry."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def uptime_over(rollups: Iterable[DayRollup]) -> tuple[float | None, float]:
    """Uptime over several days, and the seconds without data among them."""
    downtime = observed = no_data = 0.0
    for r in rollups:
        downtime += r.downtime
        observed += r.observed
        no_data += r.no_data
    return uptime_fraction(downtime, observed), no_data


@dataclass(frozen=True)
class DayBar:
    """One cell of the 90-day bar."""

    day: date
    worst: ComponentStatus | None  # None: no data that day
    uptime: float | None
    no_data_seconds: float


def day_bars(rollups: Sequence[DayRollup], today: date, days: int = BAR_DAYS) -> list[DayBar]:
    """One bar per day, oldest first, ending today; days without a rollup
    are no-data days, not 100 % and not 0 %."""
    by_day = {r.day: r for r in rollups}
    bars = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        r = by_day.get(day)
        if r is None or r.total == 0:
            bars.append(DayBar(day, None, None, 0.0))
        else:
            bars.append(DayBar(day, r.worst, r.uptime, r.no_data))
    return bars


@dataclass(frozen=True)
class UptimeBar:
    """A component's bar as the store keeps it beside its rollups: one
    short text cell per day (oldest first, ending `last_day`) and the uptime
    over those days, so that a page reads one row per component however
    long the history, and no date or number is parsed per day on a render.

    A cell is `""` for a day without data, else `"<worst> <uptime> <no data
    seconds>"` with the numbers as `repr` writes them (exact floats).
    """

    last_day: date
    cells: tuple[str, ...]
    uptime: float | None
    no_data_seconds: float

    def days(self) -> list[DayBar]:
        """The cells read back, for code that wants the values."""
        first = self.last_day - timedelta(days=len(self.cells) - 1)
        return [read_cell(first + timedelta(days=n), cell) for n, cell in enumerate(self.cells)]


def uptime_bar(rollups: Sequence[DayRollup], last_day: date, days: int = BAR_DAYS) -> UptimeBar:
    """The bar of the `days` days ending `last_day`, from the rollups of
    those days (sorted by day; others are ignored)."""
    first = last_day - timedelta(days=days - 1)
    uptime, no_data = uptime_over(r for r in rollups if first <= r.day <= last_day)
    cells = tuple(cell_text(bar) for bar in day_bars(rollups, last_day, days))
    return UptimeBar(last_day, cells, uptime, no_data)


def cell_text(bar: DayBar) -> str:
    if bar.worst is None and bar.uptime is None and not bar.no_data_seconds:
        return ""
    worst = bar.worst.value if bar.worst is not None else "-"
    return f"{worst} {bar.uptime!r} {bar.no_data_seconds!r}"


def read_cell(day: date, cell: str) -> DayBar:
    if not cell:
        return DayBar(day, None, None, 0.0)
    worst, uptime, no_data = cell.split(" ")
    return DayBar(
        day,
        None if worst == "-" else ComponentStatus(worst),
        None if uptime == "None" else float(uptime),
        float(no_data),
    )


def rollup_window(transitions: Sequence[Transition], start: datetime, end: datetime) -> DayRollup:
    """Seconds per status between two instants (a window that is not a
    calendar day, such as the last 24 hours), counted like a day's rollup.

    `transitions` is sorted by time and includes the last one before
    `start`; the result's `day` is the UTC date `start` falls on.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return _rollup_one(transitions, start.date(), start, end)
