"""Scheduled maintenance: the rules. Pure, no I/O, no clock of its own.

A maintenance is a window of time in which some components are worked on.
It is stored in UTC with the time zone it was entered in, because a
recurring window keeps its *local* wall-clock time: a weekly 02:00-04:00
Europe/Berlin window is 01:00-03:00 UTC in winter and 00:00-02:00 UTC in
summer.

Local times that a DST change disturbs follow `statuspage.localtime`: an
ambiguous time (the autumn fall-back hour) is the first of the two, so a
02:00-04:00 Berlin window runs three real hours on 2026-10-25; a time in the
spring-forward gap moves to the gap's end, so the same window runs
03:00-04:00 CEST on 2026-03-29, and an occurrence wholly inside a gap does
not happen. The admin form (`statuspage.maintenance_form`) refuses a gap
time instead.

Status at `now`: `scheduled` -> `in_progress` at a start (inclusive) ->
`verifying` at the end for `verify_after`, when the window asks for it ->
`completed`. A recurring window is `scheduled` again between occurrences
until its last one (the last start at or before `recurrence_until`) is over.
A cancelled window is `completed` and never in progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.domain import MaintenanceStatus
from statuspage.localtime import countdown, local_time_text, resolve_local, wall_clock

__all__ = [
    "RECURRENCE_STEPS",
    "Occurrence",
    "Window",
    "automatic_update_body",
    "components_under_maintenance",
    "countdown",
    "local_time_text",
    "next_change_at",
    "next_occurrence",
    "occurrences",
    "status_at",
    "status_since",
]

# (starts, ends), aware UTC, ends exclusive.
Occurrence = tuple[datetime, datetime]

# Steps in local calendar time: added to naive wall-clock times, so an
# occurrence keeps its local time across a DST change.
RECURRENCE_STEPS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}

SCHEDULED = MaintenanceStatus.SCHEDULED
IN_PROGRESS = MaintenanceStatus.IN_PROGRESS
VERIFYING = MaintenanceStatus.VERIFYING
COMPLETED = MaintenanceStatus.COMPLETED
# Statuses during which the covered components show `under_maintenance`:
# verifying too, since the work is being checked and may still flap.
UNDER_MAINTENANCE = frozenset({IN_PROGRESS, VERIFYING})


@dataclass(frozen=True)
class Window:
    """What the rules need to know of one maintenance. Times are aware and
    normalized to UTC; `timezone` is the IANA zone it was entered in."""

    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    recurrence: str | None = None  # None, "daily" or "weekly"
    recurrence_until: datetime | None = None
    cancelled: bool = False
    components: frozenset[str] = frozenset()
    # How long to stay `verifying` after each end; None: completed at once.
    verify_after: timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("starts_at", "ends_at", "recurrence_until"):
            value = getattr(self, name)
            if value is None:
                continue
            if value.utcoffset() is None:
                raise ValueError(f"{name} must be an aware datetime")
            object.__setattr__(self, name, value.astimezone(UTC))
        object.__setattr__(self, "components", frozenset(self.components))
        zone = ZoneInfo(self.timezone)  # raises for an unknown zone
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.recurrence is not None and self.recurrence not in RECURRENCE_STEPS:
            raise ValueError(f"recurrence must be one of {sorted(RECURRENCE_STEPS)} or None")
        step = self.step
        if (
            step is not None
            and wall_clock(self.ends_at, zone) - wall_clock(self.starts_at, zone) >= step
        ):
            # Occurrences would overlap one another.
            raise ValueError(f"a {self.recurrence} window must be shorter than its period")
        if step is not None and self.recurrence_until and self.recurrence_until < self.starts_at:
            raise ValueError("recurrence_until must not be before starts_at")
        if self.verify_after is not None and self.verify_after <= timedelta(0):
            raise ValueError("verify_after must be positive")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def step(self) -> timedelta | None:
        return RECURRENCE_STEPS[self.recurrence] if self.recurrence else None


def _occurrence(window: Window, n: int) -> Occurrence | None:
    """The n-th occurrence (0 is the one stored), or None when it falls
    wholly inside a spring-forward gap and so does not happen."""
    step = window.step
    if n == 0 or step is None:
        return window.starts_at, window.ends_at
    zone = window.zone
    starts = resolve_local(wall_clock(window.starts_at, zone) + step * n, zone)
    ends = resolve_local(wall_clock(window.ends_at, zone) + step * n, zone)
    return (starts, ends) if starts < ends else None


def _ending_after(window: Window, after: datetime) -> Iterator[Occurrence]:
    """Occurrences that end after `after`, in order (unbounded when the
    window repeats forever: the caller stops)."""
    step = window.step
    if step is None:
        if window.ends_at > after:
            yield window.starts_at, window.ends_at
        return
    # Jump close to `after` rather than walk from the first occurrence; two
    # steps of slack cover DST shifts and a skipped occurrence.
    n = max(0, (after - window.starts_at) // step - 2)
    until = window.recurrence_until
    while True:
        occurrence = _occurrence(window, n)
        n += 1
        if occurrence is None:
            continue
        if until is not None and occurrence[0] > until:
            return
        if occurrence[1] > after:
            yield occurrence


def occurrences(window: Window, start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences overlapping [start, end), in order. The schedule only:
    a cancelled window still has them (`status_at` says it is cancelled)."""
    found = []
    for occurrence in _ending_after(window, start):
        if occurrence[0] >= end:
            break
        found.append(occurrence)
    return found


