"""Atlassian's own embeddable status widget (npm `@statuspage/status-widget`)
reads our `/api/v2/summary.json` from a page on another origin, in a real
Chromium, as a customer embedding it would: no CORS error, no script error,
and it shows our status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.liveserver import browser, serve

WIDGET = (
    Path(__file__).resolve().parent.parent
    / ".cache/npm/node_modules/@statuspage/status-widget/dist/index.js"
)

pytestmark = pytest.mark.integration


@pytest.fixture
def statuspage(sqlite_store: Store, clock: FakeClock) -> Iterator[tuple[str, Monitor]]:
    config = parse_config(
        {
            "site": {"title": "Acme Status"},
            "defaults": {"confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://a/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "health", "type": "http", "url": "http://p/"}],
                },
            ],
        },
        env={},
    )
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    for check in ("api/health", "payments/health"):
        monitor.record(check, CheckResult(clock(), ComponentStatus.OPERATIONAL, "200"))
    monitor.beat()
    with serve(create_app(config, sqlite_store, clock)) as url:
        yield url, monitor


def host_page(status_url: str) -> Flask:
    """A customer's own site, on another origin, embedding the widget."""
    assert WIDGET.is_file(), f"{WIDGET} is missing: ./scripts/test installs it with npm"
    app = Flask("customer-site")

    @app.get("/")
    def index() -> str:
        return (
            "<!doctype html><html><head><title>Customer</title>"
            '<script src="/status-widget.js"></script></head><body>'
            f'<statuspage-widget src="{status_url}" appearance="basic"></statuspage-widget>'
            "</body></html>"
        )

    @app.get("/alone")
    def alone() -> str:
        """The widget's script with no widget on the page: what it logs
        here is its own (its bundle throws "parcelRequire is not defined"
        in any page), not something our API caused."""
        return '<!doctype html><html><head><script src="/status-widget.js"></script></head></html>'

    @app.get("/status-widget.js")
    def widget() -> Response:
        return Response(WIDGET.read_bytes(), mimetype="application/javascript")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(b"", mimetype="image/x-icon")

    return app


def widget_texts(page: Any) -> list[str]:
    # Playwright's CSS locators pierce the widget's shadow root.
    locator = page.locator("statuspage-widget .status-text")
    locator.first.wait_for(timeout=10_000)
    return [t.strip() for t in locator.all_inner_texts()]


def test_atlassians_widget_shows_our_status_from_another_origin(
    statuspage: tuple[str, Monitor], clock: FakeClock
) -> None:
    url, monitor = statuspage
    with serve(host_page(url)) as customer, browser() as chromium:
        assert customer.split(":")[2] != url.split(":")[2]  # another origin (port)
        own = errors_of(chromium, customer + "/alone")
        page = chromium.new_page()
        errors = watch_errors(page)
        page.goto(customer + "/")
        assert widget_texts(page) == ["All Systems Operational"]

        clock.advance(30)
        monitor.record("payments/health", CheckResult(clock(), ComponentStatus.MAJOR_OUTAGE, "500"))
        monitor.beat()
        page = chromium.new_page()  # the widget caches a summary for 30 s per page
        errors += watch_errors(page)
        page.goto(customer + "/")
        assert widget_texts(page) == ["Partial System Outage"]
        # Nothing but the widget's own bundle error; in particular no CORS error.
        assert [e for e in errors if e not in own] == []


def watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def errors_of(chromium: Any, url: str) -> set[str]:
    page = chromium.new_page()
    errors = watch_errors(page)
    page.goto(url)
    page.wait_for_load_state("load")
    page.close()
    return set(errors)
