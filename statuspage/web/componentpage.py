"""What a component's own page adds to the home page's view: uptime over
several windows and response-time charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.store import CheckRow, Store
from statuspage.uptime import local_day, rollup_window, uptime_over
from statuspage.web.charts import Chart, bucket_latencies, draw_chart

# The last 24 h is read from transitions (a rolling window is not a
# calendar day); the longer windows from daily rollups, today included.
ROLLUP_WINDOW_DAYS = (7, 30, 90)
DAY = timedelta(days=1)
CHARTS = (
    # title, span, bucket, axis time format
    ("Response time, last 24 hours", timedelta(hours=24), timedelta(minutes=5), "%H:%M"),
    ("Response time, last 7 days", timedelta(days=7), timedelta(hours=1), "%b %d"),
)


@dataclass(frozen=True)
class UptimeWindow:
    label: str  # "24 hours", "7 days"
    uptime: float | None  # None: no data at all in the window
    no_data_seconds: float


def uptime_windows(
    store: Store, component_id: str, now: datetime, tz: ZoneInfo
) -> list[UptimeWindow]:
    since = now - DAY
    day = rollup_window(store.transitions(component_id, since=since), since, now)
    windows = [UptimeWindow("24 hours", day.uptime, day.no_data)]
    today = local_day(now, tz)
    longest = max(ROLLUP_WINDOW_DAYS)
    rollups = store.rollups([component_id], today - timedelta(days=longest - 1), today)[
        component_id
    ]
    for days in ROLLUP_WINDOW_DAYS:
        first = today - timedelta(days=days - 1)
        uptime, no_data = uptime_over(r for r in rollups if r.day >= first)
        windows.append(UptimeWindow(f"{days} days", uptime, no_data))
    return windows


def latency_charts(
    store: Store, checks: Sequence[CheckRow], now: datetime, tz: ZoneInfo
) -> list[Chart]:
    """One chart per span over the latencies of all the component's checks."""
    longest = max(span for _, span, _, _ in CHARTS)
    samples = [
        (r.at, r.latency_ms)
        for check in checks
        for r in store.results_between(check.id, now - longest, now)
    ]
    charts = []
    for title, span, step, time_format in CHARTS:
        buckets = bucket_latencies(samples, now - span, now, step)
        charts.append(draw_chart(buckets, title, tz, time_format))
    return charts
