"""The render cache: public pages rendered once per change of state, with
ETag / Last-Modified revalidation, never for the admin or the write API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, request, template_rendered
from flask.testing import FlaskClient
from jinja2 import Template
from werkzeug.http import http_date

from statuspage import auth
from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.users import UserRepository
from statuspage.web import api_v2, cache, create_app
from statuspage.web.cache import CACHE_CONTROL, KeptPage, RenderCache, render_cache
from statuspage.web.pageview import build_page
from tests.conftest import FakeClock
from tests.test_admin_auth import add_user, logged_in

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE
PAGE_TEMPLATES = {"index.html", "incident.html", "component.html", "error.html"}


def make_config() -> Config:
    # Checks every 30 s, stale after 3 intervals (90 s) without a result.
    return parse_config(
        {
            "site": {"title": "Acme Status"},
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2, "stale_after": 3},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://api.test/"}],
                },
                {"id": "docs", "name": "Docs"},
            ],
        },
        env={},
    )


@dataclass
class Site:
    app: Flask
    client: FlaskClient
    monitor: Monitor
    store: Store
    clock: FakeClock
    renders: list[str]

    def feed(self, status: ComponentStatus = OK) -> None:
        self.monitor.record("api/health", CheckResult(self.clock(), status, "status 200", 12.0))


@pytest.fixture
def site(sqlite_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """An app whose renders are counted: each page template rendered, and
    each page the read API builds."""
    renders: list[str] = []

    def counted(_app: Flask, template: Template, **_context: Any) -> None:
        if template.name in PAGE_TEMPLATES:
            renders.append(template.name)

    def build_counted(*args: Any, **kwargs: Any) -> Any:
        renders.append("api_v2")
        return build_page(*args, **kwargs)

    monkeypatch.setattr(api_v2, "build_page", build_counted)
    config = make_config()
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    with template_rendered.connected_to(counted, app):
        yield Site(app, app.test_client(), monitor, sqlite_store, clock, renders)


def open_incident(site: Site) -> str:
    with site.store.transaction() as conn:
        return IncidentRepository(site.store).create(
            conn,
            name="API outage",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={"api": DOWN},
            body="We are investigating.",
            author="user:alice",
            now=site.clock(),
            publish=True,
        )


# --- rendered once per state ----------------------------------------------------


def test_two_gets_in_a_row_render_once(site: Site) -> None:
    first = site.client.get("/")
    second = site.client.get("/")
    assert site.renders == ["index.html"]
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == CACHE_CONTROL
    assert second.headers["Last-Modified"] == http_date(site.clock())
    assert second.headers["Content-Security-Policy"]  # the security headers still apply


def test_each_address_and_query_is_kept_apart(site: Site) -> None:
    for path in ("/", "/?a=1", "/components/api", "/", "/?a=1", "/components/api"):
        assert site.client.get(path).status_code == 200
    assert site.renders == ["index.html", "index.html", "component.html"]
    assert site.client.get("/").headers["ETag"] != site.client.get("/?a=1").headers["ETag"]


def test_a_new_check_result_renders_again(site: Site) -> None:
    site.client.get("/")
    site.clock.advance(1)
    site.feed()
    html = site.client.get("/").get_data(as_text=True)
    assert site.renders == ["index.html", "index.html"]
    assert "s-operational" in html


def test_a_transition_shows_at_once(site: Site) -> None:
    site.feed()
    site.client.get("/")
    for _ in range(2):
        site.clock.advance(1)
        site.feed(DOWN)
    html = site.client.get("/").get_data(as_text=True)
    assert "<h1>Partial System Outage</h1>" in html
    assert len(site.renders) == 2


def test_an_incident_update_renders_again(site: Site) -> None:
    incident_id = open_incident(site)
    before = site.client.get(f"/incidents/{incident_id}")
    site.clock.advance(1)
    with site.store.transaction() as conn:
        IncidentRepository(site.store).add_update(
            conn,
            incident_id,
            status=IncidentStatus.IDENTIFIED,
            body="A bad deploy; rolling back.",
            author="user:alice",
            now=site.clock(),
        )
    after = site.client.get(f"/incidents/{incident_id}")
    assert "rolling back" in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert site.renders == ["incident.html", "incident.html"]


def test_a_rollup_refresh_renders_again(site: Site) -> None:
    site.feed()
    site.client.get("/")
    site.clock.advance(1)
    site.monitor.refresh_rollups()
    site.client.get("/")
    assert len(site.renders) == 2


def test_a_check_deadline_passing_unseen_renders_again(site: Site) -> None:
    site.clock.advance(10)
    site.feed()  # at 05:00:10; stale at 05:01:40, between two time buckets
    site.clock.advance(89)
    assert "s-operational" in site.client.get("/components/api").get_data(as_text=True)
    site.clock.advance(1)
    assert "s-unknown" in site.client.get("/components/api").get_data(as_text=True)
    assert len(site.renders) == 2


# --- the 30 s time bucket -------------------------------------------------------------


def test_a_kept_page_lives_until_the_end_of_its_30_second_bucket(site: Site) -> None:
    site.client.get("/")  # 05:00:00, the start of a bucket
    site.clock.advance(29.999)
    site.client.get("/")
    assert len(site.renders) == 1
    site.clock.advance(0.001)
    renewed = site.client.get("/")
    assert len(site.renders) == 2
    assert renewed.headers["Last-Modified"] == http_date(site.clock())


# --- revalidation -------------------------------------------------------------------


def test_if_none_match_with_the_etag_is_304_without_a_render(site: Site) -> None:
    etag = site.client.get("/").headers["ETag"]
    site.app.extensions["statuspage"]["render_cache"].clear()  # as a second worker would be
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        answer = site.client.get("/", headers={"If-None-Match": sent})
        assert answer.status_code == 304, sent
        assert answer.get_data() == b""
        assert answer.headers["ETag"] == etag
        assert answer.headers["Cache-Control"] == CACHE_CONTROL
    assert site.renders == ["index.html"]
    assert site.client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_an_old_etag_gets_the_new_page(site: Site) -> None:
    etag = site.client.get("/").headers["ETag"]
    site.clock.advance(1)
    site.feed()
    assert site.client.get("/", headers={"If-None-Match": etag}).status_code == 200


def test_if_modified_since_at_or_after_last_modified_is_304(site: Site) -> None:
    last_modified = site.client.get("/").headers["Last-Modified"]
    shown = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
    assert last_modified == http_date(shown)
    for since, code in (
        (shown - timedelta(seconds=1), 200),
        (shown, 304),
        (shown + timedelta(seconds=1), 304),
    ):
        answer = site.client.get("/", headers={"If-Modified-Since": http_date(since)})
        assert answer.status_code == code, since
    assert site.renders == ["index.html"]  # the 200 came from the cache


def test_if_none_match_wins_over_if_modified_since(site: Site) -> None:
    last_modified = site.client.get("/").headers["Last-Modified"]
    headers = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert site.client.get("/", headers=headers).status_code == 200


def test_head_is_served_from_the_cache_too(site: Site) -> None:
    head = site.client.head("/")
    get = site.client.get("/")
    again = site.client.head("/")
    assert site.renders == ["index.html"]
    assert head.status_code == again.status_code == 200
    assert head.get_data() == again.get_data() == b""
    assert head.headers["Content-Length"] == again.headers["Content-Length"]
    assert int(head.headers["Content-Length"]) == len(get.get_data())
    assert head.headers["ETag"] == get.headers["ETag"]


def test_the_read_api_is_cached_and_keeps_its_own_headers(site: Site) -> None:
    first = site.client.get("/api/v2/summary.json")
    second = site.client.get("/api/v2/summary.json")
    assert site.renders == ["api_v2"]
    assert second.json == first.json
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["Cache-Control"] == api_v2.CACHE_CONTROL
    assert second.headers["Content-Type"] == "application/json"


# --- what is never kept ----------------------------------------------------------------


def test_a_404_is_not_kept(site: Site) -> None:
    for _ in range(2):
        answer = site.client.get("/components/nope")
        assert answer.status_code == 404
        assert "ETag" not in answer.headers
    assert site.renders == ["error.html", "error.html"]
    assert len(render_cache(site.app)) == 0


def test_admin_pages_and_the_write_api_are_never_kept(site: Site) -> None:
    add_user(site.store, site.clock, "alice", "admin")
    admin = logged_in(site.app, "alice")
    token = auth.new_api_token()
    UserRepository(site.store).create_token(
        "ci", "viewer", auth.hash_api_token(token), None, actor="test", at=site.clock()
    )
    for _ in range(2):
        for answer in (
            admin.get("/admin/"),
            site.client.get("/api/v1/deployments", headers={"Authorization": f"Bearer {token}"}),
            site.client.get("/healthz"),
        ):
            assert answer.status_code == 200, answer.request.path
            assert "ETag" not in answer.headers, answer.request.path
            assert answer.headers.get("Cache-Control") != CACHE_CONTROL
    assert len(render_cache(site.app)) == 0


def test_public_pages_never_carry_a_cookie_even_for_a_logged_in_admin(site: Site) -> None:
    add_user(site.store, site.clock, "alice", "admin")
    admin = logged_in(site.app, "alice")
    for path in ("/", "/", "/api/v2/summary.json"):
        answer = admin.get(path)
        assert "Set-Cookie" not in answer.headers, path
        assert "Cookie" not in answer.headers.get("Vary", ""), path
    assert admin.get("/admin/").status_code == 200  # the session still works there


def test_the_cache_is_bounded(site: Site) -> None:
    render_cache(site.app).max_entries = 3
    for n in range(10):
        site.client.get(f"/?n={n}")
    assert len(render_cache(site.app)) == 3
    site.client.get("/?n=9")
    site.client.get("/?n=0")  # evicted: rendered again
    assert len(site.renders) == 11


def test_the_least_recently_used_page_goes_first() -> None:
    kept = RenderCache(max_entries=2)
    version = cache.StateVersion(("v",), datetime(2026, 9, 15, tzinfo=UTC))
    page = KeptPage(("v",), b"x", [])
    a, b, c = (("h", p, b"") for p in ("/a", "/b", "/c"))
    kept.put(a, page)
    kept.put(b, page)
    assert kept.get(a, version) is page  # a is now the most recent
    kept.put(c, page)
    assert kept.get(b, version) is None
    assert kept.get(a, version) is page and kept.get(c, version) is page
    newer = cache.StateVersion(("w",), version.last_modified)
    assert kept.get(a, newer) is None


# --- the state version without a query per request ----------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reads(site: Site, monkeypatch: pytest.MonkeyPatch) -> tuple[list[datetime], FakeMonotonic]:
    """The app's version cache on a clock of its own; each database read of
    the version is counted."""
    done: list[datetime] = []
    read = cache.read_stored_state

    def counted(store: Store, now: datetime) -> cache.StoredState:
        done.append(now)
        return read(store, now)

    monkeypatch.setattr(cache, "read_stored_state", counted)
    monotonic = FakeMonotonic()
    site.app.extensions["statuspage"]["version_cache"] = cache.VersionCache(
        site.store, monotonic=monotonic
    )
    return done, monotonic


def test_the_version_is_read_once_per_ttl_without_writes(
    site: Site, reads: tuple[list[datetime], FakeMonotonic]
) -> None:
    done, monotonic = reads
    for _ in range(5):
        site.client.get("/")
    assert len(done) == 1
    monotonic.now += cache.VERSION_TTL.total_seconds() - 0.001
    site.client.get("/")
    assert len(done) == 1
    monotonic.now += 0.001
    site.client.get("/")
    assert len(done) == 2


def test_a_write_in_this_process_is_seen_at_once(
    site: Site, reads: tuple[list[datetime], FakeMonotonic]
) -> None:
    done, _ = reads
    site.client.get("/")
    site.clock.advance(1)
    site.feed(DOWN)  # a commit through the app's store
    site.client.get("/")
    assert len(done) == 2
    assert len(site.renders) == 2


def test_another_process_write_is_seen_within_the_ttl(
    site: Site, reads: tuple[list[datetime], FakeMonotonic]
) -> None:
    _, monotonic = reads
    before = site.client.get("/").headers["ETag"]
    other = Store(site.store.url)  # as another web worker's admin would write
    try:
        with other.transaction() as conn:
            IncidentRepository(other).create(
                conn,
                name="API outage",
                status=IncidentStatus.INVESTIGATING,
                impact=IncidentImpact.MAJOR,
                components={"api": DOWN},
                body="We are investigating.",
                author="user:alice",
                now=site.clock(),
            )
    finally:
        other.close()
    assert site.client.get("/").headers["ETag"] == before
    monotonic.now += cache.VERSION_TTL.total_seconds()
    assert site.client.get("/").headers["ETag"] != before
    assert len(site.renders) == 2


def test_time_alone_moves_the_version_without_a_read(
    site: Site, reads: tuple[list[datetime], FakeMonotonic]
) -> None:
    """The 30 s bucket and a check deadline passing unseen are worked out
    from `now` on every request, never from a kept read."""
    done, _ = reads
    site.feed()  # at 05:00:00: stale at 05:01:30
    site.client.get("/components/api")
    site.clock.advance(89)
    assert "s-operational" in site.client.get("/components/api").get_data(as_text=True)
    site.clock.advance(1)
    assert "s-unknown" in site.client.get("/components/api").get_data(as_text=True)
    assert len(done) == 1


def test_versions_agree_with_a_fresh_read(site: Site) -> None:
    site.feed()
    versions = cache.VersionCache(site.store)
    for seconds in (0, 29, 30, 89, 90, 91):
        now = site.clock() + timedelta(seconds=seconds)
        assert versions.version(now).marks == cache.state_version(site.store, now).marks


# --- kept pages served in front of Flask -------------------------------------------


def seen_by_flask(app: Flask, what: Callable[[], str]) -> list[str]:
    """What each request Flask handles says, noted before any other hook."""
    seen: list[str] = []

    def note() -> None:
        seen.append(what())

    app.before_request_funcs.setdefault(None, []).insert(0, note)
    return seen


def test_a_kept_page_is_served_without_a_flask_request(site: Site) -> None:
    hooks = seen_by_flask(site.app, lambda: request.path)
    first = site.client.get("/api/v2/summary.json")
    second = site.client.get("/api/v2/summary.json")
    head = site.client.head("/api/v2/summary.json")
    assert hooks == ["/api/v2/summary.json"]  # only the render went through Flask
    assert second.get_data() == first.get_data()
    assert sorted(second.headers.items()) == sorted(first.headers.items())
    # Flask's own way of serving a kept page sends the same.
    via_flask = site.client.get("/api/v2/summary.json", headers={"If-None-Match": '"other"'})
    assert sorted(via_flask.headers.items()) == sorted(first.headers.items())
    assert head.get_data() == b"" and head.headers == second.headers
    for header in ("Content-Security-Policy", "Access-Control-Allow-Origin", "ETag"):
        assert header in second.headers


def test_revalidation_and_other_methods_go_to_flask(site: Site) -> None:
    hooks = seen_by_flask(site.app, lambda: request.method)
    etag = site.client.get("/").headers["ETag"]
    assert site.client.get("/", headers={"If-None-Match": etag}).status_code == 304
    assert site.client.post("/").status_code == 405
    assert hooks == ["GET", "GET", "POST"]


def test_an_older_kept_page_is_not_served(site: Site) -> None:
    site.client.get("/")
    site.clock.advance(1)
    site.feed(DOWN)
    site.feed(DOWN)
    assert "Partial System Outage" in site.client.get("/").get_data(as_text=True)
    assert len(site.renders) == 2


def test_an_unreadable_version_leaves_the_answer_to_flask(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.client.get("/")

    def broken(_now: datetime) -> cache.StateVersion:
        raise OSError("database is locked")

    monkeypatch.setattr(cache.version_cache(site.app), "version", broken)
    answer = site.client.get("/")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.get_data(as_text=True)
