"""Response-time charts drawn on the server as SVG geometry. Pure functions.

Latencies are grouped into fixed buckets; each bucket gives its median and
its maximum. A bucket without a sample is a gap in the line, never a zero:
silence is not a fast answer. The output is numbers and plain text only;
the template (`_chart.html`) turns it into markup with autoescaping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

WIDTH = 640
HEIGHT = 200
# Room for the axis labels: left for milliseconds, bottom for times.
MARGIN_LEFT = 48
MARGIN_RIGHT = 8
MARGIN_TOP = 10
MARGIN_BOTTOM = 24
Y_TICKS = 4
X_TICKS = 6


@dataclass(frozen=True)
class Bucket:
    start: datetime
    p50_ms: float | None  # None: no sample in this bucket
    max_ms: float | None
    samples: int


@dataclass(frozen=True)
class AxisLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    summary: str  # what a screen reader says instead of the picture
    width: int
    height: int
    p50_path: str  # SVG path data; "" when there is nothing to draw
    max_path: str
    x_labels: list[AxisLabel]
    y_labels: list[AxisLabel]
    grid: list[float]  # y of the horizontal grid lines
    plot_left: float
    plot_right: float
    plot_bottom: float

    @property
    def empty(self) -> bool:
        return not self.p50_path


def bucket_latencies(
    samples: Iterable[tuple[datetime, float | None]],
    start: datetime,
    end: datetime,
    step: timedelta,
) -> list[Bucket]:
    """Samples (time, latency in ms or None) into buckets of `step` from
    `start` to `end`; samples outside, or without a latency, are left out."""
    count = max(1, math.ceil((end - start) / step))
    values: list[list[float]] = [[] for _ in range(count)]
    for at, latency in samples:
        if latency is None or at < start or at >= end:
            continue
        values[int((at - start) / step)].append(latency)
    return [
        Bucket(
            start + i * step,
            median(v) if v else None,
            max(v) if v else None,
            len(v),
        )
        for i, v in enumerate(values)
    ]


def path_data(points: Sequence[tuple[float, float] | None]) -> str:
    """SVG path data through the points; None breaks the line (a gap). A
    lone point between gaps becomes a short dash so it stays visible."""
    parts: list[str] = []
    run: list[tuple[float, float]] = []

    def flush() -> None:
        if len(run) == 1:
            x, y = run[0]
            parts.append(f"M{x - 1:.1f} {y:.1f}H{x + 1:.1f}")
        elif run:
            parts.append(
                "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in run),
            )
        run.clear()

    for point in points:
        if point is None:
            flush()
        else:
            run.append(point)
    flush()
    return "".join(parts)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def milliseconds_text(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def draw_chart(
    buckets: Sequence[Bucket],
    title: str,
    tz: ZoneInfo,
    time_format: str = "%H:%M",
) -> Chart:
    """Scale the buckets to the plot area: p50 and max lines, axis labels
    and a text summary (median of medians, worst maximum, coverage)."""
    plot_left, plot_right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    maxima = [b.max_ms for b in buckets if b.max_ms is not None]
    top = nice_ceiling(max(maxima, default=0.0))
    n = len(buckets)

    def x_of(i: int) -> float:
        # Each bucket is drawn at its middle.
        return plot_left + (i + 0.5) * (plot_right - plot_left) / max(n, 1)

    def y_of(ms: float) -> float:
        return plot_bottom - (ms / top) * (plot_bottom - plot_top)

    p50 = [
        (x_of(i), y_of(b.p50_ms)) if b.p50_ms is not None else None for i, b in enumerate(buckets)
    ]
    worst = [
        (x_of(i), y_of(b.max_ms)) if b.max_ms is not None else None for i, b in enumerate(buckets)
    ]
    y_labels = [
        AxisLabel(plot_left - 6, y_of(top * k / Y_TICKS), milliseconds_text(top * k / Y_TICKS))
        for k in range(Y_TICKS + 1)
    ]
    every = max(1, n // X_TICKS)
    x_labels = [
        AxisLabel(x_of(i), float(HEIGHT - 6), buckets[i].start.astimezone(tz).strftime(time_format))
        for i in range(0, n, every)
    ]
    return Chart(
        title=title,
        summary=chart_summary(buckets, title),
        width=WIDTH,
        height=HEIGHT,
        p50_path=path_data(p50),
        max_path=path_data(worst),
        x_labels=x_labels,
        y_labels=y_labels,
        grid=[label.y for label in y_labels],
        plot_left=plot_left,
        plot_right=plot_right,
        plot_bottom=plot_bottom,
    )


def chart_summary(buckets: Sequence[Bucket], title: str) -> str:
    with_data = [b for b in buckets if b.p50_ms is not None]
    if not with_data:
        return f"{title}: no response-time data."
    typical = median(b.p50_ms for b in with_data if b.p50_ms is not None)
    worst = max(b.max_ms for b in with_data if b.max_ms is not None)
    return (
        f"{title}: median {typical:.0f} ms, slowest {worst:.0f} ms; "
        f"data in {len(with_data)} of {len(buckets)} intervals."
    )
