"""The render cache: public pages are rendered once per change of state,
not once per request.

Everything a public page shows comes from a handful of tables, so one cheap
query of their maxima and counts (the *state version*) changes whenever the
page would. A request for a public page reads the version, and either
answers `304 Not Modified` (the client's copy is current), or serves the
bytes rendered for this version, or lets the view render and keeps them.

Text that changes with time alone (countdowns, a stale deadline passing, the
"monitoring delayed" notice) is covered by a 30 s time bucket in the
version: a kept page lives at most `RENDER_BUCKET`. The ETag is derived from
the version and the address only, so every worker process agrees on it and
revalidation needs no render at all.

The query itself is not run for every request either (it cost more than
everything else a cached answer does): a process reads it again after any
commit through its own store, so its own writes show at once, and otherwise
at most every `VERSION_TTL`, so another process's writes (the scheduler,
another web worker) show within that. The parts that move with the clock
alone, the time bucket and check deadlines passing, are worked out from
`now` on every request.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy import ColumnElement, Connection, Select, Table, bindparam, event, func, select
from werkzeug.wrappers import Request

from statuspage.monitor import SCHEDULER_HEARTBEAT
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.web import deps

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

RENDER_BUCKET = timedelta(seconds=30)
# How late a page may be to show another process's write.
VERSION_TTL = timedelta(seconds=1)
# The page says "monitoring delayed" 30 s after the last beat (pageview).
HEARTBEAT_BUCKET = timedelta(seconds=30)
# How far back from today a rollup write reaches at the least (refresh_rollups
# rewrites two days; a transition rewrites from its day up to today).
ROLLUPS_REWRITTEN = timedelta(days=2)
MAX_ENTRIES = 256
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
CACHED_BLUEPRINTS = frozenset({"public", "api_v2"})
# Never cached, whichever blueprint a route there might end up in.
PRIVATE_PREFIXES = ("/admin", "/api/v1", "/healthz", "/readyz", "/static")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CacheKey = tuple[str, str, bytes]  # host, path, query string


@dataclass(frozen=True)
class StateVersion:
    """What the public pages depend on, at one instant."""

    marks: tuple[Any, ...]
    last_modified: datetime  # whole seconds, as HTTP dates carry

    def etag(self, key: CacheKey) -> str:
        return f"{self._digest}-{_address_digest(key)}"

    @cached_property
    def _digest(self) -> str:
        return hashlib.sha256(repr(self.marks).encode()).hexdigest()[:16]


@lru_cache(maxsize=1024)
def _address_digest(key: CacheKey) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:8]


def _bucket(at: datetime, size: timedelta) -> int:
    return int((at - EPOCH) // size)


def _version_query() -> Select[Any]:
    c, k, o = t.components, t.checks, t.component_overrides
    i, iu, m, mu = t.incidents, t.incident_updates, t.maintenances, t.maintenance_updates
    r = t.daily_rollups

    def newest(column: ColumnElement[Any]) -> Any:
        return select(func.max(column)).scalar_subquery()

    def rows_of(table: Table, *where: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    times = [
        newest(c.c.status_since),
        newest(k.c.last_result_at),  # the page shows "last checked"
        newest(k.c.since),  # a check the scheduler marked stale
        newest(o.c.set_at),
        newest(i.c.updated_at),
        newest(i.c.published_at),
        newest(iu.c.created_at),
        newest(m.c.updated_at),
        newest(mu.c.created_at),
        # Every rollup write includes today's row, so the newest write is
        # among the last days; the primary key finds them per component
        # instead of scanning years of history.
        select(func.max(r.c.updated_at))
        .where(r.c.component_id.in_(select(c.c.id)), r.c.day >= bindparam("recent_day"))
        .scalar_subquery(),
    ]
    others = [
        newest(t.transitions.c.id),
        rows_of(c, c.c.active.is_(True)),
        rows_of(o),  # a released override leaves no timestamp
        rows_of(i),  # nor a deleted draft
        rows_of(m),
        select(t.heartbeats.c.at)
        .where(t.heartbeats.c.name == SCHEDULER_HEARTBEAT)
        .scalar_subquery(),
    ]
    return select(*times, *others)


# Built once: the statement is the same for every request.
VERSION_QUERY = _version_query()
TIMESTAMP_MARKS = 10  # the first columns of VERSION_QUERY
# When each check's state changes on its own (stale, confirmation due).
DEADLINES_QUERY = (
    select(t.checks.c.next_change_at)
    .where(t.checks.c.next_change_at.is_not(None))
    .order_by(t.checks.c.next_change_at)
)


@dataclass(frozen=True)
class StoredState:
    """The database's part of the state version: what only a write changes."""

    row: tuple[Any, ...]  # VERSION_QUERY's columns
    deadlines: tuple[datetime, ...]  # sorted


