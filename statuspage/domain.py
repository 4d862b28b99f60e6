"""Domain values, spelled as Atlassian Statuspage spells them. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"
    # Our own: no fresh data. Silence is not health.
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        """How bad a status is; the worst of several has the highest severity.

        `unknown` is not on this scale: it is the absence of data, and the
        rules that combine statuses leave it out before comparing.
        """
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 0,
    ComponentStatus.DEGRADED_PERFORMANCE: 1,
    ComponentStatus.PARTIAL_OUTAGE: 2,
    ComponentStatus.MAJOR_OUTAGE: 3,
    ComponentStatus.UNKNOWN: -1,
}

_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded Performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial Outage",
    ComponentStatus.MAJOR_OUTAGE: "Major Outage",
    ComponentStatus.UNDER_MAINTENANCE: "Under Maintenance",
    ComponentStatus.UNKNOWN: "No Data",
}

# Statuses a check can observe: a check never claims maintenance.
CHECK_STATUSES = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
    ComponentStatus.UNKNOWN,
)


class Indicator(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"


INDICATOR_DESCRIPTIONS = {
    Indicator.NONE: "All Systems Operational",
    Indicator.MINOR: "Minor Service Outage",
    Indicator.MAJOR: "Partial System Outage",
    Indicator.CRITICAL: "Major System Outage",
    Indicator.MAINTENANCE: "Service Under Maintenance",
}


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"


class IncidentImpact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class MaintenanceStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


def worst_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus | None:
    """The most severe known status, or None when none is known."""
    known = [s for s in statuses if s is not ComponentStatus.UNKNOWN]
    if not known:
        return None
    return max(known, key=lambda s: s.severity)


def page_indicator(statuses: Iterable[ComponentStatus]) -> Indicator:
    """The page's overall indicator from its components' statuses.

    One broken component does not paint the page red: `critical` needs every
    component to be in a major outage. Components without data count as a
    minor problem: we cannot vouch for them.
    """
    statuses = list(statuses)
    if not statuses:
        return Indicator.NONE
    known = [s for s in statuses if s is not ComponentStatus.UNKNOWN]
    if all(s is ComponentStatus.MAJOR_OUTAGE for s in statuses):
        return Indicator.CRITICAL
    worst = worst_status(statuses)
    if worst in (ComponentStatus.MAJOR_OUTAGE, ComponentStatus.PARTIAL_OUTAGE):
        return Indicator.MAJOR
    if worst is ComponentStatus.DEGRADED_PERFORMANCE or len(known) < len(statuses):
        return Indicator.MINOR
    if ComponentStatus.UNDER_MAINTENANCE in statuses:
        return Indicator.MAINTENANCE
    return Indicator.NONE


def page_description(statuses: Iterable[ComponentStatus]) -> str:
    """The status line shown on the page (Statuspage's wording, plus no-data)."""
    statuses = list(statuses)
    indicator = page_indicator(statuses)
    known = [s for s in statuses if s is not ComponentStatus.UNKNOWN]
    if statuses and not known:
        return "Status Unknown: No Monitoring Data"
    if indicator is Indicator.MINOR and worst_status(known) in (
        None,
        ComponentStatus.OPERATIONAL,
        ComponentStatus.UNDER_MAINTENANCE,
    ):
        return "Some Systems Have No Monitoring Data"
    return INDICATOR_DESCRIPTIONS[indicator]
