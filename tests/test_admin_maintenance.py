"""Scheduling maintenance in the admin: local times in a zone, field errors
that keep what was typed, components under maintenance at once, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from statuspage import audit
from statuspage.config import Config
from statuspage.store import Store
from statuspage.store.maintenance import MaintenanceRepository
from tests.admin_helpers import Site, make_site, public_status
from tests.conftest import FakeClock
from tests.test_admin_auth import post_form


@pytest.fixture
def site(monitor_config: Config, sqlite_store: Store, clock: FakeClock) -> Site:
    return make_site(monitor_config, sqlite_store, clock)


def schedule(site: Site, client, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "title": "Database upgrade",
        "body": "",
        "components": "payments",
        "starts_at": "2026-09-15T07:00",
        "ends_at": "2026-09-15T08:00",
        "timezone": "Europe/Berlin",
        "recurrence": "",
        "until": "",
        **fields,
    }
    return post_form(client, "/admin/maintenance", "/admin/maintenance", data)


def test_end_before_start_is_a_field_error_that_keeps_what_was_typed(site: Site) -> None:
    editor = site.client("erin", "editor")
    answer = schedule(
        site, editor, title="Swap disks", starts_at="2026-09-20T10:00", ends_at="2026-09-20T09:00"
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "The end must be after the start." in html
    assert 'value="Swap disks"' in html
    assert 'value="2026-09-20T10:00"' in html and 'value="2026-09-20T09:00"' in html
    assert '<option selected value="Europe/Berlin">' in html
    assert MaintenanceRepository(site.store).upcoming(site.clock()) == []


def test_a_local_time_that_does_not_exist_is_refused(site: Site) -> None:
    editor = site.client("erin", "editor")
    answer = schedule(site, editor, starts_at="2027-03-28T02:30", ends_at="2027-03-28T04:00")
    html = answer.get_data(as_text=True)
    assert "02:30 does not exist on" in html and "Europe/Berlin" in html
    assert 'value="2027-03-28T02:30"' in html
    garbled = schedule(site, editor, starts_at="next tuesday")
    assert 'value="next tuesday"' in garbled.get_data(as_text=True)
    assert MaintenanceRepository(site.store).upcoming(site.clock()) == []


def test_the_time_zone_defaults_to_the_site_one(site: Site) -> None:
    html = site.client("erin", "editor").get("/admin/maintenance").get_data(as_text=True)
    assert '<option selected value="UTC">' in html
    viewer = site.client("vic", "viewer").get("/admin/maintenance").get_data(as_text=True)
    assert "Schedule maintenance" not in viewer  # a viewer reads only


def test_an_active_window_shows_at_once_and_cancel_hands_back(site: Site) -> None:
    # Now is 05:00 UTC = 07:00 Berlin: a 06:30-08:00 Berlin window is running.
    editor = site.client("erin", "editor")
    public = site.app.test_client()
    answer = schedule(site, editor, starts_at="2026-09-15T06:30", ends_at="2026-09-15T08:00")
    assert answer.status_code == 302
    assert public_status(public, "payments") == "under_maintenance"
    stored = site.store.component("payments")
    assert stored is not None and stored.status.value == "under_maintenance"
    assert public_status(public, "api") != "under_maintenance"
    repo = MaintenanceRepository(site.store)
    (active,) = repo.active(site.clock())
    assert active.starts_at == datetime(2026, 9, 15, 4, 30, tzinfo=UTC)
    assert active.timezone == "Europe/Berlin"
    assert "Database upgrade" in editor.get("/admin/maintenance").get_data(as_text=True)

    cancelled = post_form(
        editor, "/admin/maintenance", f"/admin/maintenance/{active.id}/cancel", {}
    )
    assert cancelled.status_code == 302
    assert repo.active(site.clock()) == []
    assert public_status(public, "payments") != "under_maintenance"
    actions = [(e.actor, e.action) for e in audit.recent(site.store)[:2]]
    assert actions == [("user:erin", "maintenance.cancel"), ("user:erin", "maintenance.create")]


def test_a_viewer_cannot_schedule(site: Site) -> None:
    viewer = site.client("vic", "viewer")
    assert schedule(site, viewer).status_code == 403
    assert MaintenanceRepository(site.store).upcoming(site.clock()) == []