def read_stored_state(store: Store, now: datetime) -> StoredState:
    with store.engine.connect() as conn:
        recent_day = (now - ROLLUPS_REWRITTEN).date()  # today in any time zone, and before
        row = conn.execute(VERSION_QUERY, {"recent_day": recent_day}).one()
        deadlines = conn.execute(DEADLINES_QUERY).scalars().all()
    return StoredState(tuple(row), tuple(deadlines))


def version_at(state: StoredState, now: datetime) -> StateVersion:
    """The version at `now`: the stored state, how many check deadlines
    have passed unseen, and the time bucket of `now`."""
    row = state.row
    found: list[datetime] = [v for v in row[:TIMESTAMP_MARKS] if v is not None]
    beat: datetime | None = row[-1]
    bucket = _bucket(now, RENDER_BUCKET)
    passed = bisect_right(state.deadlines, now)
    heartbeat = None if beat is None else _bucket(beat, HEARTBEAT_BUCKET)
    marks = (*row[:-1], passed, heartbeat, bucket)
    # The time bucket counts as a change too: a client revalidating with
    # If-Modified-Since after it must get the page with the new countdowns.
    last = max([*found, EPOCH + bucket * RENDER_BUCKET])
    return StateVersion(marks, last.replace(microsecond=0))


def state_version(store: Store, now: datetime) -> StateVersion:
    """Maxima and counts that change whenever anything a public page shows
    changes (a result, a transition, an incident or maintenance update, a
    rollup, an override, a check deadline passing unseen, the scheduler's
    beat), plus the time bucket of `now`; read from the database now."""
    return version_at(read_stored_state(store, now), now)


class VersionCache:
    """`state_version` for every request of one process, with the database
    read again only after a commit through `store` (any thread of this
    process) or once `ttl` has passed (another process's write)."""

    def __init__(
        self,
        store: Store,
        ttl: timedelta = VERSION_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.ttl_s, self.monotonic = store, ttl.total_seconds(), monotonic
        self._commits = itertools.count(1)
        self._last_commit = 0
        # (commits seen, monotonic time read, what was read): replaced whole.
        self._kept: tuple[int, float, StoredState] | None = None
        self._last: StateVersion | None = None
        event.listen(store.engine, "commit", self._count_commit)

    def _count_commit(self, _conn: Connection) -> None:
        # Called as the commit starts: a read racing it may still see the
        # old rows, and is then read again within `ttl`.
        self._last_commit = next(self._commits)

    def version(self, now: datetime) -> StateVersion:
        kept, commits, at = self._kept, self._last_commit, self.monotonic()
        if kept is None or kept[0] != commits or at - kept[1] >= self.ttl_s:
            kept = self._kept = (commits, at, read_stored_state(self.store, now))
        version = version_at(kept[2], now)
        last = self._last
        if last is not None and last.marks == version.marks:
            return last  # with its ETag digest worked out already
        self._last = version
        return version


# --- the kept pages ------------------------------------------------------------


@dataclass(frozen=True)
class KeptPage:
    """A rendered 200 answer: its bytes and headers, for one state version."""

    marks: tuple[Any, ...]
    body: bytes
    headers: list[tuple[str, str]]


class RenderCache:
    """At most `max_entries` pages, least recently used dropped first. One
    entry per address: a page of an older version is replaced, not kept."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._pages: OrderedDict[CacheKey, KeptPage] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn threads share the process

    def __len__(self) -> int:
        return len(self._pages)

    def __contains__(self, key: CacheKey) -> bool:
        return key in self._pages

    def get(self, key: CacheKey, version: StateVersion) -> KeptPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.marks != version.marks:
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: CacheKey, page: KeptPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def render_cache(app: Flask) -> RenderCache:
    cache: RenderCache = app.extensions["statuspage"]["render_cache"]
    return cache


def version_cache(app: Flask) -> VersionCache:
    versions: VersionCache = app.extensions["statuspage"]["version_cache"]
    return versions


# --- the request hooks ----------------------------------------------------------


def is_cacheable_request() -> bool:
    """A GET or HEAD of a public page or the read API; never the admin, the
    write API, the health endpoints or static files."""
    return (
        request.method in ("GET", "HEAD")
        and request.routing_exception is None
        and request.blueprint in CACHED_BLUEPRINTS
        and not request.path.startswith(PRIVATE_PREFIXES)
    )


def is_current(version: StateVersion, etag: str) -> bool:
    """The client's copy is this version (RFC 9110 13.2.2: If-None-Match
    wins; If-Modified-Since only counts without it)."""
    if "If-None-Match" in request.headers:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and version.last_modified <= since


def add_validators(response: Response, version: StateVersion, etag: str) -> None:
    response.set_etag(etag)
    response.last_modified = version.last_modified
    response.headers.setdefault("Cache-Control", CACHE_CONTROL)


def serve_from_cache() -> Response | None:
    """Before the view: a 304 or the kept bytes when this version of the
    page was seen already; None lets the view render."""
    if not is_cacheable_request():
        return None
    key: CacheKey = (request.host, request.path, request.query_string)
    version = version_cache(current_app).version(deps.now())
    g.render_cache_key, g.render_cache_version = key, version
    etag = version.etag(key)
    if is_current(version, etag):
        g.render_cache_served = True
        not_modified = Response(status=304)
        add_validators(not_modified, version, etag)
        return not_modified
    kept = render_cache(current_app).get(key, version)
    if kept is None:
        return None
    g.render_cache_served = True
    return Response(kept.body, status=200, headers=kept.headers)


def keep_rendered(response: Response) -> Response:
    """After the view: keep a 200 answer for this version, with validators.
    An answer that touched the session (a form's CSRF token) is private."""
    version: StateVersion | None = g.get("render_cache_version")
    if version is None or g.get("render_cache_served"):
        return response
    key: CacheKey = g.render_cache_key
    if session.modified or "Set-Cookie" in response.headers:
        response.headers["Cache-Control"] = "private, no-store"
        return response
    cache_control = response.cache_control
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or cache_control.private
        or cache_control.no_store
    ):
        return response
    add_validators(response, version, version.etag(key))
    render_cache(current_app).put(
        key, KeptPage(version.marks, response.get_data(), list(response.headers.items()))
    )
    return response


