"""RSS and Atom feeds: they parse, validate, escape, filter and keep their ids."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest
from flask import Flask

from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.feeds import MAX_ENTRIES
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.web import create_app
from tests.conftest import FakeClock

SITE_URL = "https://status.acme.example"
# A copy of ../shared/schemas/atom.rnc (RFC 4287, Appendix B), kept with the
# tests so they do not depend on where the checkout sits.
ATOM_SCHEMA = Path(__file__).parent / "fixtures" / "schemas" / "atom.rnc"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = "</title><script>alert(1)</script> ]]> {{ 7*7 }} <img src=x onerror=alert(1)>"
HOSTILE_BODY = (
    "]]> </description></item><script>alert(1)</script> {{ 7*7 }} ${7*7} <%= 7*7 %> "
    "<img src=x onerror=alert(1)> [x](javascript:alert(1)) **bold**"
)
FEEDS = ("/history.rss", "/history.atom")
COMPONENT_FEEDS = ("/components/{}/history.rss", "/components/{}/history.atom")


def make_config() -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": SITE_URL},
            "components": [
                {"id": "payments", "name": "Payments"},
                {"id": "api", "name": "API"},
            ],
        },
        env={},
    )


def make_app(store: Store, clock: FakeClock) -> Flask:
    config = make_config()
    Monitor(config, store, clock).start()
    app = create_app(config, store, clock)
    app.testing = True
    return app


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    return make_app(sqlite_store, clock)


def open_incident(
    store: Store,
    clock: FakeClock,
    *,
    name: str = "Payments outage",
    body: str = "We are investigating.",
    component: str = "payments",
    publish: bool = True,
) -> str:
    with store.transaction() as conn:
        return IncidentRepository(store).create(
            conn,
            name=name,
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={component: ComponentStatus.MAJOR_OUTAGE},
            body=body,
            author="user:alice@acme.example",
            now=clock(),
            publish=publish,
        )


def add_update(
    store: Store, clock: FakeClock, incident_id: str, status: IncidentStatus, body: str
) -> None:
    with store.transaction() as conn:
        IncidentRepository(store).add_update(
            conn, incident_id, status=status, body=body, author="user:bob", now=clock()
        )


def schedule(store: Store, clock: FakeClock, title: str, component: str) -> str:
    start = clock() + timedelta(days=1)
    return (
        MaintenanceRepository(store)
        .create(
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            timezone="UTC",
            components=[component],
            created_by="user:carol",
            now=clock(),
        )
        .id
    )


def fetch(app: Flask, path: str, **headers: str) -> bytes:
    answer = app.test_client().get(path, headers=headers)
    assert answer.status_code == 200, path
    return answer.get_data()


def parse(body: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def check_rss(body: bytes) -> ET.Element:
    """RSS 2.0 has no schema: the required elements, checked by hand."""
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel without {name}"
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        assert item.findtext("link", "").startswith(SITE_URL + "/")
        assert item.find("guid") is not None
        assert item.findtext("pubDate")
    return channel


def validate_atom(tmp_path: Path, *bodies: bytes) -> None:
    """Against RFC 4287's RELAX NG schema, with jing (one run for all).
    Call it last in a test: without jing, the test ends in a skip."""
    jing = shutil.which("jing")
    if jing is None:
        pytest.skip("jing is not installed (apt-get install jing): Atom schema check skipped")
    files = []
    for n, body in enumerate(bodies):
        files.append(tmp_path / f"feed{n}.atom")
        files[-1].write_bytes(body)
    result = subprocess.run(
        [jing, "-c", str(ATOM_SCHEMA), *map(str, files)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_feeds_parse_validate_and_carry_the_required_elements(
    app: Flask, sqlite_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    incident_id = open_incident(sqlite_store, clock)
    clock.advance(600)
    add_update(sqlite_store, clock, incident_id, IncidentStatus.IDENTIFIED, "Found it.")
    clock.advance(-300)
    schedule(sqlite_store, clock, "Database upgrade", "api")
    clock.advance(300)
    client = app.test_client()

    rss = client.get("/history.rss")
    assert rss.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    channel = check_rss(rss.get_data())
    assert channel.findtext("title") == "Acme Status - incident history"
    assert channel.findtext("link") == f"{SITE_URL}/history"
    assert len(channel.findall("item")) == 2
    parsed = parse(rss.get_data())
    assert parsed.version == "rss20"
    first = parsed.entries[0]  # the incident: updated last
    assert first.title == "Payments outage"
    assert first.link == f"{SITE_URL}/incidents/{incident_id}"
    assert first.id == f"{SITE_URL}/incidents/{incident_id}"

    atom = client.get("/history.atom")
    assert atom.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = parse(atom.get_data())
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Acme Status - incident history"
    assert parsed.feed.id == f"{SITE_URL}/history"
    entry = parsed.entries[0]
    assert entry.id == f"{SITE_URL}/incidents/{incident_id}"
    assert entry.published_parsed[:5] == (2026, 9, 15, 5, 0)  # the start
    assert entry.updated_parsed[:5] == (2026, 9, 15, 5, 10)  # the latest update
    maintenance = parsed.entries[1]
    assert maintenance.title == "Maintenance: Database upgrade"
    assert maintenance.id.startswith("tag:status.acme.example,2026-09-15:/maintenance/")
    assert maintenance.link == f"{SITE_URL}/"
    assert "<strong>Scheduled</strong>" in maintenance.content[0].value
    assert "Scheduled for" in maintenance.content[0].value  # the window, in words
    validate_atom(tmp_path, atom.get_data())


def test_updates_come_newest_first_without_authors(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(sqlite_store, clock)
    for status, body in (
        (IncidentStatus.IDENTIFIED, "Found it."),
        (IncidentStatus.MONITORING, "Fix deployed."),
    ):
        clock.advance(300)
        add_update(sqlite_store, clock, incident_id, status, body)
    clock.advance(300)
    with sqlite_store.transaction() as conn:
        IncidentRepository(sqlite_store).resolve(
            conn, incident_id, body="All good.", author="user:bob", now=clock()
        )
    for path in FEEDS:
        body = fetch(app, path)
        (entry,) = parse(body).entries
        text = entry.content[0].value if "content" in entry else entry.summary
        order = [
            text.index(word)
            for word in ("All good.", "Fix deployed.", "Found it.", "We are investigating.")
        ]
        assert order == sorted(order), path
        assert "<strong>Resolved</strong>" in text and "Sep 15, 2026 05:15 UTC" in text
        assert b"alice" not in body and b"bob" not in body  # staff stay private


def test_hostile_titles_and_bodies_are_escaped_and_inert(
    app: Flask, sqlite_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    open_incident(sqlite_store, clock, name=HOSTILE_TITLE + "\x00\x0b", body=HOSTILE_BODY)
    schedule(sqlite_store, clock, HOSTILE_TITLE, "payments")
    atoms = []
    for path in (*FEEDS, *(p.format("payments") for p in COMPONENT_FEEDS)):
        body = fetch(app, path)
        parsed = parse(body)  # one <script> or stray ]]> would break the XML
        assert b"<script" not in body and b"<img" not in body
        assert b"49" not in body  # no template ever ran over the text
        titles = sorted(e.title for e in parsed.entries)
        assert titles == sorted([HOSTILE_TITLE, "Maintenance: " + HOSTILE_TITLE])
        incident = next(e for e in parsed.entries if e.title == HOSTILE_TITLE)
        text = incident.content[0].value if "content" in incident else incident.summary
        # As the page shows it: Markdown rendered and sanitised, the rest text.
        assert "<strong>bold</strong>" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "&lt;script&gt;" in text and "<script" not in text
        assert "href=" not in text  # the javascript: link stays text
        # Literal (Markdown may pair the asterisks as emphasis; nothing ran).
        assert "{{ 7" in text and "${7" in text and "&lt;%= 7" in text
        if path.endswith(".atom"):
            atoms.append(body)
        else:
            check_rss(body)
    validate_atom(tmp_path, *atoms)


def test_links_and_ids_ignore_the_request_host(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    open_incident(sqlite_store, clock)
    schedule(sqlite_store, clock, "Upgrade", "payments")
    for path in (*FEEDS, *(p.format("payments") for p in COMPONENT_FEEDS)):
        for host in ("evil.example", "localhost"):  # the first one is kept by the cache
            body = fetch(app, path, Host=host)
            assert b"evil.example" not in body and b"localhost" not in body, path
            parsed = parse(body)
            links = [parsed.feed.link, *(e.link for e in parsed.entries)]
            links += [e.id for e in parsed.entries if not e.id.startswith("tag:")]
            assert links and all(link.startswith(SITE_URL + "/") for link in links), links


def test_component_feed_shows_only_what_affected_it(
    app: Flask, sqlite_store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    open_incident(sqlite_store, clock, name="Payments outage", component="payments")
    open_incident(sqlite_store, clock, name="API errors", component="api")
    schedule(sqlite_store, clock, "Card network window", "payments")
    schedule(sqlite_store, clock, "Gateway upgrade", "api")
    for rss, atom in [COMPONENT_FEEDS]:
        parsed = parse(fetch(app, rss.format("payments")))
        assert parsed.feed.title == "Acme Status - Payments"
        assert parsed.feed.link == f"{SITE_URL}/components/payments"
        assert sorted(e.title for e in parsed.entries) == [
            "Maintenance: Card network window",
            "Payments outage",
        ]
        body = fetch(app, atom.format("api"))
        assert sorted(e.title for e in parse(body).entries) == [
            "API errors",
            "Maintenance: Gateway upgrade",
        ]
    whole = fetch(app, "/history.atom")
    assert len(parse(whole).entries) == 4
    client = app.test_client()
    for path in COMPONENT_FEEDS:
        assert client.get(path.format("nope")).status_code == 404
    validate_atom(tmp_path, body, whole)


def test_drafts_never_appear(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    open_incident(sqlite_store, clock, name="Secret draft", publish=False)
    open_incident(sqlite_store, clock, name="Public one")
    for path in (*FEEDS, *(p.format("payments") for p in COMPONENT_FEEDS)):
        body = fetch(app, path)
        assert b"Secret draft" not in body
        assert [e.title for e in parse(body).entries] == ["Public one"]


def test_ids_are_stable_across_app_instances(
    sqlite_store: Store, clock: FakeClock, sqlite_url: str
) -> None:
    first = make_app(sqlite_store, clock)
    open_incident(sqlite_store, clock)
    schedule(sqlite_store, clock, "Upgrade", "payments")
    # A second process: a new store on the same database, a new app.
    other = Store(sqlite_url)
    try:
        second = make_app(other, clock)
        for path in FEEDS:
            ids = [[e.id for e in parse(fetch(app, path)).entries] for app in (first, second)]
            assert len(ids[0]) == 2 and ids[0] == ids[1]
            assert fetch(first, path) == fetch(second, path)  # same data, same bytes
    finally:
        other.close()


def test_at_most_fifty_entries_newest_first(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    for n in range(MAX_ENTRIES + 3):
        clock.advance(60)
        open_incident(sqlite_store, clock, name=f"Incident {n}")
    entries = parse(fetch(app, "/history.atom")).entries
    assert len(entries) == MAX_ENTRIES
    assert entries[0].title == f"Incident {MAX_ENTRIES + 2}"
    assert entries[-1].title == "Incident 3"


def test_feeds_follow_new_updates_through_the_render_cache(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(sqlite_store, clock)
    client = app.test_client()
    first = client.get("/history.atom")
    again = client.get("/history.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    clock.advance(5)
    add_update(sqlite_store, clock, incident_id, IncidentStatus.IDENTIFIED, "Found the cause.")
    changed = client.get("/history.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert b"Found the cause." in changed.get_data()


def test_pages_advertise_the_feeds(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    head = html[: html.index("</head>")]
    assert 'rel="alternate" type="application/rss+xml"' in head
    assert 'rel="alternate" type="application/atom+xml"' in head
    assert 'href="/history.rss"' in head and 'href="/history.atom"' in head
    footer = html[html.index("<footer") :]
    assert 'href="/history.rss"' in footer and 'href="/history.atom"' in footer
    component = client.get("/components/payments").get_data(as_text=True)
    head = component[: component.index("</head>")]
    assert 'href="/components/payments/history.atom"' in head
    assert 'href="/components/payments/history.rss"' in head
