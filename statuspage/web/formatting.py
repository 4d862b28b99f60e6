"""Numbers and durations as the pages write them (also Jinja filters), and
the cells of the uptime bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache

from markupsafe import Markup, escape

from statuspage.uptime import DayBar, UptimeBar, read_cell


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
    return _day_text(bar.day) + _day_summary(bar)


def _day_text(day: date) -> str:
    return f"{day:%b %d, %Y}: "


def _day_summary(bar: DayBar) -> str:
    if bar.worst is None:
        return "no data"
    text = f"{percent(bar.uptime)} uptime"
    if bar.worst.value != "operational":
        text += f", worst: {bar.worst.label}"
    if bar.no_data_seconds:
        text += f", no data for {duration(bar.no_data_seconds)}"
    return text


def bar_class(bar: DayBar) -> str:
    return f"s-{bar.worst.value}" if bar.worst is not None else "s-nodata"


# --- the bar's cells as HTML --------------------------------------------------
#
# A page of 50 components draws 4,500 cells. Built here rather than in a
# template loop, from two small caches: the day texts of a window, and what
# a stored cell says (the same text for every day and component with the
# same figures, so most cells repeat). Every value put into the HTML is
# escaped; the rest is literal.

CELL_CACHE_SIZE = 4096


def bar_cells(bar: UptimeBar, incidents: Mapping[date, Sequence[str]] | None = None) -> Markup:
    """The `<li>` cells of a bar, oldest first, as the `bars` macro shows
    them: the label as tooltip and as hidden text for screen readers, with
    the titles of that day's incidents (`incidents` by local day)."""
    incidents = incidents or {}
    first = bar.last_day - timedelta(days=len(bar.cells) - 1)
    cells = []
    for n, (day, (css, summary)) in enumerate(
        zip(_day_texts(bar.last_day, len(bar.cells)), map(_cell_html, bar.cells), strict=True)
    ):
        titles = incidents.get(first + timedelta(days=n))
        if titles:
            summary += str(escape(incidents_text(titles)))
        cells.append(
            f'\n  <li class="bar {css}" title="{day}{summary}">'
            f'<span class="visually-hidden">{day}{summary}</span></li>'
        )
    return Markup("".join(cells))  # noqa: S704 -- every part escaped above or literal


def incidents_text(titles: Sequence[str]) -> str:
    """What a bar's day says of its incidents."""
    word = "incident" if len(titles) == 1 else "incidents"
    return f"; {word}: " + "; ".join(titles)


@lru_cache(maxsize=16)
def _day_texts(last_day: date, days: int) -> tuple[str, ...]:
    first = last_day - timedelta(days=days - 1)
    return tuple(str(escape(_day_text(first + timedelta(days=n)))) for n in range(days))


@lru_cache(maxsize=CELL_CACHE_SIZE)
def _cell_html(cell: str) -> tuple[str, str]:
    """The escaped class and summary of a stored cell (its day aside)."""
    bar = read_cell(date.min, cell)
    return str(escape(bar_class(bar))), str(escape(_day_summary(bar)))
