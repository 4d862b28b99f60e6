"""The admin form's checks: every error at once, by field, in words a
person can act on; local times converted to UTC, refused in the spring gap,
and read as the first in the repeated autumn hour (with a notice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statuspage.maintenance_form import FieldError, validate_window

BERLIN = "Europe/Berlin"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def errors(**kwargs: object) -> list[tuple[str, str]]:
    values: dict[str, object] = {
        "title": "Database upgrade",
        "starts_local": datetime(2026, 10, 24, 2, 0),
        "ends_local": datetime(2026, 10, 24, 4, 0),
        "timezone": BERLIN,
    }
    values.update(kwargs)
    result = validate_window(**values)  # type: ignore[arg-type]
    return [(e.field, e.message) for e in result.errors]


def test_a_good_window_is_converted_to_utc() -> None:
    result = validate_window(
        "Database upgrade",
        datetime(2026, 10, 24, 2, 0),
        datetime(2026, 10, 24, 4, 0),
        BERLIN,
        "weekly",
        datetime(2026, 12, 31, 23, 59),
    )
    assert result.ok
    assert result.errors == ()
    assert result.notices == ()
    assert result.starts_at == utc(2026, 10, 24, 0, 0)
    assert result.ends_at == utc(2026, 10, 24, 2, 0)
    assert result.recurrence == "weekly"
    assert result.recurrence_until == utc(2026, 12, 31, 22, 59)
    assert result.timezone == BERLIN


def test_no_recurrence_given_as_an_empty_string() -> None:
    result = validate_window(
        "Upgrade", datetime(2026, 10, 24, 2, 0), datetime(2026, 10, 24, 4, 0), BERLIN, ""
    )
    assert result.ok and result.recurrence is None and result.recurrence_until is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"title": ""}, [("title", "Enter a title.")]),
        ({"title": "   "}, [("title", "Enter a title.")]),
        ({"title": "x" * 301}, [("title", "Keep the title under 300 characters.")]),
        (
            {"ends_local": datetime(2026, 10, 24, 2, 0)},
            [("ends_at", "The end must be after the start.")],
        ),
        (
            {"ends_local": datetime(2026, 10, 24, 1, 59)},
            [("ends_at", "The end must be after the start.")],
        ),
        (
            {"ends_local": datetime(2026, 10, 31, 2, 0, 1)},
            [("ends_at", "A maintenance may last at most 7 days; schedule a longer one in parts.")],
        ),
        (
            {"ends_local": datetime(2026, 10, 25, 2, 0), "recurrence": "daily"},
            [
                (
                    "ends_at",
                    "A daily maintenance must be shorter than a day, or its repetitions would overlap.",
                )
            ],
        ),
        (
            {"ends_local": datetime(2026, 10, 31, 2, 0), "recurrence": "weekly"},
            [
                (
                    "ends_at",
                    "A weekly maintenance must be shorter than a week, or its repetitions would overlap.",
                )
            ],
        ),
        ({"recurrence": "monthly"}, [("recurrence", "Choose daily, weekly or no repetition.")]),
        (
            {"until": datetime(2026, 12, 1)},
            [
                (
                    "recurrence_until",
                    "Only a repeating maintenance has an end date: choose daily or weekly, or leave it empty.",
                )
            ],
        ),
        (
            {"recurrence": "daily", "until": datetime(2026, 10, 24, 1, 59)},
            [("recurrence_until", "The repetition must end after the first start.")],
        ),
        (
            {"timezone": "Mars/Olympus_Mons"},
            [
                (
                    "timezone",
                    "Unknown time zone 'Mars/Olympus_Mons': use a name such as Europe/Berlin or UTC.",
                )
            ],
        ),
        (
            {"timezone": "Europe"},
            [("timezone", "Unknown time zone 'Europe': use a name such as Europe/Berlin or UTC.")],
        ),
        (
            {"timezone": "../etc/passwd"},
            [
                (
                    "timezone",
                    "Unknown time zone '../etc/passwd': use a name such as Europe/Berlin or UTC.",
                )
            ],
        ),
        (
            {"timezone": ""},
            [("timezone", "Unknown time zone '': use a name such as Europe/Berlin or UTC.")],
        ),
    ],
)
def test_field_errors(kwargs: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert errors(**kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        # Exactly seven days is allowed for a one-off window.
        {"ends_local": datetime(2026, 10, 31, 2, 0)},
        # A daily window one minute shorter than a day.
        {"ends_local": datetime(2026, 10, 25, 1, 59), "recurrence": "daily"},
        # Repeating until the very first start: one occurrence.
        {"recurrence": "daily", "until": datetime(2026, 10, 24, 2, 0)},
    ],
)
def test_limits_that_are_allowed(kwargs: dict[str, object]) -> None:
    assert errors(**kwargs) == []


def test_every_error_at_once() -> None:
    assert errors(title="", ends_local=datetime(2026, 10, 24, 1, 0), recurrence="yearly") == [
        ("title", "Enter a title."),
        ("recurrence", "Choose daily, weekly or no repetition."),
        ("ends_at", "The end must be after the start."),
    ]


def test_a_start_in_the_spring_gap_is_refused() -> None:
    result = validate_window(
        "Upgrade", datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 4, 0), BERLIN
    )
    assert result.errors == (
        FieldError(
            "starts_at",
            "02:30 does not exist on Sun, Mar 29 in Europe/Berlin: the clocks jump from 02:00 "
            "to 03:00. Choose a time before 02:00 or from 03:00.",
        ),
    )
    assert result.starts_at is None
    assert result.ends_at == utc(2026, 3, 29, 2, 0)
    assert not result.ok


def test_an_end_and_an_until_in_the_new_york_gap_are_refused() -> None:
    result = validate_window(
        "Upgrade",
        datetime(2026, 3, 8, 1, 0),
        datetime(2026, 3, 8, 2, 15),
        "America/New_York",
        "weekly",
        datetime(2027, 3, 14, 2, 0),
    )
    assert [(e.field, e.message) for e in result.errors] == [
        (
            "ends_at",
            "02:15 does not exist on Sun, Mar 8 in America/New_York: the clocks jump from 02:00 "
            "to 03:00. Choose a time before 02:00 or from 03:00.",
        ),
        (
            "recurrence_until",
            "02:00 does not exist on Sun, Mar 14 in America/New_York: the clocks jump from "
            "02:00 to 03:00. Choose a time before 02:00 or from 03:00.",
        ),
    ]


def test_a_time_in_the_repeated_hour_is_the_first_and_says_so() -> None:
    result = validate_window(
        "Upgrade", datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 4, 0), BERLIN
    )
    assert result.ok
    assert result.notices == (
        FieldError(
            "starts_at",
            "02:30 happens twice on Sun, Oct 25 in Europe/Berlin as the clocks go back; we took "
            "the first, 02:30 CEST (00:30 UTC), not 02:30 CET (01:30 UTC).",
        ),
    )
    assert result.starts_at == utc(2026, 10, 25, 0, 30)
    assert result.ends_at == utc(2026, 10, 25, 3, 0)
    assert result.ends_at - result.starts_at == timedelta(hours=2, minutes=30)


def test_aware_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        validate_window("Upgrade", utc(2026, 10, 24, 0, 0), datetime(2026, 10, 24, 4, 0), BERLIN)
