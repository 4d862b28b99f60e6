"""Status badges: shields-style SVG, escaped, cacheable, no oracle."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from statuspage.web.badges import Badge, text_width
from tests.conftest import FakeClock

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & ]]>'


@pytest.fixture
def setup(sqlite_store: Store, clock: FakeClock) -> tuple[Flask, Monitor]:
    config = parse_config(
        {
            "site": {"title": "Acme <Status>"},
            "defaults": {"interval": "30s", "confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://x/"}],
                },
                {"id": "evil", "name": HOSTILE},
            ],
        },
        env={},
    )
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    return app, monitor


def texts(response: TestResponse) -> tuple[ET.Element, list[str]]:
    root = ET.fromstring(response.get_data())  # well-formed XML, or this raises
    return root, [t.text or "" for t in root.iter(f"{SVG}text")]


def test_component_badge_is_a_cacheable_svg_with_its_status(
    setup: tuple[Flask, Monitor], clock: FakeClock
) -> None:
    app, monitor = setup
    monitor.record("api/health", CheckResult(clock(), ComponentStatus.MAJOR_OUTAGE, "HTTP 500"))

    response = app.test_client().get("/components/api/badge.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=30"
    root, shown = texts(response)
    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label") == "API: Major Outage"
    assert shown == ["API", "API", "Major Outage", "Major Outage"]
    assert 'fill="#c9302c"' in response.get_data(as_text=True)


def test_page_badge_shows_the_overall_status(setup: tuple[Flask, Monitor]) -> None:
    app, _ = setup

    response = app.test_client().get("/badge.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "public, max-age=30"
    root, shown = texts(response)
    # No data yet: the badge must not claim all is well.
    assert shown[0] == "Acme <Status>"
    assert "Operational" not in shown[2]
    assert root.findtext(f"{SVG}title") == f"Acme <Status>: {shown[2]}"


def test_a_hostile_component_name_stays_text(setup: tuple[Flask, Monitor]) -> None:
    app, _ = setup

    response = app.test_client().get("/components/evil/badge.svg")

    body = response.get_data(as_text=True)
    assert "<script" not in body
    assert "&lt;script&gt;" in body
    root, shown = texts(response)
    assert shown[0] == HOSTILE
    assert shown[2] == ComponentStatus.OPERATIONAL.label  # no check: set by staff
    assert root.findtext(f"{SVG}title") == f"{HOSTILE}: {shown[2]}"


def test_unknown_component_badge_is_404(setup: tuple[Flask, Monitor]) -> None:
    app, _ = setup
    client = app.test_client()

    assert client.get("/components/nope/badge.svg").status_code == 404
    assert client.get("/components/..%2Fapi/badge.svg").status_code == 404


def test_badge_width_grows_with_its_text() -> None:
    short = Badge("API", "Operational", "#1f8a4c")
    long = Badge("Payments gateway", "Operational", "#1f8a4c")

    assert long.label_width > short.label_width
    assert short.width == short.label_width + short.message_width
    assert text_width("ii") < text_width("MM")


def test_every_template_is_autoescaped_by_its_name_and_quotes_attributes() -> None:
    """WEB-10 and WEB-11: `.html`/`.xml` names only (the badge is
    `badge.svg.xml`), and no attribute value left unquoted."""
    from pathlib import Path

    from statuspage.web import asset_dir

    folder = Path(asset_dir("templates"))
    names = [p for p in folder.rglob("*") if p.is_file()]
    assert names
    assert [p.name for p in names if p.suffix not in {".html", ".xml"}] == []
    unquoted = [p.name for p in names if "={{" in p.read_text(encoding="utf-8")]
    assert unquoted == []
