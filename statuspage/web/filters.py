"""Jinja filters for times, percentages and statuses."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.markdown import render_markdown_markup
from statuspage.web.formatting import bar_cells, duration, percent


def register(app: Flask, config: Config) -> None:
    tz = config.site.tz

    def localtime(value: datetime | None, fmt: str = "%b %d, %H:%M %Z") -> str:
        if value is None:
            return "never"
        return value.astimezone(tz).strftime(fmt)

    def isotime(value: datetime | None) -> str:
        return value.isoformat(timespec="seconds") if value else ""

    def status_label(value: ComponentStatus | str | None) -> str:
        if value is None:
            return "No data"
        return ComponentStatus(value).label

    def status_word(value: object) -> str:
        """`investigating` -> `Investigating`, `in_progress` -> `In progress`."""
        text = str(getattr(value, "value", value)).replace("_", " ")
        return text[:1].upper() + text[1:]

    app.jinja_env.filters.update(
        markdown=render_markdown_markup,
        status_word=status_word,
        localtime=localtime,
        isotime=isotime,
        percent=percent,
        duration=duration,
        bar_cells=bar_cells,
        status_label=status_label,
    )
