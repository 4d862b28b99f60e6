"""Local wall-clock time: reading it around DST changes, and writing it for
people. Pure, no clock of its own.

One rule for local times a DST change disturbs, used wherever a stored
window is turned into instants (`resolve_local`):

* A local time that happens twice (the autumn fall-back hour) is the first
  of the two (`fold=0`, summer time): 02:30 on 2026-10-25 in Europe/Berlin is
  02:30 CEST (00:30 UTC).
* A local time that does not exist (the spring-forward gap, 02:00-03:00 in
  Europe/Berlin on 2026-03-29) moves to the first instant after the gap:
  02:00 and 02:30 both become 03:00 CEST (01:00 UTC).

The admin form is stricter with what a person types: it refuses a time in
the gap and says which hour is missing (`spring_gap`), and names the
ambiguous hour it resolved (`is_ambiguous`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def wall_clock(at: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock time of an instant."""
    # Through UTC: astimezone() to the tzinfo a datetime already carries
    # returns it unchanged, so a nonexistent local time would pass as real.
    return at.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def resolve_local(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local time, by the module's DST rule.

    Not zoneinfo's own reading of a gap time (fold=0 shifts it forward by
    the gap, 02:30 -> 03:30): that reading is not monotonic, so a 02:30-03:15
    window would end before it starts. Snapping to the gap's end keeps the
    order of local times.
    """
    first = local.replace(tzinfo=zone, fold=0)
    if wall_clock(first, zone) == local:
        return first.astimezone(UTC)
    return _change_in_gap(local, zone)


def _change_in_gap(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jumped over `local` (which is in a gap)."""
    # In a gap, fold=1 reads the time with the offset after the change and
    # lands before it; fold=0 lands after it. tzdata changes on a whole
    # second: bisect the seconds between the two.
    lo = int(local.replace(tzinfo=zone, fold=1).timestamp())
    hi = int(local.replace(tzinfo=zone, fold=0).timestamp()) + 1
    before = _offset(lo, zone)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(mid, zone) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def _offset(timestamp: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()


def spring_gap(local: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The naive local (first missing, first existing) times of the gap that
    swallows `local`, e.g. (02:00, 03:00); None when `local` exists."""
    if wall_clock(local.replace(tzinfo=zone, fold=0), zone) == local:
        return None
    change = _change_in_gap(local, zone)
    after = change.astimezone(zone)
    before = (change - timedelta(seconds=1)).astimezone(zone)
    jump = (after.utcoffset() or timedelta(0)) - (before.utcoffset() or timedelta(0))
    gap_end = after.replace(tzinfo=None)
    return gap_end - jump, gap_end


def is_ambiguous(local: datetime, zone: ZoneInfo) -> bool:
    """Whether a naive local time happens twice (the fall-back hour)."""
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset() and wall_clock(first, zone) == local


# English names, not strftime's %a/%b: those follow the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_text(local: datetime) -> str:
    """`Sat, Oct 24` for a (local) datetime."""
    return f"{_DAYS[local.weekday()]}, {_MONTHS[local.month - 1]} {local.day}"


def zone_abbreviation(local: datetime) -> str:
    """`CEST`, `EST`, `UTC`; `UTC+04` where tzdata has no letters (`+04`)."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"UTC{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")


def local_time_text(at: datetime, zone: str | ZoneInfo) -> str:
    """An instant as people in `zone` read it: `Sat, Oct 24, 02:00 CEST`."""
    local = at.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    return f"{date_text(local)}, {local:%H:%M} {zone_abbreviation(local)}"


def countdown(now: datetime, starts_at: datetime) -> str:
    """Time left until a start, in words: `in 2 days 3 hours`,
    `in 45 minutes`, `in less than a minute`, `now` (also once started).
    Each unit is rounded down, and only the two largest are shown."""
    # In UTC: two datetimes in the same zone subtract as wall-clock times.
    left = int((starts_at.astimezone(UTC) - now.astimezone(UTC)).total_seconds())
    if left <= 0:
        return "now"
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        parts = [(days, "day"), (hours, "hour")]
    elif hours:
        parts = [(hours, "hour"), (minutes, "minute")]
    elif minutes:
        parts = [(minutes, "minute")]
    else:
        return "in less than a minute"
    return "in " + " ".join(_plural(n, unit) for n, unit in parts if n)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
