"""Automatic incidents through the monitor: the first word comes from us.

Results are fed by hand with a fake clock (no sleeps); the store runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE


def config(**incidents: object) -> Config:
    return parse_config(
        {
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2},
            "incidents": incidents,
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "h", "type": "http", "url": "http://a/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "h", "type": "http", "url": "http://p/"}],
                },
            ],
        },
        env={},
    )


def feed(monitor: Monitor, clock: FakeClock, component: str, status: ComponentStatus) -> None:
    monitor.record(
        f"{component}/h",
        CheckResult(clock(), status, "status 200" if status is OK else "status (500) == 200"),
    )


def healthy_start(monitor: Monitor, clock: FakeClock) -> None:
    monitor.start()
    feed(monitor, clock, "api", OK)
    feed(monitor, clock, "payments", OK)


def test_a_confirmed_outage_opens_a_public_incident_with_the_first_word(
    store: Store, clock: FakeClock
) -> None:
    monitor = Monitor(config(), store, clock)
    healthy_start(monitor, clock)
    assert monitor.incidents.unresolved() == []
    clock.advance(30)
    feed(monitor, clock, "payments", DOWN)
    assert monitor.incidents.unresolved() == []  # one failure is not confirmed
    clock.advance(30)
    feed(monitor, clock, "payments", DOWN)
    (incident,) = monitor.incidents.unresolved()
    assert incident.status is IncidentStatus.INVESTIGATING
    assert incident.source == "automatic"
    assert incident.published_at is not None
    assert dict(incident.components) == {"payments": DOWN}
    detail = monitor.incidents.detail(incident.id)
    assert detail is not None
    (first,) = detail.updates
    assert first.body == "We are investigating an outage of Payments."
    assert first.author == "automation"
    # Dated when the outage began (the first failing result), not when confirmed.
    assert first.display_at == clock() - timedelta(seconds=30)


def test_a_second_component_joins_and_recovery_moves_to_monitoring_then_resolved(
    store: Store, clock: FakeClock
) -> None:
    monitor = Monitor(config(monitoring_after="5m", resolve_after="30m"), store, clock)
    healthy_start(monitor, clock)
    for _ in range(2):
        clock.advance(30)
        feed(monitor, clock, "payments", DOWN)
        feed(monitor, clock, "api", DOWN)
    (incident,) = monitor.incidents.unresolved()
    assert dict(monitor.incidents.get(incident.id).components) == {"payments": DOWN, "api": DOWN}  # type: ignore[union-attr]
    assert monitor.incidents.get(incident.id).impact is IncidentImpact.CRITICAL  # type: ignore[union-attr]

    for _ in range(2):
        clock.advance(30)
        feed(monitor, clock, "payments", OK)
        feed(monitor, clock, "api", OK)
    recovered_at = clock()
    clock.now = recovered_at + timedelta(minutes=5) - timedelta(seconds=31)
    monitor.tick_incidents()
    assert monitor.incidents.get(incident.id).status is IncidentStatus.INVESTIGATING  # type: ignore[union-attr]
    clock.now = recovered_at + timedelta(minutes=5)
    monitor.tick_incidents()
    assert monitor.incidents.get(incident.id).status is IncidentStatus.MONITORING  # type: ignore[union-attr]
    clock.now = recovered_at + timedelta(minutes=40)
    monitor.tick_incidents()
    resolved = monitor.incidents.get(incident.id)
    assert resolved is not None and resolved.status is IncidentStatus.RESOLVED
    detail = monitor.incidents.detail(incident.id)
    assert detail is not None
    assert [u.status for u in detail.updates] == [
        IncidentStatus.RESOLVED,
        IncidentStatus.MONITORING,
        IncidentStatus.INVESTIGATING,
        IncidentStatus.INVESTIGATING,
    ]


def test_draft_policy_waits_for_a_person(store: Store, clock: FakeClock) -> None:
    monitor = Monitor(config(automatic="draft"), store, clock)
    healthy_start(monitor, clock)
    for _ in range(2):
        clock.advance(30)
        feed(monitor, clock, "payments", DOWN)
    assert monitor.incidents.unresolved() == []  # not public
    (draft,) = monitor.incidents.drafts()
    assert draft.published_at is None


def test_a_status_set_by_staff_wins_and_opens_no_incident(store: Store, clock: FakeClock) -> None:
    monitor = Monitor(config(), store, clock)
    healthy_start(monitor, clock)
    with store.transaction() as conn:
        monitor.incidents.set_override(
            conn, "payments", OK, set_by="user:alice", now=clock(), reason="known flaky probe"
        )
    for _ in range(3):
        clock.advance(30)
        feed(monitor, clock, "payments", DOWN)
    assert monitor.component_status("payments") is OK
    assert monitor.incidents.unresolved() == []
    assert monitor.incidents.drafts() == []


def test_no_data_never_opens_an_incident(store: Store, clock: FakeClock) -> None:
    monitor = Monitor(config(), store, clock)
    healthy_start(monitor, clock)
    for _ in range(3):
        clock.advance(30)
        monitor.record(
            "payments/h",
            CheckResult(clock(), ComponentStatus.UNKNOWN, "Prometheus: query returned no data"),
        )
    monitor.reevaluate()
    assert monitor.component_status("payments") is ComponentStatus.UNKNOWN
    assert monitor.incidents.unresolved() == [] and monitor.incidents.drafts() == []


def test_automation_writes_the_audit_log_too(store: Store, clock: FakeClock) -> None:
    from statuspage import audit

    monitor = Monitor(config(), store, clock)
    healthy_start(monitor, clock)
    for _ in range(2):
        clock.advance(30)
        feed(monitor, clock, "payments", DOWN)
    (incident,) = monitor.incidents.unresolved()
    (entry,) = audit.recent(store, 10, 0)
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (
        "automation",
        "incident.OpenIncident",
        "incident",
        incident.id,
    )
    assert entry.before is None
    assert entry.after is not None and entry.after["title"] == "Payments outage"
