"""The uptime bar's cells as HTML: built in Python from the stored cells,
the same markup the template loop wrote, every value escaped."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from jinja2 import Environment
from markupsafe import Markup

from statuspage.domain import ComponentStatus
from statuspage.uptime import DayBar, DayRollup, uptime_bar
from statuspage.web.formatting import bar_cells, bar_class, bar_label

OK = ComponentStatus.OPERATIONAL
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
UNKNOWN = ComponentStatus.UNKNOWN
TODAY = date(2026, 9, 15)

# The loop the template had before the cells were built in Python: the oracle.
TEMPLATE_LOOP = """
{%- for bar in bars %}{% set label = bar | bar_label %}
  <li class="bar {{ bar | bar_class }}" title="{{ label }}"><span class="visually-hidden">{{ label }}</span></li>
{%- endfor %}"""


def as_the_template_wrote_it(bars: list[DayBar]) -> str:
    env = Environment(autoescape=True)
    env.filters.update(bar_label=bar_label, bar_class=bar_class)
    return env.from_string(TEMPLATE_LOOP).render(bars=bars)


def test_a_cell_says_the_day_uptime_worst_status_and_time_without_data() -> None:
    rollups = [DayRollup(TODAY, {OK: 80000.0, PARTIAL: 3600.0, UNKNOWN: 2800.0})]
    html = bar_cells(uptime_bar(rollups, TODAY, days=2))
    label = "Sep 15, 2026: 98.71 % uptime, worst: Partial Outage, no data for 46 min"
    assert html == Markup(
        '\n  <li class="bar s-nodata" title="Sep 14, 2026: no data">'
        '<span class="visually-hidden">Sep 14, 2026: no data</span></li>'
        f'\n  <li class="bar s-partial_outage" title="{label}">'
        f'<span class="visually-hidden">{label}</span></li>'
    )


def test_cells_are_what_the_template_loop_wrote() -> None:
    rollups = [
        DayRollup(TODAY - timedelta(days=9), {OK: 86400.0}),
        DayRollup(TODAY - timedelta(days=8), {UNKNOWN: 86400.0}),
        DayRollup(TODAY - timedelta(days=7), {MAINTENANCE: 3600.0}),
        DayRollup(TODAY - timedelta(days=6), {OK: 40000.0, MAINTENANCE: 100.0}),
        DayRollup(TODAY - timedelta(days=5), {MAJOR: 86400.0}),
        DayRollup(TODAY - timedelta(days=4), {OK: 86399.9, MAJOR: 0.1}),
        DayRollup(TODAY - timedelta(days=3)),
        DayRollup(TODAY - timedelta(days=1), {OK: 1.0, UNKNOWN: 86399.0}),
    ]
    bar = uptime_bar(rollups, TODAY)
    assert str(bar_cells(bar)) == as_the_template_wrote_it(bar.days())
    # Called again, from the caches: the same.
    assert str(bar_cells(bar)) == as_the_template_wrote_it(bar.days())


def test_every_value_in_a_cell_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """No text in a cell comes from a user today; if one ever did (a
    translated label, say), it would still be escaped."""
    from statuspage.web import formatting

    monkeypatch.setattr(formatting, "_day_text", lambda day: '<b title="x">&</b> ')
    formatting._day_texts.cache_clear()
    try:
        html = bar_cells(uptime_bar([], TODAY, days=1))
    finally:
        formatting._day_texts.cache_clear()
    assert "<b" not in html
    assert "&lt;b title=&#34;x&#34;&gt;&amp;&lt;/b&gt; no data" in html
