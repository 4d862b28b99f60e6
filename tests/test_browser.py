"""The pages in a real browser: headless Chromium against the app on loopback.

Screenshots go to test-output/screenshots/ for a person to look at. The
reader's clock is set to the page's (injected) one, or the page would
rightly say that it is old.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from statuspage.auth import Role, hash_password
from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.users import UserRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.liveserver import browser, serve
from tests.test_validators import build_showcase

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.integration


@pytest.fixture
def site(sqlite_store: Store, clock: FakeClock) -> Iterator[tuple[str, Monitor]]:
    config = parse_config(
        {
            "site": {"title": "Acme Status"},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://a/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "canary", "type": "http", "url": "http://p/"}],
                },
                {"id": "projects", "name": "Projects", "group": "Workspace"},
            ],
        },
        env={},
    )
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    monitor.record(
        "api/health", CheckResult(clock(), ComponentStatus.OPERATIONAL, "status 200", latency_ms=40)
    )
    for _ in range(2):
        clock.advance(30)
        monitor.record(
            "payments/canary",
            CheckResult(
                clock(), ComponentStatus.MAJOR_OUTAGE, 'json $.status ("expired") == "active"'
            ),
        )
    monitor.beat()
    UserRepository(sqlite_store).create(
        "alice", Role.EDITOR, hash_password(PASSWORD), actor="cli", at=clock()
    )
    app = create_app(config, sqlite_store, clock)
    with serve(app) as url:
        yield url, monitor


def page_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize(("scheme", "width"), [("light", 1280), ("dark", 1280), ("light", 390)])
def test_home_page_renders_in_each_theme_without_errors(
    site: tuple[str, Monitor], clock: FakeClock, scheme: str, width: int
) -> None:
    url, _ = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser() as chromium:
        page = chromium.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
        errors = page_errors(page)
        page.clock.set_fixed_time(clock())
        page.goto(url + "/")
        assert page.inner_text("h1") == "Partial System Outage"
        assert (
            page.locator("#component-payments .status")
            .inner_text()
            .strip()
            .endswith("Major Outage")
        )
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        # The theme follows the reader's system setting.
        assert background == ("rgb(18, 21, 27)" if scheme == "dark" else "rgb(247, 248, 250)")
        # Nothing overflows a phone-sized window sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SCREENSHOTS / f"home-{scheme}-{width}.png"), full_page=True)
        assert errors == []  # no CSP violation, no script error


def test_staff_log_in_post_an_update_and_customers_see_it(site: tuple[str, Monitor]) -> None:
    url, monitor = site
    (incident,) = monitor.incidents.unresolved()  # opened by automation
    with browser() as chromium:
        staff = chromium.new_page()
        errors = page_errors(staff)
        staff.goto(url + "/admin/")
        assert "/admin/login" in staff.url  # behind login
        staff.fill("input[name=username]", "alice")
        staff.fill("input[name=password]", PASSWORD)
        staff.click("form button[type=submit]")
        assert staff.url.endswith("/admin/")
        staff.click("nav.admin-nav >> text=Incidents")
        staff.click(f"a[href='/admin/incidents/{incident.id}']")
        update = staff.locator(f"form[action='/admin/incidents/{incident.id}/updates']")
        update.locator("select[name=status]").select_option("identified")
        update.locator("textarea[name=body]").fill(
            "A payments deploy used the wrong config. **Rolling back.**"
        )
        update.locator("button[type=submit]").click()
        assert "A payments deploy used the wrong config." in staff.inner_text("body")
        staff.screenshot(path=str(SCREENSHOTS / "admin-incident.png"), full_page=True)
        assert errors == []

        customer = chromium.new_page()
        customer.goto(url + "/")
        latest = customer.locator(".incidents.active .incident").first
        assert "Identified" in latest.inner_text()
        assert latest.locator("strong", has_text="Rolling back.").count() == 1
        customer.click(f"a[href='/incidents/{incident.id}']")
        timeline = customer.locator("ol.timeline .update-status").all_inner_texts()
        assert timeline == ["Identified", "Investigating"]


def test_times_are_shown_in_the_readers_time_zone(
    site: tuple[str, Monitor], clock: FakeClock
) -> None:
    url, monitor = site
    (incident,) = monitor.incidents.unresolved()
    with browser() as chromium:
        context = chromium.new_context(timezone_id="America/New_York")
        page = context.new_page()
        errors = page_errors(page)
        page.clock.set_fixed_time(clock())
        page.goto(url + "/")
        updated = page.locator("footer time[data-generated]")
        # 05:01 UTC is 01:01 in New York (summer time); the page's own
        # wording stays as the title.
        assert updated.inner_text() == "Sep 15, 01:01 EDT"
        assert updated.get_attribute("title") == "Sep 15, 05:01 UTC"
        checked = page.locator("#component-api .checked time")
        assert checked.inner_text() == "01:00:00 EDT"
        page.goto(f"{url}/incidents/{incident.id}")
        started = page.locator("h1 + p time")  # 05:00:30 UTC, when payments went down
        assert started.inner_text() == "Sep 15, 2026 01:00 EDT"
        assert started.get_attribute("title") == "Sep 15, 2026 05:00 UTC"
        assert page.locator(".banner-old").count() == 0  # the page is fresh
        assert errors == []
        context.close()

        # Without JavaScript the page's own time zone stays.
        plain = chromium.new_context(timezone_id="America/New_York", java_script_enabled=False)
        page = plain.new_page()
        page.goto(url + "/")
        assert page.locator("footer time[data-generated]").inner_text() == "Sep 15, 05:01 UTC"
        plain.close()


def test_an_old_copy_of_the_page_says_so(site: tuple[str, Monitor], clock: FakeClock) -> None:
    """A CDN serving a stale copy, or an export nobody refreshes, must not
    pass for the current status (rule 1: silence is not health)."""
    url, _ = site
    with browser() as chromium:
        page = chromium.new_page()
        page.clock.set_fixed_time(clock() + timedelta(minutes=14))
        page.goto(url + "/")
        assert page.locator(".banner-old").count() == 0
        page.clock.set_fixed_time(clock() + timedelta(minutes=15))
        page.reload()
        assert page.locator(".banner-old").inner_text() == (
            "This page is 15 minutes old. The status shown may be out of date."
        )
        page.clock.set_fixed_time(clock() + timedelta(days=3))
        page.reload()
        assert page.locator(".banner-old strong").inner_text() == "This page is 3 days old."


@pytest.fixture
def showcase(sqlite_store: Store) -> Flask:
    """Every part of the pages at once (see test_validators)."""
    return build_showcase(sqlite_store)


@pytest.mark.parametrize(("scheme", "width"), [("light", 1280), ("dark", 1280), ("dark", 390)])
def test_every_part_of_the_pages_fits_each_theme_and_width(
    showcase: Flask, scheme: str, width: int
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    now = showcase.extensions["statuspage"]["clock"]()
    incident_id = showcase.extensions["statuspage"]["incident_id"]
    pages = {"home": "/", "incident": f"/incidents/{incident_id}", "component": "/components/api"}
    with serve(showcase) as url, browser() as chromium:
        page = chromium.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
        errors = page_errors(page)
        page.clock.set_fixed_time(now)
        for name, path in pages.items():
            page.goto(url + path)
            shot = SCREENSHOTS / f"showcase-{name}-{scheme}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert errors == []


def test_a_first_visit_loads_three_files_and_a_repeat_visit_one(
    sqlite_store: Store, clock: FakeClock
) -> None:
    """The page, its stylesheet and its script; the favicon is in the page.
    Then the stylesheet and script come from the browser's cache (their
    addresses carry their digest and are kept a year): another page, or `/`
    reloaded, is one request. Counted as they reach the server too, since
    Playwright's `request` event also fires for answers from the cache."""
    config = parse_config(
        {"site": {"title": "Acme Status"}, "components": [{"id": "api", "name": "API"}]}, env={}
    )
    Monitor(config, sqlite_store, clock).start()
    app = create_app(config, sqlite_store, clock)
    arrived: list[str] = []
    inner = app.wsgi_app

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        query = environ.get("QUERY_STRING")
        arrived.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        return inner(environ, start_response)

    app.wsgi_app = counted  # type: ignore[method-assign]
    with serve(app) as url, browser() as chromium:
        context = chromium.new_context()

        def visit(path: str, reload: bool = False) -> tuple[list[str], list[str]]:
            """A new tab in the same browser: what it asked for, what arrived."""
            page = context.new_page()
            errors = page_errors(page)
            page.clock.set_fixed_time(clock())
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url.removeprefix(url)))
            page.goto(url + path, wait_until="networkidle")
            if reload:
                arrived.clear()
                asked.clear()
                page.reload(wait_until="networkidle")
            page.close()
            assert errors == []
            return asked, list(arrived)

        asked, first = visit("/")
        assert sorted(first) == sorted(asked)  # nothing from a cache yet
        assert sorted(a.partition("?")[0] for a in first) == [
            "/",
            "/static/localtime.js",
            "/static/style.css",
        ]
        assert all(re.search(r"\?v=[0-9a-f]{12}$", a) for a in first if a != "/")

        arrived.clear()
        _, other_page = visit("/components/api")
        assert other_page == ["/components/api"]

        # `/` again, reloaded so that the browser asks for the page itself
        # (a 304) rather than taking it from its cache (max-age=10).
        _, reloaded = visit("/", reload=True)
        assert reloaded == ["/"]
        context.close()