def next_occurrence(window: Window, now: datetime) -> Occurrence | None:
    """The occurrence in progress at `now`, else the next one to start."""
    return next(_ending_after(window, now), None)


def _last_ended(window: Window, now: datetime) -> Occurrence | None:
    """The latest occurrence that ended at or before `now`."""
    step = window.step
    if step is None:
        return (window.starts_at, window.ends_at) if window.ends_at <= now else None
    until = window.recurrence_until
    horizon = now if until is None else min(now, until)
    last = None
    for occurrence in _ending_after(window, horizon - 3 * step):
        if occurrence[1] > now:
            break
        last = occurrence
    return last


def status_at(window: Window, now: datetime) -> MaintenanceStatus:
    """The window's status at `now` (see the module doc)."""
    if window.cancelled:
        return COMPLETED
    upcoming = next_occurrence(window, now)
    if upcoming is not None and upcoming[0] <= now:
        return IN_PROGRESS
    last = _last_ended(window, now)
    if last is not None and window.verify_after and now < last[1] + window.verify_after:
        return VERIFYING
    return SCHEDULED if upcoming is not None else COMPLETED


def status_since(window: Window, now: datetime) -> datetime | None:
    """When the status at `now` began by the rules: a late scheduler still
    dates each change when it happened. None for a window that has been
    scheduled from the start, or cancelled (the store knows when)."""
    status = status_at(window, now)
    if window.cancelled:
        return None
    if status is IN_PROGRESS:
        upcoming = next_occurrence(window, now)
        return upcoming[0] if upcoming else None
    last = _last_ended(window, now)
    if last is None:
        return None
    if status is VERIFYING or window.verify_after is None:
        return last[1]
    return last[1] + window.verify_after


def next_change_at(window: Window, now: datetime) -> datetime | None:
    """When the status will next change on its own (for the scheduler), or
    None when it never will (completed, cancelled)."""
    if window.cancelled:
        return None
    current = status_at(window, now)
    verify = window.verify_after or timedelta(0)
    candidates: set[datetime] = set()
    last = _last_ended(window, now)
    if last is not None:
        candidates.add(last[1] + verify)
    # Three occurrences suffice: the status changes at the next start at
    # the latest, even if one occurrence runs into the next.
    for i, (starts, ends) in enumerate(_ending_after(window, now)):
        candidates.update((starts, ends, ends + verify))
        if i == 2:
            break
    for at in sorted(c for c in candidates if c > now):
        if status_at(window, at) is not current:
            return at
    return None


def components_under_maintenance(windows: Iterable[Window], now: datetime) -> set[str]:
    """Components covered by a window that is in progress or verifying."""
    covered: set[str] = set()
    for window in windows:
        if window.components and status_at(window, now) in UNDER_MAINTENANCE:
            covered |= window.components
    return covered


def automatic_update_body(window: Window, new: MaintenanceStatus, now: datetime) -> str:
    """What the timeline says when the window moves to `new` on its own."""
    if new is IN_PROGRESS:
        return "The scheduled maintenance has begun."
    if new is VERIFYING:
        return "The maintenance work is done; we are verifying that everything works."
    if new is SCHEDULED:
        upcoming = next_occurrence(window, now)
        when = local_time_text(upcoming[0], window.zone) if upcoming else "later"
        return f"This occurrence of the maintenance is complete. The next one begins {when}."
    return "The scheduled maintenance is complete."


def maintenance_titles(windows: Iterable[Window], now: datetime) -> dict[str, str]:
    """Component id -> the title of the window covering it now (in progress
    or verifying); the first window wins when two overlap."""
    covering = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)
    titles: dict[str, str] = {}
    for window in windows:
        if status_at(window, now) in covering:
            for component_id in sorted(window.components):
                titles.setdefault(component_id, window.title)
    return titles
