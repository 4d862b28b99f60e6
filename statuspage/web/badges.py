"""Shields-style flat status badges: the geometry and colours, as numbers
and plain text. `templates/badge.svg.xml` draws them with autoescaping."""

from __future__ import annotations

from dataclasses import dataclass

from statuspage.domain import ComponentStatus, Indicator

HEIGHT = 20
PADDING = 6  # each side of a text
# Readable under white text; the page's own status colours.
STATUS_COLOURS = {
    ComponentStatus.OPERATIONAL: "#1f8a4c",
    ComponentStatus.DEGRADED_PERFORMANCE: "#b7791f",
    ComponentStatus.PARTIAL_OUTAGE: "#d9620b",
    ComponentStatus.MAJOR_OUTAGE: "#c9302c",
    ComponentStatus.UNDER_MAINTENANCE: "#2f6fdb",
    ComponentStatus.UNKNOWN: "#6b7483",
}
INDICATOR_COLOURS = {
    Indicator.NONE: STATUS_COLOURS[ComponentStatus.OPERATIONAL],
    Indicator.MINOR: STATUS_COLOURS[ComponentStatus.DEGRADED_PERFORMANCE],
    Indicator.MAJOR: STATUS_COLOURS[ComponentStatus.PARTIAL_OUTAGE],
    Indicator.CRITICAL: STATUS_COLOURS[ComponentStatus.MAJOR_OUTAGE],
    Indicator.MAINTENANCE: STATUS_COLOURS[ComponentStatus.UNDER_MAINTENANCE],
}
# Approximate advance widths of Verdana 11 px, the font shields.io measures.
NARROW = set("iIjlt.,:;|!'()[] ")
WIDE = set("mwMW@%")
MAX_TEXT = 60  # characters; a longer name is cut with an ellipsis


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    colour: str

    @property
    def label_width(self) -> int:
        return text_width(self.label) + 2 * PADDING

    @property
    def message_width(self) -> int:
        return text_width(self.message) + 2 * PADDING

    @property
    def width(self) -> int:
        return self.label_width + self.message_width

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def title(self) -> str:
        return f"{self.label}: {self.message}"


def text_width(text: str) -> int:
    width = 0.0
    for ch in text:
        if ch in NARROW:
            width += 3.5
        elif ch in WIDE:
            width += 10.5
        elif ch.isupper() or ch.isdigit():
            width += 7.5
        else:
            width += 6.5
    return round(width)


def shortened(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def component_badge(name: str, status: ComponentStatus) -> Badge:
    return Badge(shortened(name), status.label, STATUS_COLOURS[status])


def page_badge(title: str, indicator: Indicator, status_line: str) -> Badge:
    return Badge(shortened(title), status_line, INDICATOR_COLOURS[indicator])
