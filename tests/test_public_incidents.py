"""Incidents on the public pages: the timeline, drafts hidden, text inert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from statuspage.config import parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock

HOSTILE = (
    "<script>alert(1)</script> {{ 7*7 }} {% include '/etc/passwd' %} "
    "[click](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**"
)


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    config = parse_config(
        {"components": [{"id": "payments", "name": "Payments"}, {"id": "api", "name": "API"}]},
        env={},
    )
    Monitor(config, sqlite_store, clock).start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    return app


def open_incident(
    store: Store, clock: FakeClock, publish: bool = True, body: str = "We are investigating."
) -> str:
    repo = IncidentRepository(store)
    with store.transaction() as conn:
        return repo.create(
            conn,
            name="Payments outage",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={"payments": ComponentStatus.MAJOR_OUTAGE},
            body=body,
            author="user:alice",
            now=clock(),
            publish=publish,
        )


def test_active_incident_is_on_top_with_its_latest_update(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(sqlite_store, clock)
    clock.advance(600)
    with sqlite_store.transaction() as conn:
        IncidentRepository(sqlite_store).add_update(
            conn,
            incident_id,
            status=IncidentStatus.IDENTIFIED,
            body="A bad config was deployed; rolling back.",
            author="user:alice",
            now=clock(),
        )
    html = app.test_client().get("/").get_data(as_text=True)
    active = html[
        html.index('aria-label="Active incidents"') : html.index('aria-label="Components"')
    ]
    assert f'href="/incidents/{incident_id}">Payments outage</a>' in active
    assert "<strong>Identified</strong>" in active
    assert "A bad config was deployed; rolling back." in active
    assert "We are investigating." not in active  # only the latest update on top
    assert "This incident affects: Payments." in active
    assert "user:alice" not in html  # authors are for staff


def test_incident_page_shows_the_full_timeline_newest_first(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(sqlite_store, clock)
    repo = IncidentRepository(sqlite_store)
    for status, body in (
        (IncidentStatus.IDENTIFIED, "Found it."),
        (IncidentStatus.MONITORING, "Fix deployed."),
    ):
        clock.advance(300)
        with sqlite_store.transaction() as conn:
            repo.add_update(
                conn, incident_id, status=status, body=body, author="user:bob", now=clock()
            )
    clock.advance(300)
    with sqlite_store.transaction() as conn:
        repo.resolve(conn, incident_id, body="Resolved.", author="user:bob", now=clock())
    html = app.test_client().get(f"/incidents/{incident_id}").get_data(as_text=True)
    order = [
        html.index(text)
        for text in ("Resolved.", "Fix deployed.", "Found it.", "We are investigating.")
    ]
    assert order == sorted(order)
    assert "lasted 15 min" in html
    assert "Past incidents" in app.test_client().get("/").get_data(as_text=True)


def test_drafts_and_unknown_ids_are_the_same_404(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    draft = open_incident(sqlite_store, clock, publish=False)
    client = app.test_client()
    assert client.get(f"/incidents/{draft}").status_code == 404
    assert client.get("/incidents/doesnotexist").status_code == 404
    assert "Payments outage" not in client.get("/").get_data(as_text=True)


def test_hostile_incident_text_is_inert_on_the_page(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(sqlite_store, clock, body=HOSTILE)
    for path in ("/", f"/incidents/{incident_id}"):
        html = app.test_client().get(path).get_data(as_text=True)
        # Shown as text (escaped), never as markup.
        assert "<script>alert" not in html and "<img" not in html
        assert 'href="javascript' not in html.lower()
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "{{ 7*7 }}" in html and "49" not in html.split("{{ 7*7 }}")[0][-5:]
        assert "<strong>bold</strong>" in html


def test_incident_started_before_the_page_existed_still_shows(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    repo = IncidentRepository(sqlite_store)
    with sqlite_store.transaction() as conn:
        incident_id = repo.create(
            conn,
            name="Backdated",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MINOR,
            components={},
            body="Posted late.",
            author="user:a",
            now=clock(),
            display_at=clock() - timedelta(hours=1),
        )
    html = app.test_client().get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "04:00" in html  # the display time, not the time it was typed
