"""Local wall-clock time: the DST rule (gap -> its end, repeated hour -> the
first), countdowns and the texts people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage.localtime import (
    countdown,
    is_ambiguous,
    local_time_text,
    resolve_local,
    spring_gap,
    wall_clock,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # a 30-minute DST change


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        (datetime(2026, 3, 29, 1, 59, 59), BERLIN, utc(2026, 3, 29, 0, 59, 59)),
        # The gap: 02:00-03:00 does not exist; all of it becomes 03:00 CEST.
        (datetime(2026, 3, 29, 2, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 2, 30), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 2, 59, 59), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 3, 0), BERLIN, utc(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 3, 0, 1), BERLIN, utc(2026, 3, 29, 1, 0, 1)),
        # The repeated hour: the first, summer time.
        (datetime(2026, 10, 25, 1, 59, 59), BERLIN, utc(2026, 10, 24, 23, 59, 59)),
        (datetime(2026, 10, 25, 2, 0), BERLIN, utc(2026, 10, 25, 0, 0)),
        (datetime(2026, 10, 25, 2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 10, 25, 3, 0), BERLIN, utc(2026, 10, 25, 2, 0)),
        (datetime(2026, 3, 8, 2, 30), NEW_YORK, utc(2026, 3, 8, 7, 0)),
        (datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),
        (datetime(2026, 10, 4, 2, 10), LORD_HOWE, utc(2026, 10, 3, 15, 30)),
    ],
)
def test_resolve_local(local: datetime, zone: ZoneInfo, expected: datetime) -> None:
    resolved = resolve_local(local, zone)
    assert resolved == expected
    assert resolved.tzinfo is UTC


def test_resolve_local_keeps_the_order_of_local_times() -> None:
    # zoneinfo alone would read 02:30 as 03:30 CEST, after 03:15.
    assert resolve_local(datetime(2026, 3, 29, 2, 30), BERLIN) < resolve_local(
        datetime(2026, 3, 29, 3, 15), BERLIN
    )


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        (
            datetime(2026, 3, 29, 2, 30),
            BERLIN,
            (datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 3, 0)),
        ),
        (
            datetime(2026, 3, 29, 2, 0),
            BERLIN,
            (datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 3, 0)),
        ),
        (datetime(2026, 3, 29, 3, 0), BERLIN, None),
        (datetime(2026, 3, 29, 1, 59), BERLIN, None),
        (datetime(2026, 10, 25, 2, 30), BERLIN, None),
        (
            datetime(2026, 3, 8, 2, 15),
            NEW_YORK,
            (datetime(2026, 3, 8, 2, 0), datetime(2026, 3, 8, 3, 0)),
        ),
        (
            datetime(2026, 10, 4, 2, 10),
            LORD_HOWE,
            (datetime(2026, 10, 4, 2, 0), datetime(2026, 10, 4, 2, 30)),
        ),
        (datetime(2026, 3, 29, 2, 30), ZoneInfo("UTC"), None),
    ],
)
def test_spring_gap(
    local: datetime, zone: ZoneInfo, expected: tuple[datetime, datetime] | None
) -> None:
    assert spring_gap(local, zone) == expected


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        (datetime(2026, 10, 25, 1, 59, 59), BERLIN, False),
        (datetime(2026, 10, 25, 2, 0), BERLIN, True),
        (datetime(2026, 10, 25, 2, 59, 59), BERLIN, True),
        (datetime(2026, 10, 25, 3, 0), BERLIN, False),
        (datetime(2026, 3, 29, 2, 30), BERLIN, False),  # missing, not repeated
        (datetime(2026, 11, 1, 1, 0), NEW_YORK, True),
        (datetime(2026, 11, 1, 2, 0), NEW_YORK, False),
    ],
)
def test_is_ambiguous(local: datetime, zone: ZoneInfo, expected: bool) -> None:
    assert is_ambiguous(local, zone) is expected


def test_wall_clock() -> None:
    assert wall_clock(utc(2026, 10, 25, 0, 30), BERLIN) == datetime(2026, 10, 25, 2, 30)
    assert wall_clock(utc(2026, 10, 25, 1, 30), BERLIN) == datetime(2026, 10, 25, 2, 30)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=-1), "now"),
        (timedelta(seconds=-1), "now"),
        (timedelta(0), "now"),
        (timedelta(seconds=1), "in less than a minute"),
        (timedelta(seconds=59), "in less than a minute"),
        (timedelta(seconds=60), "in 1 minute"),
        (timedelta(minutes=1, seconds=59), "in 1 minute"),
        (timedelta(minutes=45), "in 45 minutes"),
        (timedelta(minutes=45, seconds=59), "in 45 minutes"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(hours=1, minutes=1), "in 1 hour 1 minute"),
        (timedelta(hours=2, minutes=30, seconds=59), "in 2 hours 30 minutes"),
        (timedelta(hours=23, minutes=59, seconds=59), "in 23 hours 59 minutes"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=1, minutes=5), "in 1 day"),
        (timedelta(days=1, hours=1), "in 1 day 1 hour"),
        (timedelta(days=2, hours=3), "in 2 days 3 hours"),
        (timedelta(days=2, hours=3, minutes=59), "in 2 days 3 hours"),
        (timedelta(days=30), "in 30 days"),
    ],
)
def test_countdown(left: timedelta, expected: str) -> None:
    now = utc(2026, 9, 15, 5, 0)
    assert countdown(now, now + left) == expected


def test_countdown_counts_real_time_across_a_dst_change() -> None:
    # Noon to noon over the spring-forward night is 23 hours, not a day.
    now = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    assert countdown(now, datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)) == "in 23 hours"
    assert countdown(utc(2026, 3, 28, 11, 0), datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)) == (
        "in 23 hours"
    )


@pytest.mark.parametrize(
    ("at", "zone", "expected"),
    [
        (utc(2026, 10, 24, 0, 0), "Europe/Berlin", "Sat, Oct 24, 02:00 CEST"),
        (utc(2026, 10, 31, 1, 0), "Europe/Berlin", "Sat, Oct 31, 02:00 CET"),
        (utc(2026, 10, 25, 0, 30), "Europe/Berlin", "Sun, Oct 25, 02:30 CEST"),
        (utc(2026, 10, 25, 1, 30), "Europe/Berlin", "Sun, Oct 25, 02:30 CET"),
        (utc(2026, 4, 5, 0, 0), "Europe/Berlin", "Sun, Apr 5, 02:00 CEST"),
        (utc(2026, 3, 8, 7, 0), "America/New_York", "Sun, Mar 8, 03:00 EDT"),
        (utc(2026, 11, 1, 6, 30), "America/New_York", "Sun, Nov 1, 01:30 EST"),
        (utc(2026, 1, 1, 0, 0), "UTC", "Thu, Jan 1, 00:00 UTC"),
        (utc(2026, 1, 1, 0, 0), "Asia/Dubai", "Thu, Jan 1, 04:00 UTC+04"),
        (utc(2026, 1, 1, 0, 0), "Asia/Kathmandu", "Thu, Jan 1, 05:45 UTC+05:45"),
        (utc(2026, 1, 1, 0, 0), "America/Sao_Paulo", "Wed, Dec 31, 21:00 UTC-03"),
        (utc(2026, 12, 1, 12, 0), ZoneInfo("Asia/Tokyo"), "Tue, Dec 1, 21:00 JST"),
    ],
)
def test_local_time_text(at: datetime, zone: str | ZoneInfo, expected: str) -> None:
    assert local_time_text(at, zone) == expected
