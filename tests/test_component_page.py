"""A component's own page: uptime over 24 h / 7 / 30 / 90 days at their
edges, and the response-time charts drawn on the server."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.uptime import DayRollup, Transition, rollup_window
from statuspage.web import create_app
from statuspage.web.componentpage import UptimeWindow, uptime_windows
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN
NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
HOUR = 3600.0


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


# --- the 24-hour window, from transitions ------------------------------------


def test_partial_outage_counts_as_30_percent_downtime() -> None:
    transitions = [
        Transition(hours_ago(30), None, OK),
        Transition(hours_ago(10), OK, PARTIAL),
        Transition(hours_ago(0), PARTIAL, OK),
    ]

    window = rollup_window(transitions, hours_ago(24), NOW)

    assert window.seconds == {OK: 14 * HOUR, PARTIAL: 10 * HOUR}
    assert window.uptime == pytest.approx(1 - 0.3 * 10 / 24)


def test_no_data_is_left_out_of_the_window_and_shown_apart() -> None:
    transitions = [
        Transition(hours_ago(48), None, MAJOR),
        Transition(hours_ago(12), MAJOR, UNKNOWN),
    ]

    window = rollup_window(transitions, hours_ago(24), NOW)

    assert window.no_data == 12 * HOUR
    assert window.uptime == 0.0  # 12 h down out of the 12 h seen


def test_a_window_with_only_no_data_has_no_uptime() -> None:
    window = rollup_window([Transition(hours_ago(30), None, UNKNOWN)], hours_ago(24), NOW)

    assert window.uptime is None
    assert window.no_data == 24 * HOUR


def test_a_change_exactly_at_the_window_start_counts_from_there() -> None:
    transitions = [Transition(hours_ago(24), None, MAJOR), Transition(hours_ago(23), MAJOR, OK)]

    window = rollup_window(transitions, hours_ago(24), NOW)

    assert window.seconds == {MAJOR: HOUR, OK: 23 * HOUR}


# --- the longer windows, from rollups ------------------------------------------


def put_rollups(store: Store, *rollups: DayRollup) -> None:
    with store.transaction() as conn:
        store.upsert_rollups(conn, "api", rollups, NOW)


@pytest.fixture
def app(sqlite_store: Store) -> Flask:
    config = parse_config(
        {
            "site": {"title": "Acme Status"},
            "defaults": {"interval": "30s", "confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://x/"}],
                }
            ],
        },
        env={},
    )
    Monitor(config, sqlite_store, FakeClock(NOW - timedelta(days=100))).start()
    app = create_app(config, sqlite_store, FakeClock(NOW))
    app.testing = True
    return app


def test_rollup_windows_skip_no_data_days_and_weigh_partial_outages(
    app: Flask, sqlite_store: Store
) -> None:
    today = date(2026, 9, 15)
    day = 24 * HOUR
    put_rollups(
        sqlite_store,
        DayRollup(today, {OK: 12 * HOUR}),  # so far today
        DayRollup(today - timedelta(days=1), {UNKNOWN: day}),  # only no data
        DayRollup(today - timedelta(days=6), {OK: day / 2, PARTIAL: day / 2}),
        DayRollup(today - timedelta(days=7), {MAJOR: day}),  # just outside 7 days
        DayRollup(today - timedelta(days=89), {MAJOR: day}),  # the 90th day
        DayRollup(today - timedelta(days=90), {MAJOR: day}),  # outside every window
    )

    windows = uptime_windows(sqlite_store, "api", NOW, UTC_ZONE)[1:]

    assert windows[0] == UptimeWindow("7 days", 1 - 0.3 * 12 / 36, day)
    assert windows[1].uptime == pytest.approx(1 - (0.3 * 12 + 24) / 60)
    assert windows[2].uptime == pytest.approx(1 - (0.3 * 12 + 48) / 84)
    assert [w.no_data_seconds for w in windows] == [day, day, day]


def test_a_component_with_only_no_data_shows_no_data_not_zero(
    app: Flask, sqlite_store: Store
) -> None:
    put_rollups(sqlite_store, DayRollup(date(2026, 9, 15), {UNKNOWN: 12 * HOUR}))

    windows = uptime_windows(sqlite_store, "api", NOW, UTC_ZONE)

    assert [w.uptime for w in windows[1:]] == [None, None, None]
    html = app.test_client().get("/components/api").get_data(as_text=True)
    assert "<dt>Last 7 days</dt>" in html
    assert "no data for 12 h, not counted" in html
    assert "partial outage as 30&nbsp;% downtime" in html


def test_the_page_draws_the_response_times_as_inline_svg(app: Flask, sqlite_store: Store) -> None:
    with sqlite_store.transaction() as conn:
        for minutes, latency in ((10, 20.0), (11, 40.0), (200, 30.0)):
            result = CheckResult(NOW - timedelta(minutes=minutes), OK, "HTTP 200", latency)
            sqlite_store.insert_result(conn, "api/health", result)

    response = app.test_client().get("/components/api")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") == 2
    # Drawn on the server: the page's one script only localizes times.
    assert html.count("<script") == 1
    assert re.search(r'<script src="/static/localtime\.js\?v=[0-9a-f]{12}" defer>', html)
    assert (
        'aria-label="Response time, last 24 hours: median 30 ms, slowest 40 ms; '
        'data in 3 of 288 intervals."' in html  # 5-minute buckets
    )
    assert (
        "<title>Response time, last 7 days: median 30 ms, slowest 40 ms; "
        "data in 2 of 168 intervals.</title>" in html  # hourly buckets
    )
    for d in re.findall(r'<path class="line-\w+" d="([^"]*)"', html):
        assert re.fullmatch(r"[MLH0-9. -]+", d), d


def test_a_component_without_results_says_there_is_no_chart_data(app: Flask) -> None:
    html = app.test_client().get("/components/api").get_data(as_text=True)

    assert "Response time, last 24 hours: no response-time data." in html
    assert '<path class="line-p50"' not in html
