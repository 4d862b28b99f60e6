"""Maintenance rules: every transition at its edges (one second before, at,
after), recurrence across the DST changes of Europe/Berlin (2026-03-29,
2026-10-25) and America/New_York (2026-03-08, 2026-11-01), cancellation,
`next_change_at` against a minute-by-minute oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from statuspage.domain import MaintenanceStatus
from statuspage.maintenance import (
    Window,
    automatic_update_body,
    components_under_maintenance,
    next_change_at,
    next_occurrence,
    occurrences,
    status_at,
    status_since,
)

SCHEDULED = MaintenanceStatus.SCHEDULED
IN_PROGRESS = MaintenanceStatus.IN_PROGRESS
VERIFYING = MaintenanceStatus.VERIFYING
COMPLETED = MaintenanceStatus.COMPLETED
SECOND = timedelta(seconds=1)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"

START = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)
END = datetime(2026, 9, 20, 3, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def window(starts: datetime = START, ends: datetime = END, **kwargs: object) -> Window:
    return Window("m1", "Database upgrade", starts, ends, **kwargs)  # type: ignore[arg-type]


def local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


# --- the value object ----------------------------------------------------


def test_window_normalizes_to_utc() -> None:
    berlin = ZoneInfo(BERLIN)
    w = window(
        datetime(2026, 9, 20, 3, 0, tzinfo=berlin),
        datetime(2026, 9, 20, 5, 0, tzinfo=berlin),
        timezone=BERLIN,
        components={"api"},
    )
    assert w.starts_at == START and w.starts_at.tzinfo is UTC
    assert w.ends_at == END
    assert w.components == frozenset({"api"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts": datetime(2026, 9, 20, 1, 0)}, "starts_at must be an aware datetime"),
        ({"ends": START}, "ends_at must be after starts_at"),
        ({"ends": START - SECOND}, "ends_at must be after starts_at"),
        ({"recurrence": "monthly"}, "recurrence must be one of ['daily', 'weekly'] or None"),
        (
            {"ends": START + timedelta(days=1), "recurrence": "daily"},
            "a daily window must be shorter than its period",
        ),
        (
            {"ends": START + timedelta(days=7), "recurrence": "weekly"},
            "a weekly window must be shorter than its period",
        ),
        (
            {"recurrence": "daily", "recurrence_until": START - SECOND},
            "recurrence_until must not be before starts_at",
        ),
        ({"verify_after": timedelta(0)}, "verify_after must be positive"),
    ],
)
def test_window_refuses_impossible_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        window(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_window_refuses_an_unknown_zone() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        window(timezone="Mars/Olympus_Mons")


def test_a_daily_window_one_second_shorter_than_a_day_is_fine() -> None:
    w = window(START, START + timedelta(days=1) - SECOND, recurrence="daily")
    assert occurrences(w, START, START + timedelta(days=2)) == [
        (START, START + timedelta(days=1) - SECOND),
        (START + timedelta(days=1), START + timedelta(days=2) - SECOND),
    ]


# --- a one-off window ------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - timedelta(days=3), SCHEDULED),
        (START - SECOND, SCHEDULED),
        (START, IN_PROGRESS),
        (START + SECOND, IN_PROGRESS),
        (END - SECOND, IN_PROGRESS),
        (END, COMPLETED),
        (END + SECOND, COMPLETED),
        (END + timedelta(days=400), COMPLETED),
    ],
)
def test_one_off_status_at_the_edges(at: datetime, expected: MaintenanceStatus) -> None:
    assert status_at(window(), at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - SECOND, SCHEDULED),
        (START, IN_PROGRESS),
        (END - SECOND, IN_PROGRESS),
        (END, VERIFYING),
        (END + SECOND, VERIFYING),
        (END + timedelta(minutes=15) - SECOND, VERIFYING),
        (END + timedelta(minutes=15), COMPLETED),
        (END + timedelta(minutes=15) + SECOND, COMPLETED),
    ],
)
def test_verifying_after_the_end_when_the_window_asks(
    at: datetime, expected: MaintenanceStatus
) -> None:
    assert status_at(window(verify_after=timedelta(minutes=15)), at) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - timedelta(days=1), START),
        (START - SECOND, START),
        (START, END),
        (END - SECOND, END),
        (END, None),
        (END + SECOND, None),
    ],
)
def test_one_off_next_change(at: datetime, expected: datetime | None) -> None:
    assert next_change_at(window(), at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - SECOND, START),
        (START, END),
        (END, END + timedelta(minutes=15)),
        (END + timedelta(minutes=15) - SECOND, END + timedelta(minutes=15)),
        (END + timedelta(minutes=15), None),
    ],
)
def test_next_change_with_verifying(at: datetime, expected: datetime | None) -> None:
    assert next_change_at(window(verify_after=timedelta(minutes=15)), at) == expected


@pytest.mark.parametrize(
    ("verify", "at", "expected"),
    [
        (None, START - SECOND, None),
        (None, START, START),
        (None, END - SECOND, START),
        (None, END, END),
        (None, END + timedelta(days=9), END),
        (timedelta(minutes=15), END + SECOND, END),
        (timedelta(minutes=15), END + timedelta(minutes=15), END + timedelta(minutes=15)),
        (timedelta(minutes=15), END + timedelta(days=9), END + timedelta(minutes=15)),
    ],
)
def test_status_since_dates_each_change_by_the_rules(
    verify: timedelta | None, at: datetime, expected: datetime | None
) -> None:
    assert status_since(window(verify_after=verify), at) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (START - timedelta(hours=1), START, []),
        (START - timedelta(hours=1), START + SECOND, [(START, END)]),
        (END - SECOND, END + timedelta(hours=1), [(START, END)]),
        (END, END + timedelta(hours=1), []),
        (START + SECOND, END - SECOND, [(START, END)]),
    ],
)
def test_one_off_occurrences_overlap_half_open(
    start: datetime, end: datetime, expected: list[tuple[datetime, datetime]]
) -> None:
    assert occurrences(window(), start, end) == expected


def test_next_occurrence_is_the_current_one_then_none() -> None:
    w = window()
    assert next_occurrence(w, START - SECOND) == (START, END)
    assert next_occurrence(w, END - SECOND) == (START, END)
    assert next_occurrence(w, END) is None


# --- cancelled --------------------------------------------------------------


@pytest.mark.parametrize("at", [START - SECOND, START, END - SECOND, END, END + SECOND])
def test_a_cancelled_window_is_completed_and_never_in_progress(at: datetime) -> None:
    w = window(cancelled=True, components={"api"}, verify_after=timedelta(minutes=5))
    assert status_at(w, at) is COMPLETED
    assert next_change_at(w, at) is None
    assert status_since(w, at) is None
    assert components_under_maintenance([w], at) == set()


def test_a_cancelled_window_keeps_its_schedule() -> None:
    # The schedule is still what was announced; the status says it is off.
    assert occurrences(window(cancelled=True), START, END) == [(START, END)]


# --- components ---------------------------------------------------------------


def test_components_under_maintenance_while_in_progress_or_verifying() -> None:
    running = window(components={"api", "db"})
    later = window(START + timedelta(hours=5), END + timedelta(hours=5), components={"payments"})
    cancelled = window(components={"web"}, cancelled=True)
    verifying = window(
        START - timedelta(hours=2),
        START,
        components={"cdn"},
        verify_after=timedelta(minutes=30),
    )
    windows = [running, later, cancelled, verifying]
    assert components_under_maintenance(windows, START - timedelta(hours=2, seconds=1)) == set()
    assert components_under_maintenance(windows, START - SECOND) == {"cdn"}
    assert components_under_maintenance(windows, START) == {"api", "db", "cdn"}
    assert components_under_maintenance(windows, START + timedelta(minutes=30)) == {"api", "db"}
    assert components_under_maintenance(windows, END - SECOND) == {"api", "db"}
    assert components_under_maintenance(windows, END) == set()
    assert components_under_maintenance(windows, START + timedelta(hours=5)) == {"payments"}
    assert components_under_maintenance([], START) == set()


# --- recurrence in UTC -------------------------------------------------------------


def daily(**kwargs: object) -> Window:
    """Daily 01:00-03:00 UTC from 2026-09-20."""
    return window(recurrence="daily", **kwargs)  # type: ignore[arg-type]


def test_daily_occurrences() -> None:
    day = timedelta(days=1)
    assert occurrences(daily(), START + day, START + 3 * day) == [
        (START + day, END + day),
        (START + 2 * day, END + 2 * day),
    ]
    # A long way ahead, without walking from the first occurrence.
    far = START + 3000 * day
    assert occurrences(daily(), far, far + SECOND) == [(far, END + 3000 * day)]
    assert occurrences(daily(), START - 2 * day, START - day) == []


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (END - SECOND, IN_PROGRESS),
        (END, SCHEDULED),
        (START + timedelta(days=1) - SECOND, SCHEDULED),
        (START + timedelta(days=1), IN_PROGRESS),
        (END + timedelta(days=1), SCHEDULED),
        (END + timedelta(days=500), SCHEDULED),
    ],
)
def test_daily_is_scheduled_between_occurrences(at: datetime, expected: MaintenanceStatus) -> None:
    assert status_at(daily(), at) is expected


def test_daily_between_occurrences_waits_for_the_next_start() -> None:
    w = daily()
    assert next_change_at(w, END) == START + timedelta(days=1)
    assert next_occurrence(w, END) == (START + timedelta(days=1), END + timedelta(days=1))
    assert status_since(w, END + SECOND) == END


@pytest.mark.parametrize(
    ("until", "last_start"),
    [
        # `recurrence_until` is inclusive: an occurrence starting at it happens.
        (START + timedelta(days=2), START + timedelta(days=2)),
        (START + timedelta(days=2) - SECOND, START + timedelta(days=1)),
        (START + timedelta(days=2) + timedelta(hours=5), START + timedelta(days=2)),
        (START, START),
    ],
)
def test_until_ends_the_series(until: datetime, last_start: datetime) -> None:
    w = daily(recurrence_until=until)
    last_end = last_start + (END - START)
    found = occurrences(w, START, START + timedelta(days=30))
    assert found[-1] == (last_start, last_end)
    assert status_at(w, last_end - SECOND) is IN_PROGRESS
    assert status_at(w, last_end) is COMPLETED
    assert next_change_at(w, last_end - SECOND) == last_end
    assert next_change_at(w, last_end) is None
    assert next_occurrence(w, last_end) is None
    assert status_since(w, last_end + timedelta(days=90)) == last_end


def test_until_is_ignored_without_recurrence() -> None:
    w = window(recurrence_until=START - timedelta(days=1))
    assert occurrences(w, START, END) == [(START, END)]


def test_recurring_with_verifying_goes_back_to_scheduled_after_it() -> None:
    w = daily(verify_after=timedelta(minutes=10))
    assert status_at(w, END) is VERIFYING
    assert next_change_at(w, END) == END + timedelta(minutes=10)
    assert status_at(w, END + timedelta(minutes=10)) is SCHEDULED
    assert next_change_at(w, END + timedelta(minutes=10)) == START + timedelta(days=1)
    assert status_since(w, END + timedelta(hours=1)) == END + timedelta(minutes=10)


def test_verifying_that_runs_into_the_next_start_gives_way() -> None:
    # 23 h of work a day and 2 h of verifying: the next start wins.
    w = window(
        START, START + timedelta(hours=23), recurrence="daily", verify_after=timedelta(hours=2)
    )
    end = START + timedelta(hours=23)
    assert status_at(w, end) is VERIFYING
    assert next_change_at(w, end) == START + timedelta(days=1)
    assert status_at(w, START + timedelta(days=1)) is IN_PROGRESS


# --- recurrence across DST: Europe/Berlin ----------------------------------------------


def berlin_weekly(starts: datetime, ends: datetime, **kwargs: object) -> Window:
    return window(starts, ends, timezone=BERLIN, recurrence="weekly", **kwargs)


def local_occurrences(w: Window, start: datetime, end: datetime) -> list[str]:
    return [
        f"{local(s, w.timezone)} - {local(e, w.timezone)}" for s, e in occurrences(w, start, end)
    ]


def test_weekly_keeps_local_time_across_the_spring_change() -> None:
    # Saturdays 02:00-04:00 in Berlin: the night before the change and after.
    w = berlin_weekly(utc(2026, 3, 21, 1, 0), utc(2026, 3, 21, 3, 0))
    assert occurrences(w, utc(2026, 3, 21), utc(2026, 4, 5)) == [
        (utc(2026, 3, 21, 1, 0), utc(2026, 3, 21, 3, 0)),
        (utc(2026, 3, 28, 1, 0), utc(2026, 3, 28, 3, 0)),
        (utc(2026, 4, 4, 0, 0), utc(2026, 4, 4, 2, 0)),
    ]
    assert local_occurrences(w, utc(2026, 3, 28), utc(2026, 4, 5)) == [
        "2026-03-28 02:00 CET - 2026-03-28 04:00 CET",
        "2026-04-04 02:00 CEST - 2026-04-04 04:00 CEST",
    ]


def test_on_the_spring_forward_night_a_missing_start_moves_to_the_end_of_the_gap() -> None:
    # Sundays 02:00-04:00: 02:00 does not exist on 2026-03-29, so that night
    # the window runs 03:00-04:00 CEST, one real hour.
    w = berlin_weekly(utc(2026, 3, 22, 1, 0), utc(2026, 3, 22, 3, 0))
    assert local_occurrences(w, utc(2026, 3, 22), utc(2026, 4, 6)) == [
        "2026-03-22 02:00 CET - 2026-03-22 04:00 CET",
        "2026-03-29 03:00 CEST - 2026-03-29 04:00 CEST",
        "2026-04-05 02:00 CEST - 2026-04-05 04:00 CEST",
    ]
    start, end = utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)
    assert status_at(w, start - SECOND) is SCHEDULED
    assert status_at(w, start) is IN_PROGRESS
    assert status_at(w, start + SECOND) is IN_PROGRESS
    assert status_at(w, end - SECOND) is IN_PROGRESS
    assert status_at(w, end) is SCHEDULED
    assert status_at(w, end + SECOND) is SCHEDULED
    assert next_change_at(w, utc(2026, 3, 28, 12, 0)) == start
    assert next_change_at(w, start) == end
    assert next_change_at(w, end) == utc(2026, 4, 5, 0, 0)


@pytest.mark.parametrize(
    ("starts", "ends", "that_night"),
    [
        # Starting in the gap: the start moves to 03:00, the end stays.
        ((2, 30), (3, 15), ["2026-03-29 03:00 CEST - 2026-03-29 03:15 CEST"]),
        # Ending in the gap: the end moves to 03:00.
        ((1, 30), (2, 30), ["2026-03-29 01:30 CET - 2026-03-29 03:00 CEST"]),
        # Wholly inside the gap: it does not happen that night.
        ((2, 15), (2, 45), []),
    ],
)
def test_windows_touching_the_spring_gap(
    starts: tuple[int, int], ends: tuple[int, int], that_night: list[str]
) -> None:
    w = berlin_weekly(
        utc(2026, 3, 22, starts[0] - 1, starts[1]), utc(2026, 3, 22, ends[0] - 1, ends[1])
    )
    assert local_occurrences(w, utc(2026, 3, 28, 22), utc(2026, 3, 29, 22)) == that_night


def test_an_occurrence_swallowed_by_the_gap_is_skipped_by_every_rule() -> None:
    w = berlin_weekly(utc(2026, 3, 22, 1, 15), utc(2026, 3, 22, 1, 45), components={"db"})
    assert status_at(w, utc(2026, 3, 29, 1, 0)) is SCHEDULED
    assert components_under_maintenance([w], utc(2026, 3, 29, 1, 0)) == set()
    assert next_change_at(w, utc(2026, 3, 23)) == utc(2026, 4, 5, 0, 15)
    assert next_occurrence(w, utc(2026, 3, 23)) == (utc(2026, 4, 5, 0, 15), utc(2026, 4, 5, 0, 45))


def test_on_the_fall_back_night_the_repeated_hour_is_the_first() -> None:
    # Sundays 02:00-04:00: on 2026-10-25 02:00 is read as CEST (the first),
    # 04:00 is CET, so that night's window lasts three real hours.
    w = berlin_weekly(utc(2026, 10, 18, 0, 0), utc(2026, 10, 18, 2, 0))
    assert occurrences(w, utc(2026, 10, 18), utc(2026, 11, 2)) == [
        (utc(2026, 10, 18, 0, 0), utc(2026, 10, 18, 2, 0)),
        (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 3, 0)),
        (utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 3, 0)),
    ]
    assert local_occurrences(w, utc(2026, 10, 24), utc(2026, 11, 2)) == [
        "2026-10-25 02:00 CEST - 2026-10-25 04:00 CET",
        "2026-11-01 02:00 CET - 2026-11-01 04:00 CET",
    ]
    assert status_at(w, utc(2026, 10, 24, 23, 59, 59)) is SCHEDULED
    assert status_at(w, utc(2026, 10, 25, 0, 0)) is IN_PROGRESS
    assert status_at(w, utc(2026, 10, 25, 2, 59, 59)) is IN_PROGRESS
    assert status_at(w, utc(2026, 10, 25, 3, 0)) is SCHEDULED
    assert next_change_at(w, utc(2026, 10, 25, 0, 0)) == utc(2026, 10, 25, 3, 0)


def test_a_window_inside_the_repeated_hour_happens_once_in_summer_time() -> None:
    w = berlin_weekly(utc(2026, 10, 18, 0, 15), utc(2026, 10, 18, 0, 45))
    assert local_occurrences(w, utc(2026, 10, 24, 22), utc(2026, 10, 25, 22)) == [
        "2026-10-25 02:15 CEST - 2026-10-25 02:45 CEST"
    ]
    assert status_at(w, utc(2026, 10, 25, 1, 30)) is SCHEDULED  # 02:30 CET, the second time


def test_daily_across_the_fall_back_change() -> None:
    w = window(
        utc(2026, 10, 24, 0, 0), utc(2026, 10, 24, 2, 0), timezone=BERLIN, recurrence="daily"
    )
    assert occurrences(w, utc(2026, 10, 24), utc(2026, 10, 27)) == [
        (utc(2026, 10, 24, 0, 0), utc(2026, 10, 24, 2, 0)),
        (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 3, 0)),
        (utc(2026, 10, 26, 1, 0), utc(2026, 10, 26, 3, 0)),
    ]


# --- recurrence across DST: America/New_York -------------------------------------------


def test_new_york_daily_across_the_spring_change() -> None:
    # Daily 01:30-02:30 local: on 2026-03-08 02:30 does not exist (02:00 ->
    # 03:00), so the end moves to 03:00 EDT.
    w = window(
        utc(2026, 3, 7, 6, 30), utc(2026, 3, 7, 7, 30), timezone=NEW_YORK, recurrence="daily"
    )
    assert local_occurrences(w, utc(2026, 3, 7), utc(2026, 3, 10)) == [
        "2026-03-07 01:30 EST - 2026-03-07 02:30 EST",
        "2026-03-08 01:30 EST - 2026-03-08 03:00 EDT",
        "2026-03-09 01:30 EDT - 2026-03-09 02:30 EDT",
    ]
    end = utc(2026, 3, 8, 7, 0)
    assert status_at(w, end - SECOND) is IN_PROGRESS
    assert status_at(w, end) is SCHEDULED
    assert next_change_at(w, utc(2026, 3, 8, 6, 30)) == end


def test_new_york_daily_across_the_fall_back_change() -> None:
    # 01:30 happens twice on 2026-11-01 (02:00 EDT -> 01:00 EST): the first.
    w = window(
        utc(2026, 10, 31, 5, 30), utc(2026, 10, 31, 6, 30), timezone=NEW_YORK, recurrence="daily"
    )
    assert occurrences(w, utc(2026, 10, 31), utc(2026, 11, 3)) == [
        (utc(2026, 10, 31, 5, 30), utc(2026, 10, 31, 6, 30)),
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 30)),
        (utc(2026, 11, 2, 6, 30), utc(2026, 11, 2, 7, 30)),
    ]
    assert local_occurrences(w, utc(2026, 11, 1), utc(2026, 11, 2)) == [
        "2026-11-01 01:30 EDT - 2026-11-01 02:30 EST"
    ]


def test_new_york_weekly_hour_that_is_the_gap_does_not_happen() -> None:
    # Sundays 02:00-03:00: on 2026-03-08 both ends land on 03:00 EDT.
    w = window(utc(2026, 3, 1, 7, 0), utc(2026, 3, 1, 8, 0), timezone=NEW_YORK, recurrence="weekly")
    assert local_occurrences(w, utc(2026, 3, 1), utc(2026, 3, 16)) == [
        "2026-03-01 02:00 EST - 2026-03-01 03:00 EST",
        "2026-03-15 02:00 EDT - 2026-03-15 03:00 EDT",
    ]
    assert status_at(w, utc(2026, 3, 8, 7, 0)) is SCHEDULED


def test_new_york_weekly_across_the_fall_back_change() -> None:
    w = window(
        utc(2026, 10, 25, 6, 0), utc(2026, 10, 25, 8, 0), timezone=NEW_YORK, recurrence="weekly"
    )
    assert local_occurrences(w, utc(2026, 10, 25), utc(2026, 11, 9)) == [
        "2026-10-25 02:00 EDT - 2026-10-25 04:00 EDT",
        "2026-11-01 02:00 EST - 2026-11-01 04:00 EST",
        "2026-11-08 02:00 EST - 2026-11-08 04:00 EST",
    ]


# --- next_change_at against an oracle ----------------------------------------------------

ORACLE_WINDOWS = [
    berlin_weekly(utc(2026, 3, 22, 1, 0), utc(2026, 3, 22, 3, 0)),
    berlin_weekly(
        utc(2026, 3, 22, 1, 15), utc(2026, 3, 22, 1, 45), verify_after=timedelta(minutes=20)
    ),
    berlin_weekly(
        utc(2026, 10, 18, 0, 0), utc(2026, 10, 18, 2, 0), verify_after=timedelta(minutes=30)
    ),
    window(
        utc(2026, 3, 7, 6, 30),
        utc(2026, 3, 7, 7, 30),
        timezone=NEW_YORK,
        recurrence="daily",
        recurrence_until=utc(2026, 3, 9, 12, 0),
    ),
    window(
        utc(2026, 10, 31, 5, 30), utc(2026, 10, 31, 6, 30), timezone=NEW_YORK, recurrence="daily"
    ),
]
ORACLE_SPANS = [
    (utc(2026, 3, 28, 22), utc(2026, 3, 29, 6)),
    (utc(2026, 10, 24, 22), utc(2026, 10, 25, 6)),
    (utc(2026, 3, 8, 4), utc(2026, 3, 9, 12)),
    (utc(2026, 11, 1, 4), utc(2026, 11, 1, 9)),
]


@pytest.mark.parametrize("w", ORACLE_WINDOWS, ids=lambda w: f"{w.timezone}-{w.starts_at:%m%d%H%M}")
def test_next_change_at_matches_a_minute_by_minute_walk(w: Window) -> None:
    changes_seen = 0
    for start, end in ORACLE_SPANS:
        minutes = int((end - start).total_seconds() // 60)
        statuses = [status_at(w, start + timedelta(minutes=i)) for i in range(minutes + 1)]
        # Every 7th minute, and each minute next to a change (the edges).
        edges = {
            j + d
            for j in range(1, minutes + 1)
            if statuses[j] is not statuses[j - 1]
            for d in (-1, 0)
        }
        changes_seen += len(edges)
        for i in sorted(set(range(0, minutes, 7)) | edges):
            now = start + timedelta(minutes=i)
            later = next(
                (j for j in range(i + 1, minutes + 1) if statuses[j] is not statuses[i]), None
            )
            due = next_change_at(w, now)
            if later is None:
                assert due is None or due > end
            else:
                # Every boundary here is on a whole minute.
                assert due == start + timedelta(minutes=later), now
    assert changes_seen >= 4  # the walk crossed this window's edges


# --- texts -------------------------------------------------------------------------------


def test_automatic_update_bodies() -> None:
    w = berlin_weekly(utc(2026, 10, 18, 0, 0), utc(2026, 10, 18, 2, 0))
    now = utc(2026, 10, 18, 2, 0)
    assert automatic_update_body(w, IN_PROGRESS, now) == "The scheduled maintenance has begun."
    assert automatic_update_body(w, VERIFYING, now) == (
        "The maintenance work is done; we are verifying that everything works."
    )
    assert automatic_update_body(w, SCHEDULED, now) == (
        "This occurrence of the maintenance is complete. "
        "The next one begins Sun, Oct 25, 02:00 CEST."
    )
    assert automatic_update_body(w, COMPLETED, now) == "The scheduled maintenance is complete."
