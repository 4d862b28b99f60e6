"""Response-time charts: buckets, gaps and geometry, as pure functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.web.charts import (
    HEIGHT,
    MARGIN_BOTTOM,
    Bucket,
    bucket_latencies,
    draw_chart,
    milliseconds_text,
    nice_ceiling,
    path_data,
)

T0 = datetime(2026, 9, 15, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)
NUMBERS_ONLY = re.compile(r"^(?:[MLH]-?\d+\.\d(?: -?\d+\.\d)?)*$")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_buckets_give_median_and_max_and_leave_empty_ones_empty() -> None:
    samples = [(at(0), 10.0), (at(1), 30.0), (at(4.99), 20.0), (at(10), 50.0)]

    buckets = bucket_latencies(samples, T0, at(15), STEP)

    assert buckets == [
        Bucket(at(0), 20.0, 30.0, 3),
        Bucket(at(5), None, None, 0),
        Bucket(at(10), 50.0, 50.0, 1),
    ]


def test_samples_outside_the_window_or_without_latency_are_left_out() -> None:
    samples = [(at(-0.01), 999.0), (at(0), None), (at(15), 999.0), (at(14.99), 7.0)]

    buckets = bucket_latencies(samples, T0, at(15), STEP)

    assert [b.samples for b in buckets] == [0, 0, 1]
    assert buckets[2].max_ms == 7.0


def test_a_window_not_a_multiple_of_the_step_gets_a_last_partial_bucket() -> None:
    assert len(bucket_latencies([], T0, at(11), STEP)) == 3


def test_gaps_break_the_line_and_a_lone_point_is_a_dash() -> None:
    assert path_data([]) == ""
    assert path_data([None, None]) == ""
    assert path_data([(1, 2), (3, 4)]) == "M1.0 2.0L3.0 4.0"
    assert path_data([(1, 2), (3, 4), None, (5, 6), (7, 8)]) == "M1.0 2.0L3.0 4.0M5.0 6.0L7.0 8.0"
    assert path_data([None, (5, 6), None]) == "M4.0 6.0H6.0"


def test_the_scale_rounds_up_to_a_readable_top() -> None:
    assert nice_ceiling(0) == 1.0
    assert nice_ceiling(87) == 100
    assert nice_ceiling(100) == 100
    assert nice_ceiling(101) == 200
    assert nice_ceiling(2100) == 2500
    assert nice_ceiling(0.3) == 0.5
    assert milliseconds_text(250) == "250 ms"
    assert milliseconds_text(2500) == "2.5 s"


def test_chart_geometry_is_numbers_and_its_summary_says_what_it_shows() -> None:
    buckets = [
        Bucket(at(0), 40.0, 80.0, 3),
        Bucket(at(5), None, None, 0),
        Bucket(at(10), 60.0, 100.0, 2),
        Bucket(at(15), 50.0, 50.0, 1),
    ]

    chart = draw_chart(buckets, "Response time, last 24 hours", ZoneInfo("Europe/Berlin"))

    assert NUMBERS_ONLY.match(chart.p50_path), chart.p50_path
    assert NUMBERS_ONLY.match(chart.max_path), chart.max_path
    assert chart.p50_path.count("M") == 2  # the empty bucket is a gap
    assert chart.summary == (
        "Response time, last 24 hours: median 50 ms, slowest 100 ms; data in 3 of 4 intervals."
    )
    assert [label.text for label in chart.y_labels] == ["0 ms", "25 ms", "50 ms", "75 ms", "100 ms"]
    # The slowest point touches the top label, zero sits on the axis.
    assert chart.y_labels[0].y == HEIGHT - MARGIN_BOTTOM
    assert "L" in chart.max_path
    # Times on the axis are in the page's time zone (UTC+2 in September).
    assert chart.x_labels[0].text == "02:00"
    assert not chart.empty


def test_a_chart_without_data_says_so() -> None:
    buckets = bucket_latencies([], T0, at(60), STEP)

    chart = draw_chart(buckets, "Response time, last 7 days", ZoneInfo("UTC"), "%b %d")

    assert chart.empty
    assert chart.p50_path == chart.max_path == ""
    assert chart.summary == "Response time, last 7 days: no response-time data."
    assert chart.x_labels[0].text == "Sep 15"