class PublicPagesWithoutSession(SecureCookieSessionInterface):
    """Flask refreshes a permanent session cookie (and adds `Vary: Cookie`)
    on every request, public pages included: a logged-in admin reading `/`
    would get a `Set-Cookie` a CDN could keep and hand to everyone. On a
    cacheable request an untouched session is not written back."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("render_cache_version") is not None and not session.modified:
            return
        super().save_session(app, session, response)


# --- in front of Flask ------------------------------------------------------------


class KeptPagesFirst:
    """WSGI middleware in front of Flask. A plain GET or HEAD (without
    conditional headers) of an address whose page is kept for the current
    version gets the kept bytes and headers at once, without a Flask
    request: routing, session and hooks cost more than all the rest of a
    cached answer. Everything else goes on to Flask, whose hooks render,
    keep, revalidate (304) and serve kept pages as well.

    Only the Flask path puts pages in the cache, and only for cacheable
    requests, so an address found here is one Flask would have served from
    the cache too, with the same headers (`keep_rendered` runs after every
    other hook)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if (
            method in ("GET", "HEAD")
            and "HTTP_IF_NONE_MATCH" not in environ
            and "HTTP_IF_MODIFIED_SINCE" not in environ
        ):
            kept = self.kept_page(environ)
            if kept is not None:
                start_response("200 OK", list(kept.headers))
                return [] if method == "HEAD" else [kept.body]
        return self.wsgi_app(environ, start_response)

    def kept_page(self, environ: WSGIEnvironment) -> KeptPage | None:
        pages = render_cache(self.app)
        address = Request(environ)  # parses only what is read
        key: CacheKey = (address.host, address.path, address.query_string)
        if key not in pages:
            return None
        objects = self.app.extensions["statuspage"]
        try:
            version = version_cache(self.app).version(objects["clock"]())
        except Exception:
            return None  # the database is unwell: Flask answers, with its error page
        return pages.get(key, version)


def install(app: Flask) -> None:
    """The render cache for the public pages and /api/v2."""
    app.extensions["statuspage"]["render_cache"] = RenderCache()
    app.extensions["statuspage"]["version_cache"] = VersionCache(
        app.extensions["statuspage"]["store"]
    )
    app.session_interface = PublicPagesWithoutSession()
    app.before_request(serve_from_cache)
    # After-request hooks run last registered first: this one is put first
    # so that it runs last and keeps the headers every other hook added.
    app.after_request_funcs.setdefault(None, []).insert(0, keep_rendered)
    app.wsgi_app = KeptPagesFirst(app, app.wsgi_app)  # type: ignore[method-assign]
