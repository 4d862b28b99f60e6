"""Maintenance windows through the monitor: components show under
maintenance, failures open no incident, and the checks take over after."""

from __future__ import annotations

from datetime import timedelta

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus, MaintenanceStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE
MAINT = ComponentStatus.UNDER_MAINTENANCE


def test_a_window_covers_its_components_and_silences_automatic_incidents(
    store: Store, clock: FakeClock
) -> None:
    config = parse_config(
        {
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2},
            "components": [
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "h", "type": "http", "url": "http://p/"}],
                },
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "h", "type": "http", "url": "http://a/"}],
                },
            ],
        },
        env={},
    )
    monitor = Monitor(config, store, clock)
    monitor.start()
    start = clock() + timedelta(minutes=10)
    maintenance = monitor.maintenance.create(
        title="Database upgrade",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        timezone="Europe/Berlin",
        components=["payments"],
        created_by="user:alice",
        now=clock(),
    )

    def feed(status: ComponentStatus) -> None:
        monitor.record("payments/h", CheckResult(clock(), status, "x"))
        monitor.record("api/h", CheckResult(clock(), OK, "ok"))

    feed(OK)
    clock.now = start - timedelta(seconds=1)
    monitor.apply_maintenance()
    assert monitor.component_status("payments") is OK
    clock.now = start
    monitor.apply_maintenance()
    assert monitor.component_status("payments") is MAINT
    assert monitor.component_status("api") is OK
    payments = store.component("payments")
    assert (
        payments is not None and payments.status_reason == "scheduled maintenance: Database upgrade"
    )

    for _ in range(3):  # the work takes the service down: expected, no incident
        clock.advance(30)
        feed(DOWN)
    assert monitor.component_status("payments") is MAINT
    assert monitor.incidents.unresolved() == [] and monitor.incidents.drafts() == []

    for _ in range(2):
        clock.advance(30)
        feed(OK)
    clock.now = start + timedelta(hours=1)
    monitor.apply_maintenance()
    assert monitor.component_status("payments") is OK
    done = monitor.maintenance.get(maintenance.id)
    assert done is not None and done.status is MaintenanceStatus.COMPLETED
    assert [u.status for u in done.updates] == [
        MaintenanceStatus.SCHEDULED,
        MaintenanceStatus.IN_PROGRESS,
        MaintenanceStatus.COMPLETED,
    ]
    assert [tr.new for tr in store.transitions("payments")][-2:] == [MAINT, OK]


def test_still_broken_after_the_window_is_an_outage_then(store: Store, clock: FakeClock) -> None:
    config = parse_config(
        {
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2},
            "components": [
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "h", "type": "http", "url": "http://p/"}],
                }
            ],
        },
        env={},
    )
    monitor = Monitor(config, store, clock)
    monitor.start()
    monitor.maintenance.create(
        title="Upgrade",
        starts_at=clock(),
        ends_at=clock() + timedelta(minutes=30),
        timezone="UTC",
        components=["payments"],
        created_by="user:alice",
        now=clock(),
    )
    monitor.apply_maintenance()
    for _ in range(3):
        clock.advance(30)
        monitor.record("payments/h", CheckResult(clock(), DOWN, "status (500) == 200"))
    assert monitor.component_status("payments") is MAINT
    clock.now += timedelta(minutes=30)
    monitor.apply_maintenance()
    assert monitor.component_status("payments") is DOWN
    (incident,) = monitor.incidents.unresolved()
    assert dict(incident.components) == {"payments": DOWN}


def test_public_page_shows_upcoming_maintenance_in_its_zone_with_a_countdown(
    store: Store, clock: FakeClock
) -> None:
    from statuspage.web import create_app

    config = parse_config({"components": [{"id": "payments", "name": "Payments"}]}, env={})
    monitor = Monitor(config, store, clock)
    monitor.start()
    start = clock() + timedelta(days=2, hours=3)  # 2026-09-17 08:00 UTC
    monitor.maintenance.create(
        title="Database <upgrade>",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        timezone="Europe/Berlin",
        components=["payments"],
        created_by="user:alice",
        now=clock(),
        body="Payments may be **unavailable**.",
    )
    app = create_app(config, store, clock)
    html = app.test_client().get("/").get_data(as_text=True)
    section = html[
        html.index('aria-label="Scheduled maintenance"') : html.index('aria-label="Components"')
    ]
    assert "Database &lt;upgrade&gt;" in section
    assert "Thu, Sep 17, 10:00 CEST until 12:00 CEST" in section
    assert "starts in 2 days 3 hours" in section
    assert "<strong>unavailable</strong>" in section
    assert "Affects: Payments." in section
    clock.now = start
    monitor.apply_maintenance()
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'aria-label="Maintenance in progress"' in html
    assert "Under maintenance: Payments." in html
