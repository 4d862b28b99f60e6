"""Domain values and the page's overall indicator and status line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuspage.domain import (
    CHECK_STATUSES,
    INDICATOR_DESCRIPTIONS,
    ComponentStatus,
    Indicator,
    page_description,
    page_indicator,
    worst_status,
)

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
UNKNOWN = ComponentStatus.UNKNOWN


def test_values_are_spelled_as_statuspage_spells_them():
    assert [s.value for s in ComponentStatus] == [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
        "unknown",
    ]
    assert [i.value for i in Indicator] == ["none", "minor", "major", "critical", "maintenance"]
    assert ComponentStatus("major_outage") is MAJOR


def test_labels():
    assert {s: s.label for s in ComponentStatus} == {
        OPERATIONAL: "Operational",
        DEGRADED: "Degraded Performance",
        PARTIAL: "Partial Outage",
        MAJOR: "Major Outage",
        MAINTENANCE: "Under Maintenance",
        UNKNOWN: "No Data",
    }


def test_severity_orders_the_known_statuses():
    assert OPERATIONAL.severity == MAINTENANCE.severity
    assert OPERATIONAL.severity < DEGRADED.severity < PARTIAL.severity < MAJOR.severity
    assert UNKNOWN.severity < OPERATIONAL.severity


def test_a_check_never_claims_maintenance():
    assert MAINTENANCE not in CHECK_STATUSES
    assert UNKNOWN in CHECK_STATUSES


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], None),
        ([UNKNOWN, UNKNOWN], None),
        ([UNKNOWN, OPERATIONAL], OPERATIONAL),
        ([OPERATIONAL, DEGRADED, UNKNOWN], DEGRADED),
        ([MAJOR, PARTIAL, OPERATIONAL], MAJOR),
    ],
)
def test_worst_status_leaves_unknown_out(statuses, worst):
    assert worst_status(statuses) is worst


@pytest.mark.parametrize(
    ("statuses", "indicator", "description"),
    [
        ([], Indicator.NONE, "All Systems Operational"),
        ([OPERATIONAL], Indicator.NONE, "All Systems Operational"),
        ([OPERATIONAL] * 5, Indicator.NONE, "All Systems Operational"),
        ([OPERATIONAL, DEGRADED], Indicator.MINOR, "Minor Service Outage"),
        ([OPERATIONAL, PARTIAL], Indicator.MAJOR, "Partial System Outage"),
        # One broken component among several does not paint the page red.
        ([MAJOR, OPERATIONAL, OPERATIONAL], Indicator.MAJOR, "Partial System Outage"),
        ([MAJOR, MAJOR, OPERATIONAL], Indicator.MAJOR, "Partial System Outage"),
        ([MAJOR, PARTIAL], Indicator.MAJOR, "Partial System Outage"),
        ([MAJOR, UNKNOWN], Indicator.MAJOR, "Partial System Outage"),
        ([MAJOR, MAINTENANCE], Indicator.MAJOR, "Partial System Outage"),
        ([MAJOR], Indicator.CRITICAL, "Major System Outage"),
        ([MAJOR, MAJOR, MAJOR], Indicator.CRITICAL, "Major System Outage"),
        # Unknown counts as a minor problem: we cannot vouch for it.
        ([OPERATIONAL, UNKNOWN], Indicator.MINOR, "Some Systems Have No Monitoring Data"),
        ([MAINTENANCE, UNKNOWN], Indicator.MINOR, "Some Systems Have No Monitoring Data"),
        ([DEGRADED, UNKNOWN], Indicator.MINOR, "Minor Service Outage"),
        ([PARTIAL, UNKNOWN], Indicator.MAJOR, "Partial System Outage"),
        ([UNKNOWN], Indicator.MINOR, "Status Unknown: No Monitoring Data"),
        ([UNKNOWN] * 4, Indicator.MINOR, "Status Unknown: No Monitoring Data"),
        ([MAINTENANCE], Indicator.MAINTENANCE, "Service Under Maintenance"),
        ([OPERATIONAL, MAINTENANCE], Indicator.MAINTENANCE, "Service Under Maintenance"),
        ([MAINTENANCE, DEGRADED], Indicator.MINOR, "Minor Service Outage"),
    ],
)
def test_page_indicator_and_description(statuses, indicator, description):
    assert page_indicator(statuses) is indicator
    assert page_description(statuses) == description
    # The order of the components does not matter, nor does an iterator.
    assert page_indicator(reversed(statuses)) is indicator
    assert page_description(iter(list(reversed(statuses)))) == description


def oracle_indicator(statuses: list[ComponentStatus]) -> Indicator:
    """The indicator rule, from the design's words."""
    if statuses and all(s is MAJOR for s in statuses):
        return Indicator.CRITICAL
    if any(s in (MAJOR, PARTIAL) for s in statuses):
        return Indicator.MAJOR
    if any(s in (DEGRADED, UNKNOWN) for s in statuses):
        return Indicator.MINOR
    if any(s is MAINTENANCE for s in statuses):
        return Indicator.MAINTENANCE
    return Indicator.NONE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(ComponentStatus)), max_size=8))
def test_indicator_matches_the_rule(statuses):
    indicator = page_indicator(statuses)
    assert indicator is oracle_indicator(statuses)
    description = page_description(statuses)
    if statuses and all(s is UNKNOWN for s in statuses):
        assert description == "Status Unknown: No Monitoring Data"
    elif indicator is Indicator.MINOR and DEGRADED not in statuses:
        assert description == "Some Systems Have No Monitoring Data"
    else:
        assert description == INDICATOR_DESCRIPTIONS[indicator]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(list(ComponentStatus)), min_size=1, max_size=8),
    st.sampled_from([s for s in ComponentStatus if s is not MAJOR]),
)
def test_critical_needs_every_component_down(statuses, other):
    # Adding one component that is not in a major outage never gives critical.
    assert page_indicator([*statuses, other]) is not Indicator.CRITICAL
    assert page_indicator([MAJOR] * len(statuses)) is Indicator.CRITICAL
