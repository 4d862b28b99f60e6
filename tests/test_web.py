"""The Flask app: public pages and operations endpoints, rendered for real."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from statuspage.web.assets import LONG_CACHE, StaticVersions
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE
# The page's one script, at its versioned address (statuspage.web.assets).
LOCALTIME_SCRIPT = r'<script src="/static/localtime\.js\?v=[0-9a-f]{12}" defer></script>'


def make_config() -> Config:
    return parse_config(
        {
            "site": {"title": "Acme <Status>", "timezone": "Europe/Berlin"},
            "defaults": {"interval": "30s", "timeout": "5s", "confirm_down": 2, "confirm_up": 2},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://x/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "group": "Billing",
                    "checks": [{"name": "canary", "type": "http", "url": "http://y/"}],
                },
                {"id": "docs", "name": "Docs <b>", "group": "Billing"},
            ],
        },
        env={},
    )


@pytest.fixture
def setup(sqlite_store: Store, clock: FakeClock) -> tuple[Flask, Monitor, FakeClock]:
    config = make_config()
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    return app, monitor, clock


def feed(
    monitor: Monitor, clock: FakeClock, check_id: str, status: ComponentStatus, reason: str
) -> None:
    monitor.record(check_id, CheckResult(clock(), status, reason, latency_ms=12.0))


def test_home_page_before_any_result_shows_no_data_not_operational(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, _, _ = setup
    html = app.test_client().get("/").get_data(as_text=True)
    assert "<h1>Some Systems Have No Monitoring Data</h1>" in html
    assert html.count('class="status s-unknown"') == 2
    assert html.count('class="status s-operational"') == 1  # docs: no checks, set by staff
    assert "Acme &lt;Status&gt;" in html and "Docs &lt;b&gt;" in html
    # One script, from our own origin (times in the reader's zone); none inline.
    assert html.count("<script") == 1 and re.search(LOCALTIME_SCRIPT, html)


def test_one_component_down_is_a_partial_outage_with_its_reason(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, monitor, clock = setup
    feed(monitor, clock, "api/health", OK, "status 200")
    feed(monitor, clock, "payments/canary", OK, "status 200")
    client = app.test_client()
    assert "<h1>All Systems Operational</h1>" in client.get("/").get_data(as_text=True)
    for _ in range(2):
        clock.advance(30)
        feed(monitor, clock, "payments/canary", DOWN, 'json $.status ("expired") == "active"')
        feed(monitor, clock, "api/health", OK, "status 200")
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Partial System Outage</h1>" in html
    assert 'class="overall i-major"' in html
    assert "canary: json $.status (&#34;expired&#34;) == &#34;active&#34;" in html
    assert (
        '<details class="group" open>' in html and '<span class="group-name">Billing</span>' in html
    )

    page = client.get("/components/payments").get_data(as_text=True)
    assert "<h1>Payments</h1>" in page
    assert "Major Outage" in page
    assert "No Data &rarr;" in page  # the transitions, newest first
    assert "in 12 ms" in page


def test_text_from_monitored_endpoints_is_data_never_markup(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, monitor, clock = setup
    hostile = 'json $.msg ("<script>alert(1)</script>{{ 7*7 }}") == "ok"'
    feed(monitor, clock, "api/health", DOWN, hostile)
    html = app.test_client().get("/components/api").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html


def test_uptime_bar_has_90_days_with_no_data_days_marked(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, monitor, clock = setup
    feed(monitor, clock, "api/health", OK, "status 200")
    clock.advance(hours=2)
    monitor.refresh_rollups()
    html = app.test_client().get("/").get_data(as_text=True)
    api = html[html.index('id="component-api"') : html.index('id="component-payments"')]
    assert api.count('<li class="bar ') == 90
    assert api.count('<li class="bar s-nodata"') == 89
    assert 'class="bar s-operational" title="Sep 15, 2026: 100.00 % uptime"' in api


def test_unknown_component_is_404(setup: tuple[Flask, Monitor, FakeClock]) -> None:
    app, _, _ = setup
    assert app.test_client().get("/components/nope").status_code == 404


def test_healthz_always_answers(setup: tuple[Flask, Monitor, FakeClock]) -> None:
    app, _, _ = setup
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_needs_a_beating_scheduler(setup: tuple[Flask, Monitor, FakeClock]) -> None:
    app, monitor, clock = setup
    client: FlaskClient = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["problems"] == ["the scheduler has not started"]
    monitor.beat()
    assert client.get("/readyz").status_code == 200
    clock.advance(timedelta(seconds=31).total_seconds())
    stalled = client.get("/readyz")
    assert stalled.status_code == 503
    assert stalled.json["problems"] == [
        "the scheduler has not reported since 2026-09-15 05:00:00 UTC"
    ]


def test_readyz_when_the_database_is_gone(setup: tuple[Flask, Monitor, FakeClock]) -> None:
    app, _, _ = setup
    app.extensions["statuspage"]["store"] = Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["problems"][0].startswith("database unreachable (")


def test_every_response_carries_the_security_headers(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, _, _ = setup
    client = app.test_client()
    for path in ("/", "/components/api", "/healthz", "/static/style.css", "/nope"):
        headers = client.get(path).headers
        assert "default-src 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_errors_show_a_page_without_internals(setup: tuple[Flask, Monitor, FakeClock]) -> None:
    app, _, _ = setup
    app.testing = False  # as in production: errors are handled, not raised

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret database password in a message")

    client = app.test_client()
    missing = client.get("/components/nope")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    broken = client.get("/boom")
    body = broken.get_data(as_text=True)
    assert broken.status_code == 500
    assert "Something went wrong" in body and "secret" not in body and "Traceback" not in body
    assert client.post("/", data="x" * 2_000_000).status_code in (405, 413)


def test_readyz_names_checks_that_lost_their_data_but_stays_ready(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, monitor, clock = setup
    monitor.beat()
    feed(monitor, clock, "api/health", OK, "status 200")
    for _ in range(2):
        clock.advance(30)
        feed(
            monitor,
            clock,
            "payments/canary",
            ComponentStatus.UNKNOWN,
            "Prometheus: query returned no data",
        )
    monitor.beat()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["blind"] == [
        {
            "component": "Payments",
            "check": "canary",
            "since": "2026-09-15T05:00:00+00:00",  # no data ever since the start
            "reason": "Prometheus: query returned no data",
        }
    ]


# --- static files: one request per page on a repeat visit ------------------------------


def static_links(html: str) -> dict[str, str]:
    """Every /static address a page names: file name -> its `v`."""
    return dict(re.findall(r'"/static/([\w./-]+)\?v=([0-9a-f]+)"', html))


def test_static_addresses_carry_the_files_digest_and_are_kept_a_year(
    setup: tuple[Flask, Monitor, FakeClock],
) -> None:
    app, _, _ = setup
    client = app.test_client()
    static = Path(app.static_folder or "")
    pages = {path: client.get(path).get_data(as_text=True) for path in ("/", "/admin/login")}
    assert set(static_links(pages["/"])) == {"style.css", "localtime.js"}
    assert set(static_links(pages["/admin/login"])) == {"style.css", "admin.css"}
    for html in pages.values():
        assert "/static/" not in re.sub(r'"/static/[\w./-]+\?v=[0-9a-f]{12}"', "", html)
        # The favicon is in the page: the browser asks for nothing else.
        (icon,) = re.findall(r'<link rel="icon" href="data:image/svg\+xml;base64,([^"]+)"', html)
        assert base64.b64decode(icon) == (static / "favicon.svg").read_bytes()
        for name, version in static_links(html).items():
            digest = hashlib.sha256((static / name).read_bytes()).hexdigest()
            assert version == digest[:12]
            current = client.get(f"/static/{name}?v={version}")
            assert current.status_code == 200
            assert current.get_data() == (static / name).read_bytes()
            assert current.headers["Cache-Control"] == LONG_CACHE
            assert "Expires" not in current.headers
            revalidated = client.get(
                f"/static/{name}?v={version}", headers={"If-None-Match": current.headers["ETag"]}
            )
            assert revalidated.status_code == 304
            assert revalidated.headers["Cache-Control"] == LONG_CACHE
            # Without the digest, or with an old one: revalidated each time, as before.
            for other in (f"/static/{name}", f"/static/{name}?v=0123456789ab"):
                assert client.get(other).headers["Cache-Control"] == "no-cache", other


def test_a_changed_static_file_gets_a_new_address(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    sheet = static / "css" / "site.css"
    sheet.write_text("body { color: black }\n")
    (tmp_path / "secret.txt").write_text("not a static file\n")
    versions = StaticVersions(static)
    before = versions.version("css/site.css")
    assert before == hashlib.sha256(sheet.read_bytes()).hexdigest()[:12]

    sheet.write_text("body { color: navy }\n")
    os.utime(sheet, ns=(1, 1))  # a new modification time, whatever the clock's grain

    after = versions.version("css/site.css")
    assert after is not None and after != before
    assert versions.version("css/missing.css") is None
    assert versions.version("../secret.txt") is None  # nothing outside the folder
