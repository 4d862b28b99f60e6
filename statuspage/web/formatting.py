"""Numbers and durations as the pages write them (also Jinja filters)."""

from __future__ import annotations

from statuspage.uptime import DayBar


def percent(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "no data"
    shown = f"{value * 100:.{digits}f}"
    # 99.999 must not round up to a misleading 100.00
    if value < 1 and float(shown) >= 100:
        shown = f"{99.99:.{digits}f}"
    return shown + " %"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"


def bar_label(bar: DayBar) -> str:
    """The tooltip and accessible label of one day of the uptime bar."""
    text = f"{bar.day:%b %d, %Y}: "
    if bar.worst is None:
        return text + "no data"
    text += f"{percent(bar.uptime)} uptime"
    if bar.worst.value != "operational":
        text += f", worst: {bar.worst.label}"
    if bar.no_data_seconds:
        text += f", no data for {duration(bar.no_data_seconds)}"
    return text


def bar_class(bar: DayBar) -> str:
    return f"s-{bar.worst.value}" if bar.worst is not None else "s-nodata"
