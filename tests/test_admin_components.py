"""Component overrides in the admin: a person's status wins over the checks
at once, on the public page, until released; the dashboard and deploys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statuspage import audit
from statuspage.checks.base import CheckResult
from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from tests.admin_helpers import Site, make_site, public_status
from tests.conftest import FakeClock
from tests.test_admin_auth import post_form

OK = ComponentStatus.OPERATIONAL


@pytest.fixture
def site(monitor_config: Config, sqlite_store: Store, clock: FakeClock) -> Site:
    return make_site(monitor_config, sqlite_store, clock)


def feed(site: Site, status: ComponentStatus) -> None:
    for check in ("payments/health", "payments/canary"):
        site.monitor.record(check, CheckResult(site.clock(), status, "seen"))


def test_an_override_wins_at_once_and_until_released(site: Site) -> None:
    for _ in range(2):
        site.clock.advance(30)
        feed(site, OK)
    public = site.app.test_client()
    assert public_status(public, "payments") == "operational"
    editor = site.client("erin", "editor")

    answer = post_form(
        editor,
        "/admin/components",
        "/admin/components/payments/override",
        {"payments-status": "major_outage", "payments-reason": "card network down"},
    )
    assert answer.status_code == 302
    assert public_status(public, "payments") == "major_outage"  # at once, no check ran
    for _ in range(3):  # the checks say all is well: the person wins
        site.clock.advance(30)
        feed(site, OK)
    assert public_status(public, "payments") == "major_outage"
    page = editor.get("/admin/components").get_data(as_text=True)
    assert "card network down" in page and "user:erin" in page

    released = post_form(editor, "/admin/components", "/admin/components/payments/release", {})
    assert released.status_code == 302
    assert public_status(public, "payments") == "operational"
    assert IncidentRepository(site.store).overrides() == {}
    actions = [(e.actor, e.action, e.target_id) for e in audit.recent(site.store)[:2]]
    assert actions == [
        ("user:erin", "component.release", "payments"),
        ("user:erin", "component.override", "payments"),
    ]


def test_an_override_form_with_a_mistake_keeps_what_was_typed(site: Site) -> None:
    editor = site.client("erin", "editor")
    answer = post_form(
        editor,
        "/admin/components",
        "/admin/components/payments/override",
        {"payments-status": "partial_outage", "payments-reason": ""},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Say why." in html
    assert '<option selected value="partial_outage">' in html
    assert IncidentRepository(site.store).overrides() == {}


def test_a_viewer_reads_but_cannot_override(site: Site) -> None:
    viewer = site.client("vic", "viewer")
    page = viewer.get("/admin/components")
    assert page.status_code == 200 and "Set status" not in page.get_data(as_text=True)
    answer = post_form(
        viewer,
        "/admin/components",
        "/admin/components/payments/override",
        {"payments-status": "major_outage", "payments-reason": "x"},
    )
    assert answer.status_code == 403
    assert IncidentRepository(site.store).overrides() == {}


def test_the_dashboard_lists_blind_checks_and_recent_deploys(site: Site) -> None:
    feed(site, OK)
    site.clock.advance(minutes=10)  # no results since: stale
    site.monitor.reevaluate()
    repo = IncidentRepository(site.store)
    with site.store.transaction() as conn:
        repo.record_deployment(
            conn, "payments", "v2.14", at=site.clock(), now=site.clock(), who="ci",
            link="javascript:alert(1)",
        )  # fmt: skip
        repo.record_deployment(
            conn, "api", "v9", at=site.clock(), now=site.clock(), who="ci",
            link="https://ci.example/b/9",
        )  # fmt: skip
    html = site.client("vic", "viewer").get("/admin/").get_data(as_text=True)
    blind = html[html.index("Blind monitoring sources") : html.index("Recent deploys")]
    assert "Payments" in blind and "canary" in blind and "health" in blind
    assert "v2.14" in html and "scheduler has never run" in html
    assert 'href="javascript:' not in html
    assert '<a href="https://ci.example/b/9" rel="noopener noreferrer">' in html
    assert "0 drafts waiting" in html
    deploys = site.client("ed", "editor").get("/admin/deploys").get_data(as_text=True)
    assert "v2.14" in deploys and "v9" in deploys


def test_deploys_never_reach_public_pages(site: Site) -> None:
    with site.store.transaction() as conn:
        IncidentRepository(site.store).record_deployment(
            conn, "payments", "v2.14-secret", at=site.clock(), now=site.clock(), who="ci"
        )
    public = site.app.test_client()
    for path in ("/", "/components/payments", "/history"):
        answer = public.get(path)
        assert "v2.14-secret" not in answer.get_data(as_text=True), path
    site.clock.advance(timedelta(seconds=1).total_seconds())
