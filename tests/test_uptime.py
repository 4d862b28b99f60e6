"""Daily rollups and uptime: the formula, days without data, midnight, DST
days in Europe/Berlin, `now`, and an oracle that integrates transitions
minute by minute (PROP-03, REL-12)."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuspage.domain import ComponentStatus
from statuspage.uptime import (
    BAR_DAYS,
    PARTIAL_OUTAGE_WEIGHT,
    DayBar,
    DayRollup,
    Transition,
    UptimeBar,
    cell_text,
    day_bars,
    day_bounds,
    local_day,
    read_cell,
    rollup_days,
    uptime_bar,
    uptime_fraction,
    uptime_over,
)

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
UNKNOWN = ComponentStatus.UNKNOWN

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 9, 15)
BASE = datetime(2026, 9, 15, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)
HOUR = 3600.0
SECOND = timedelta(seconds=1)


def hours(h: float) -> datetime:
    return BASE + timedelta(hours=h)


def history(*changes: tuple[datetime, ComponentStatus]) -> list[Transition]:
    out: list[Transition] = []
    old: ComponentStatus | None = None
    for at, new in changes:
        out.append(Transition(at=at, old=old, new=new, reason=f"-> {new.value}"))
        old = new
    return out


def one_day(transitions: list[Transition], day: date = DAY, now: datetime = LATER, tz=UTC_ZONE):
    [rollup] = rollup_days(transitions, day, day, now, tz)
    assert rollup.day == day
    return rollup


# --- the formula -------------------------------------------------------------


def test_uptime_formula_over_every_status():
    rollup = one_day(
        history(
            (hours(0), OPERATIONAL),
            (hours(1), MAJOR),
            (hours(2), PARTIAL),
            (hours(4), DEGRADED),
            (hours(5), MAINTENANCE),
            (hours(6), UNKNOWN),
            (hours(8), OPERATIONAL),
        )
    )
    assert rollup.seconds == {
        OPERATIONAL: 17 * HOUR,
        MAJOR: HOUR,
        PARTIAL: 2 * HOUR,
        DEGRADED: HOUR,
        MAINTENANCE: HOUR,
        UNKNOWN: 2 * HOUR,
    }
    assert rollup.total == 86400
    assert rollup.no_data == 2 * HOUR
    assert rollup.observed == 22 * HOUR
    assert rollup.downtime == HOUR + 0.3 * (2 * HOUR)
    assert rollup.uptime == 1 - (HOUR + 0.3 * (2 * HOUR)) / (22 * HOUR)
    assert rollup.worst is MAJOR


@pytest.mark.parametrize(
    ("status", "uptime"),
    [
        (OPERATIONAL, 1.0),
        (DEGRADED, 1.0),
        (MAINTENANCE, 1.0),
        (PARTIAL, 0.7),
        (MAJOR, 0.0),
        (UNKNOWN, None),
    ],
)
def test_a_whole_day_in_one_status(status, uptime):
    rollup = one_day(history((hours(-5), status)))
    assert rollup.seconds == {status: 86400.0}
    assert rollup.uptime == uptime


def test_partial_outage_weighs_thirty_percent():
    assert PARTIAL_OUTAGE_WEIGHT == 0.3
    rollup = one_day(history((hours(0), OPERATIONAL), (hours(12), PARTIAL)))
    assert rollup.downtime == 0.3 * (12 * HOUR)
    assert rollup.uptime == 1 - 0.3 * (12 * HOUR) / 86400


def test_unknown_is_left_out_of_the_denominator():
    # Half a day down, half a day without data: 0 %, not 50 %.
    rollup = one_day(history((hours(0), MAJOR), (hours(12), UNKNOWN)))
    assert rollup.uptime == 0.0
    # Half a day up, half without data: 100 %, not 50 %.
    rollup = one_day(history((hours(0), OPERATIONAL), (hours(12), UNKNOWN)))
    assert rollup.uptime == 1.0
    assert rollup.no_data == 12 * HOUR


def test_a_day_with_only_no_data_has_no_uptime_and_no_worst():
    rollup = one_day(history((hours(-1), UNKNOWN)))
    assert (rollup.uptime, rollup.worst, rollup.no_data, rollup.observed) == (None, None, 86400, 0)
    [bar] = day_bars([rollup], DAY, days=1)
    assert bar == DayBar(DAY, worst=None, uptime=None, no_data_seconds=86400.0)


def test_worst_ignores_unknown():
    rollup = one_day(history((hours(0), DEGRADED), (hours(1), UNKNOWN)))
    assert rollup.worst is DEGRADED


def test_uptime_fraction_edges():
    assert uptime_fraction(0, 0) is None
    assert uptime_fraction(10, 0) is None
    assert uptime_fraction(0, 100) == 1.0
    assert uptime_fraction(25, 100) == 0.75
    assert uptime_fraction(100, 100) == 0.0


def test_add_ignores_empty_spans():
    rollup = DayRollup(DAY)
    rollup.add(MAJOR, 0)
    rollup.add(MAJOR, -5)
    assert rollup.seconds == {}
    assert (rollup.total, rollup.uptime, rollup.worst) == (0, None, None)
    rollup.add(MAJOR, 5)
    rollup.add(MAJOR, 7)
    assert rollup.seconds == {MAJOR: 12.0}


# --- day edges ---------------------------------------------------------------


def test_a_partial_outage_spanning_midnight_is_split_between_days():
    transitions = history(
        (datetime(2026, 9, 15, 0, 0, tzinfo=UTC), OPERATIONAL),
        (datetime(2026, 9, 15, 22, 0, tzinfo=UTC), PARTIAL),
        (datetime(2026, 9, 16, 3, 0, tzinfo=UTC), OPERATIONAL),
    )
    first, second = rollup_days(transitions, date(2026, 9, 15), date(2026, 9, 16), LATER, UTC_ZONE)
    assert first.seconds == {OPERATIONAL: 22 * HOUR, PARTIAL: 2 * HOUR}
    assert second.seconds == {PARTIAL: 3 * HOUR, OPERATIONAL: 21 * HOUR}
    assert first.uptime == 1 - 0.3 * (2 * HOUR) / 86400
    assert second.uptime == 1 - 0.3 * (3 * HOUR) / 86400


def test_midnight_follows_the_page_time_zone():
    # 22:00-03:00 UTC is 00:00-05:00 in Berlin (CEST, UTC+2): one local day.
    transitions = history(
        (datetime(2026, 9, 14, 12, 0, tzinfo=UTC), OPERATIONAL),
        (datetime(2026, 9, 15, 22, 0, tzinfo=UTC), PARTIAL),
        (datetime(2026, 9, 16, 3, 0, tzinfo=UTC), OPERATIONAL),
    )
    first, second = rollup_days(transitions, date(2026, 9, 15), date(2026, 9, 16), LATER, BERLIN)
    assert first.seconds == {OPERATIONAL: 24 * HOUR}
    assert second.seconds == {PARTIAL: 5 * HOUR, OPERATIONAL: 19 * HOUR}


def test_transitions_exactly_at_the_day_edges():
    start, end = datetime(2026, 9, 15, tzinfo=UTC), datetime(2026, 9, 16, tzinfo=UTC)
    transitions = history((start, MAJOR), (end, OPERATIONAL))
    first, second = rollup_days(transitions, DAY, date(2026, 9, 16), LATER, UTC_ZONE)
    assert first.seconds == {MAJOR: 86400.0}
    assert second.seconds == {OPERATIONAL: 86400.0}


@pytest.mark.parametrize(
    ("change", "major_seconds"),
    [(-1, 86400.0), (0, 86400.0), (1, 86399.0)],
)
def test_a_transition_one_second_around_midnight(change, major_seconds):
    midnight = datetime(2026, 9, 15, tzinfo=UTC)
    transitions = history(
        (midnight - timedelta(hours=1), OPERATIONAL), (midnight + change * SECOND, MAJOR)
    )
    rollup = one_day(transitions)
    assert rollup.seconds.get(MAJOR) == major_seconds
    assert rollup.seconds.get(OPERATIONAL, 0.0) == 86400.0 - major_seconds


def test_time_before_the_first_transition_is_not_counted():
    rollup = one_day(history((hours(12), MAJOR), (hours(18), OPERATIONAL)))
    assert rollup.seconds == {MAJOR: 6 * HOUR, OPERATIONAL: 6 * HOUR}
    assert rollup.total == 12 * HOUR
    assert rollup.uptime == 0.5


def test_no_transitions_give_empty_days():
    rollups = rollup_days([], DAY, date(2026, 9, 17), LATER, UTC_ZONE)
    assert [(r.day, r.seconds) for r in rollups] == [
        (date(2026, 9, 15), {}),
        (date(2026, 9, 16), {}),
        (date(2026, 9, 17), {}),
    ]


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (hours(15) - SECOND, {OPERATIONAL: 10 * HOUR, MAJOR: 5 * HOUR - 1}),
        (hours(15), {OPERATIONAL: 10 * HOUR, MAJOR: 5 * HOUR}),
        (hours(15) + SECOND, {OPERATIONAL: 10 * HOUR, MAJOR: 5 * HOUR + 1}),
    ],
)
def test_now_cuts_the_current_day(now, seconds):
    rollup = one_day(history((hours(-3), OPERATIONAL), (hours(10), MAJOR)), now=now)
    assert rollup.seconds == seconds


def test_transitions_after_now_are_not_counted():
    transitions = history((hours(-3), OPERATIONAL), (hours(10), MAJOR))
    rollup = one_day(transitions, now=hours(10))
    assert rollup.seconds == {OPERATIONAL: 10 * HOUR}
    assert one_day(transitions, now=hours(10) - SECOND).seconds == {OPERATIONAL: 10 * HOUR - 1}


def test_days_after_now_are_empty():
    transitions = history((hours(-3), OPERATIONAL))
    today, tomorrow = rollup_days(transitions, DAY, date(2026, 9, 16), hours(6), UTC_ZONE)
    assert today.seconds == {OPERATIONAL: 6 * HOUR}
    assert tomorrow.seconds == {}
    # now exactly at the start of a day: nothing of it is counted.
    [at_midnight] = rollup_days(transitions, DAY, DAY, hours(0), UTC_ZONE)
    assert at_midnight.seconds == {}


# --- daylight saving time ----------------------------------------------------


def test_day_bounds_are_local_midnights():
    start, end = day_bounds(date(2026, 9, 15), BERLIN)
    assert start == datetime(2026, 9, 14, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 9, 15, 22, 0, tzinfo=UTC)
    assert local_day(start, BERLIN) == date(2026, 9, 15)
    assert local_day(end - SECOND, BERLIN) == date(2026, 9, 15)
    assert local_day(end, BERLIN) == date(2026, 9, 16)


@pytest.mark.parametrize(
    ("day", "start", "end", "seconds"),
    [
        (
            date(2026, 3, 29),
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
            82800.0,
        ),
        (
            date(2026, 10, 25),
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
            90000.0,
        ),
        (
            date(2026, 3, 28),
            datetime(2026, 3, 27, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
            86400.0,
        ),
    ],
)
def test_dst_days_in_berlin_are_23_and_25_hours(day, start, end, seconds):
    assert day_bounds(day, BERLIN) == (start, end)
    transitions = history((datetime(2026, 1, 1, tzinfo=UTC), OPERATIONAL))
    rollup = one_day(transitions, day=day, tz=BERLIN)
    assert rollup.seconds == {OPERATIONAL: seconds}
    assert rollup.total == seconds


def test_an_outage_across_the_spring_forward_gap_lasts_one_hour():
    # 01:30 CET to 03:30 CEST is one hour: the clock skips 02:00-03:00.
    transitions = history(
        (datetime(2026, 3, 1, tzinfo=BERLIN), OPERATIONAL),
        (datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), MAJOR),
        (datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), OPERATIONAL),
    )
    rollup = one_day(transitions, day=date(2026, 3, 29), tz=BERLIN)
    assert rollup.seconds == {OPERATIONAL: 82800.0 - HOUR, MAJOR: HOUR}
    assert rollup.uptime == 1 - HOUR / 82800


def test_an_outage_across_the_fall_back_hour_lasts_three_hours():
    # 01:30 CEST to 03:30 CET is three hours: 02:00-03:00 happens twice.
    transitions = history(
        (datetime(2026, 10, 1, tzinfo=UTC), OPERATIONAL),
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), MAJOR),  # 01:30 CEST
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), OPERATIONAL),  # 03:30 CET
    )
    rollup = one_day(transitions, day=date(2026, 10, 25), tz=BERLIN)
    assert rollup.seconds == {OPERATIONAL: 90000.0 - 3 * HOUR, MAJOR: 3 * HOUR}


def test_now_inside_a_dst_day():
    transitions = history((datetime(2026, 3, 1, tzinfo=UTC), OPERATIONAL))
    # 04:00 CEST on the 23-hour day is three hours after midnight.
    now = datetime(2026, 3, 29, 4, 0, tzinfo=BERLIN)
    rollup = one_day(transitions, day=date(2026, 3, 29), now=now, tz=BERLIN)
    assert rollup.seconds == {OPERATIONAL: 3 * HOUR}


# --- several days ------------------------------------------------------------


def test_uptime_over_several_days_skips_days_without_data():
    up = DayRollup(date(2026, 9, 13), {OPERATIONAL: 86400.0})
    silent = DayRollup(date(2026, 9, 14), {UNKNOWN: 86400.0})
    empty = DayRollup(date(2026, 9, 15))
    bad = DayRollup(date(2026, 9, 16), {OPERATIONAL: 43200.0, MAJOR: 21600.0, UNKNOWN: 21600.0})
    uptime, no_data = uptime_over([up, silent, empty, bad])
    assert uptime == 1 - 21600 / (86400 + 64800)
    assert no_data == 86400 + 21600


def test_uptime_over_nothing_known():
    assert uptime_over([]) == (None, 0.0)
    assert uptime_over([DayRollup(DAY, {UNKNOWN: 10.0})]) == (None, 10.0)


def test_day_bars_cover_the_days_oldest_first_ending_today():
    rollups = [
        DayRollup(date(2026, 9, 15), {OPERATIONAL: 80000.0, PARTIAL: 6400.0}),
        DayRollup(date(2026, 9, 13), {DEGRADED: 100.0, UNKNOWN: 300.0}),
        DayRollup(date(2026, 9, 12)),
        DayRollup(date(2026, 6, 1), {MAJOR: 86400.0}),  # outside the window
    ]
    bars = day_bars(rollups, today=date(2026, 9, 15), days=5)
    assert bars == [
        DayBar(date(2026, 9, 11), None, None, 0.0),
        DayBar(date(2026, 9, 12), None, None, 0.0),
        DayBar(date(2026, 9, 13), DEGRADED, 1.0, 300.0),
        DayBar(date(2026, 9, 14), None, None, 0.0),
        DayBar(date(2026, 9, 15), PARTIAL, 1 - 0.3 * 6400 / 86400, 0.0),
    ]


def test_ninety_bars_by_default():
    bars = day_bars([], today=date(2026, 9, 15))
    assert len(bars) == 90
    assert (bars[0].day, bars[-1].day) == (date(2026, 6, 18), date(2026, 9, 15))
    assert {(b.worst, b.uptime) for b in bars} == {(None, None)}


# --- the stored bar: one text cell per day -----------------------------------


def test_a_stored_bar_holds_the_same_days_and_uptime_as_the_rollups():
    rollups = [
        DayRollup(date(2026, 9, 11), {OPERATIONAL: 80000.0, PARTIAL: 6400.0}),
        DayRollup(date(2026, 9, 12), {UNKNOWN: 86400.0}),  # no data at all
        DayRollup(date(2026, 9, 13), {DEGRADED: 100.0, UNKNOWN: 300.0}),
        DayRollup(date(2026, 9, 14)),  # a rollup without any seconds
        DayRollup(date(2026, 9, 15), {MAINTENANCE: 3600.0, MAJOR: 1 / 3}),
        DayRollup(date(2026, 6, 1), {MAJOR: 86400.0}),  # outside the window
    ]
    bar = uptime_bar(rollups, date(2026, 9, 15), days=5)
    assert bar.last_day == date(2026, 9, 15)
    assert bar.days() == day_bars(rollups, date(2026, 9, 15), days=5)
    in_window = [r for r in rollups if r.day >= date(2026, 9, 11)]
    assert (bar.uptime, bar.no_data_seconds) == uptime_over(in_window)
    assert bar.cells[1] == "- None 86400.0"
    assert bar.cells[3] == ""


def test_a_bar_without_rollups_is_ninety_days_without_data():
    bar = uptime_bar([], date(2026, 9, 15))
    assert bar == UptimeBar(date(2026, 9, 15), ("",) * BAR_DAYS, None, 0.0)
    assert bar.days() == day_bars([], date(2026, 9, 15))


@given(
    worst=st.sampled_from([None, *ComponentStatus]),
    uptime=st.none() | st.floats(0, 1),
    no_data=st.floats(0, 86400),
)
def test_a_cell_reads_back_exactly(
    worst: ComponentStatus | None, uptime: float | None, no_data: float
):
    bar = DayBar(DAY, worst, uptime, no_data)
    text = cell_text(bar)
    assert "," not in text  # the cells of a bar are stored comma-separated
    assert read_cell(DAY, text) == bar


# --- oracle: integrate the transitions minute by minute (PROP-03) ------------

WEIGHT = {MAJOR: 1.0, PARTIAL: 0.3}
STATUSES = [OPERATIONAL, DEGRADED, PARTIAL, MAJOR, MAINTENANCE, UNKNOWN]
# Windows that contain both Berlin DST changes of 2026 and ordinary days.
FIRST_DAYS = [date(2026, 3, 28), date(2026, 10, 24), date(2026, 9, 14), date(2026, 12, 31)]
SPAN_DAYS = 3


@st.composite
def scenarios(draw):
    tz = draw(st.sampled_from([UTC_ZONE, BERLIN, ZoneInfo("America/New_York")]))
    first = draw(st.sampled_from(FIRST_DAYS))
    origin = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    span = SPAN_DAYS * 24 * 60 + 120  # minutes, a little past the window
    offsets = draw(
        st.lists(st.integers(min_value=-180, max_value=span), max_size=12, unique=True).map(sorted)
    )
    statuses = draw(
        st.lists(st.sampled_from(STATUSES), min_size=len(offsets), max_size=len(offsets))
    )
    transitions = history(
        *[(origin + timedelta(minutes=m), s) for m, s in zip(offsets, statuses, strict=True)]
    )
    now = origin + timedelta(minutes=draw(st.integers(min_value=-60, max_value=span)))
    return tz, first, transitions, now


def integrate_by_minute(transitions, first: date, last: date, now: datetime, tz: ZoneInfo):
    """Seconds per status per local day, walking every UTC minute from well
    before the window to `now`; the day of a minute comes from its local
    date, the status from the last transition at or before it."""
    times = [t.at for t in transitions]
    per_day: dict[date, dict[ComponentStatus, float]] = {}
    minute = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=2)
    while minute < min(stop, now):
        day = minute.astimezone(tz).date()
        i = bisect.bisect_right(times, minute)
        if first <= day <= last and i > 0:
            status = transitions[i - 1].new
            seconds = per_day.setdefault(day, {})
            seconds[status] = seconds.get(status, 0.0) + 60.0
        minute += timedelta(minutes=1)
    return per_day


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_rollups_agree_with_integrating_the_transitions(scenario):
    tz, first, transitions, now = scenario
    last = first + timedelta(days=SPAN_DAYS - 1)
    rollups = rollup_days(transitions, first, last, now, tz)
    expected = integrate_by_minute(transitions, first, last, now, tz)

    assert [r.day for r in rollups] == [first + timedelta(days=i) for i in range(SPAN_DAYS)]
    for rollup in rollups:
        assert rollup.seconds == expected.get(rollup.day, {})

    # Uptime computed two ways: from the rollups, and straight from the minutes.
    down = sum(WEIGHT.get(s, 0.0) * sec for day in expected.values() for s, sec in day.items())
    observed = sum(sec for day in expected.values() for s, sec in day.items() if s is not UNKNOWN)
    no_data = sum(day.get(UNKNOWN, 0.0) for day in expected.values())
    uptime, silent = uptime_over(rollups)
    assert silent == no_data
    if observed == 0:
        assert uptime is None
    else:
        assert uptime == pytest.approx(1 - down / observed, rel=0, abs=1e-12)
        assert 0.0 <= uptime <= 1.0
