"""The pages by outside judges: the Nu HTML Checker (vnu, the W3C
validator) finds no error in the HTML or the CSS, and axe-core finds no
accessibility violation in Chromium, in the light and the dark theme.

Both come from npm into .cache/npm (scripts/test installs them); java runs
vnu. Missing tools fail these tests rather than skip them: a skipped
validator is a validator nobody runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.liveserver import browser, serve

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / ".cache" / "npm" / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
INSTALL = "run scripts/test, which installs it (npm install --prefix .cache/npm vnu-jar axe-core)"
NOW = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)
OK = ComponentStatus.OPERATIONAL

MARKDOWN_UPDATE = """We rolled back **payments v2.14**; renewals work again.

- Subscriptions marked expired between 05:00 and 08:36 are restored.
- See the [deploy notes](https://example.com/notes) and `billing.yaml`.

> Customers who renewed twice get a refund."""


POSTMORTEM = """# What happened

## Cause

A cache **expired** early.

## What we change

1. Longer cache lifetimes.
2. An alert on login latency."""


def tool(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is missing: {INSTALL}")
    return path


@pytest.fixture
def showcase(sqlite_store: Store) -> Flask:
    return build_showcase(sqlite_store)


def build_showcase(sqlite_store: Store) -> Flask:
    """A page with something in every part: an active incident (with a
    Markdown update) and a resolved one (with a postmortem with headings),
    maintenance now and later, a group, a check gone quiet (the monitoring
    banner), every status and charts."""
    clock = FakeClock(NOW - timedelta(hours=2))
    config = parse_config(
        {
            "site": {"title": "Acme Status", "description": "Acme's services, watched."},
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "description": "The public REST API.",
                    "checks": [{"name": "health", "type": "http", "url": "http://a/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [{"name": "canary", "type": "http", "url": "http://p/"}],
                },
                {
                    "id": "search",
                    "name": "Search",
                    "checks": [{"name": "p95", "type": "http", "url": "http://s/"}],
                },
                {
                    "id": "cdn",
                    "name": "CDN",
                    "checks": [{"name": "edge", "type": "http", "url": "http://c/"}],
                },
                {
                    "id": "email",
                    "name": "Email",
                    "checks": [{"name": "smtp", "type": "http", "url": "http://e/"}],
                },
                {"id": "projects", "name": "Projects", "group": "Workspace"},
                {"id": "docs", "name": "Docs", "group": "Workspace"},
            ],
        },
        env={},
    )
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    repo = IncidentRepository(sqlite_store)
    with sqlite_store.transaction() as conn:
        old = repo.create(
            conn,
            name="Slow logins",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MINOR,
            components={"api": ComponentStatus.DEGRADED_PERFORMANCE},
            body="Logins take up to 30 s.",
            author="user:alice",
            now=NOW - timedelta(days=3),
        )
        repo.resolve(
            conn, old, body="Fixed.", author="user:alice", now=NOW - timedelta(days=3, hours=-1)
        )
        repo.set_postmortem(conn, old, POSTMORTEM, NOW - timedelta(days=2))
    for minute in range(0, 120, 1):
        at = clock.advance(60)
        monitor.record("api/health", CheckResult(at, OK, "status 200", 40.0 + minute % 7 * 9))
        if minute < 100:
            monitor.record("search/p95", CheckResult(at, OK, "status 200", 80.0))
        late = minute > 110  # three components break at once: one incident
        for check_id, bad in (
            ("payments/canary", ComponentStatus.MAJOR_OUTAGE),
            ("cdn/edge", ComponentStatus.DEGRADED_PERFORMANCE),
            ("email/smtp", ComponentStatus.PARTIAL_OUTAGE),
        ):
            monitor.record(check_id, CheckResult(at, bad if late else OK, "not as expected"))
    (incident,) = repo.unresolved()
    with sqlite_store.transaction() as conn:
        repo.add_update(
            conn,
            incident.id,
            status=IncidentStatus.IDENTIFIED,
            body=MARKDOWN_UPDATE,
            author="user:alice",
            now=clock(),
        )
    for title, start, hours in (("Database upgrade", -1, 2), ("Network maintenance", 30, 1)):
        monitor.maintenance.create(
            title=title,
            starts_at=clock() + timedelta(hours=start),
            ends_at=clock() + timedelta(hours=start + hours),
            timezone="UTC",
            components=["projects"],
            created_by="user:alice",
            now=clock(),
            body="Expect a few seconds of errors.",
        )
    monitor.apply_maintenance()
    monitor.refresh_rollups()
    monitor.beat()
    app = create_app(config, sqlite_store, clock)
    app.extensions["statuspage"]["incident_id"] = incident.id
    app.extensions["statuspage"]["postmortem_id"] = old
    return app


def pages_of(app: Flask) -> list[str]:
    incident_id = app.extensions["statuspage"]["incident_id"]
    postmortem_id = app.extensions["statuspage"]["postmortem_id"]
    return [
        "/",
        f"/incidents/{incident_id}",
        f"/incidents/{postmortem_id}",
        "/history",
        "/components/api",
        "/components/projects",
        "/admin/login",
        "/no-such-page",
    ]


# --- Nu HTML Checker -------------------------------------------------------------


def test_pages_and_stylesheets_are_valid_by_the_nu_html_checker(
    showcase: Flask, tmp_path: Path
) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.fail(f"java is missing (apt-get install default-jre-headless): {INSTALL}")
    client = showcase.test_client()
    files: dict[Path, str] = {}
    for n, url in enumerate(pages_of(showcase)):
        answer = client.get(url)
        assert answer.status_code == (404 if url == "/no-such-page" else 200), url
        saved = tmp_path / f"page-{n}.html"
        saved.write_bytes(answer.get_data())
        files[saved] = url
    for sheet in ("style.css", "admin.css"):
        saved = tmp_path / sheet
        saved.write_bytes(client.get(f"/static/{sheet}").get_data())
        files[saved] = f"/static/{sheet}"

    checker = [java, "-jar", str(tool(VNU_JAR)), "--errors-only", "--also-check-css"]
    run = subprocess.run(
        [*checker, "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    messages = json.loads(run.stderr or run.stdout)["messages"]
    problems = [
        f"{files.get(Path(m.get('url', '').removeprefix('file:')), m.get('url'))}"
        f":{m.get('lastLine')}: {m['message']} [{m.get('extract', '').strip()}]"
        for m in messages
    ]
    assert problems == [], "\n".join(problems)
    assert run.returncode == 0


# --- axe-core ------------------------------------------------------------------------


@pytest.fixture
def live(showcase: Flask) -> Iterator[str]:
    with serve(showcase) as url:
        yield url


def violations(page: Any) -> list[str]:
    # The page's CSP allows only its own scripts; the context bypasses it
    # for axe alone.
    page.add_script_tag(content=tool(AXE_JS).read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .flatMap(v => v.nodes.map(n =>
               `${v.id} (${v.impact}) at ${n.target.join(" ")}: ${n.any.concat(n.all, n.none)
                 .map(c => c.message).join("; ") || v.help}`))"""
    )
    return list(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_have_no_axe_violations(showcase: Flask, live: str, scheme: str) -> None:
    found: dict[str, list[str]] = {}
    with browser() as chromium:
        context = chromium.new_context(color_scheme=scheme, bypass_csp=True)
        page = context.new_page()
        for url in pages_of(showcase):
            page.goto(live + url)
            if problems := violations(page):
                found[url] = problems
        context.close()
    assert found == {}, "\n".join(f"{url}: {p}" for url, ps in found.items() for p in ps)
