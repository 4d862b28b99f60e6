"""Static export: the public pages as plain files, for nginx, a CDN or an
object store to serve, so the status page stays up when the company's own
servers do not.

Every page is rendered by the app itself (through its test client, with
the site's own host), so a file holds the very bytes the server would
answer at that address. Addresses become files like this (the "clean URL"
layout nginx's `try_files $uri $uri.html`, Netlify, Cloudflare Pages and
GitHub Pages understand; `deploy/nginx/statuspage.conf` serves it):

    /                              index.html
    /history                       history.html
    /history?page=2                history/page-2.html
    /incidents/<id>                incidents/<id>.html
    /components/<id>               components/<id>.html
    /components/<id>/badge.svg     components/<id>/badge.svg   (feeds alike)
    /api/v2/summary.json           api/v2/summary.json         (all of /api/v2)
    /static/style.css              static/style.css
    /static/style.css?v=<digest>   static/style.css            (the address pages name)

Each text file nginx would compress (HTML, CSS, JavaScript, JSON, SVG,
RSS, Atom) of at least `GZIP_MIN_LENGTH` bytes gets its gzip beside it
(`index.html.gz`), for nginx's `gzip_static` to send instead of
compressing the page again for every reader. A `.gz` is written, listed and
removed with its file, under the same rules.

A reader never sees half a file: every changed file is first written in
full beside its target (a hidden temp file, fsynced), and only when all of
them are written are they renamed over the old ones; a failure before that
leaves the previous export as it was. Files of pages that no longer exist
(a deleted incident) are removed; the export keeps the list of files it
wrote in `.statuspage-export.json` and removes nothing else, so other files
in the folder (a `robots.txt`) are left alone.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gzip
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import Headers

from statuspage.clock import Clock
from statuspage.config import Config
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.web import create_app
from statuspage.web.cache import state_version

log = logging.getLogger(__name__)

MANIFEST = ".statuspage-export.json"
LOCK_FILE = ".statuspage-export.lock"
TEMP_SUFFIX = ".statuspage-tmp"
# The blueprints whose GET pages are public and cacheable (cache.CACHED_BLUEPRINTS).
EXPORTED_BLUEPRINTS = frozenset({"public", "api_v2"})
# A path segment that is safe as a file name: no `..`, no hidden file, no separator.
SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$")
HISTORY_URL = "/history"
FILE_MODE = 0o644  # public pages: the web server's user must read them
# `run` with `export.dir`: how often the exporter looks for a change (one
# cheap query, the render cache's state version), and the least time
# between two exports, however often the state changes.
POLL_S = 1.0
MIN_INTERVAL_S = 5.0
# A site with many incidents takes a while to render: exports then start
# far enough apart that they use at most this share of one core.
EXPORT_DUTY = 0.25
STOP_WAIT_S = 30.0  # at exit, for an export under way to finish
# Precompressed siblings: the suffixes of the types in the nginx config's
# `gzip_types` (and HTML, which nginx always compresses), and its
# `gzip_min_length`, so that a reader gets the Content-Encoding nginx's own
# gzip would have given (`gzip_static` does not look at either).
GZIP_SUFFIX = ".gz"
COMPRESSED_SUFFIXES = (".html", ".css", ".js", ".json", ".svg", ".rss", ".atom")
GZIP_MIN_LENGTH = 256
GZIP_LEVEL = 9

Progress = Callable[[int, int], None]  # (files rendered, files known)


class ExportError(Exception):
    """The export could not be made; the previous one is left as it was."""


@dataclass
class RenderedSite:
    """What the app answered: file path -> bytes, the address each file is
    served at, and the addresses left to the app (with why)."""

    files: dict[str, bytes] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # url -> file path
    skipped: dict[str, str] = field(default_factory=dict)  # url -> reason


@dataclass(frozen=True)
class ExportResult:
    files: int  # in the export (not counting the .gz beside them)
    written: int  # new or changed this time (a file or its .gz)
    removed: int  # of pages that no longer exist (with their .gz)
    urls: Mapping[str, str]  # address -> file path
    skipped: Mapping[str, str]  # address -> why it is left to the app


# --- addresses and files --------------------------------------------------------


def file_for(url: str) -> str:
    """The file (relative, POSIX) that holds the page at `url`; see the
    module docstring. Raises ValueError for an address no file can hold."""
    parts = urlsplit(url)
    path, query = parts.path, parts.query
    segments = [s for s in path.split("/") if s]
    if not path.startswith("/") or any(not SAFE_SEGMENT.match(s) for s in segments):
        raise ValueError(f"{url!r} has no safe file name")
    if query and segments[:1] == ["static"] and re.fullmatch(r"v=[0-9a-f]+", query):
        return "/".join(segments)  # a versioned static address: the same file
    if query:
        found = re.fullmatch(r"page=([1-9][0-9]*)", query)
        if found is None or not segments:
            raise ValueError(f"{url!r}: only ?page=N has a file")
        return "/".join([*segments, f"page-{found.group(1)}.html"])
    if not segments:
        return "index.html"
    if segments[0] == "static" or "." in segments[-1]:
        return "/".join(segments)
    return "/".join(segments) + ".html"


def _safe_relative(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not rel.startswith("/") and all(SAFE_SEGMENT.match(p) for p in parts)


# --- rendering ---------------------------------------------------------------------


def _published_incident_ids(store: Store) -> list[str]:
    i = t.incidents
    query = select(i.c.id).where(i.c.published_at.is_not(None)).order_by(i.c.created_at, i.c.id)
    with store.engine.connect() as conn:
        return [row.id for row in conn.execute(query)]


def page_urls(app: Flask, store: Store) -> list[tuple[str, bool]]:
    """Every public address with a file, and whether it must answer: the
    routes of the public blueprints without arguments and the static files
    must; those with a component id (for each component) or an incident id
    (for each published incident) may have vanished by the time they are
    asked for. A route with any other argument is left to the app. The
    history pages after the first are found by asking (`render_site`)."""
    values = {
        "component_id": [c.id for c in store.components()],
        "incident_id": _published_incident_ids(store),
    }
    urls: list[tuple[str, bool]] = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            blueprint = rule.endpoint.rpartition(".")[0]
            if blueprint not in EXPORTED_BLUEPRINTS or "GET" not in (rule.methods or ()):
                continue
            arguments = sorted(rule.arguments)
            if not arguments:
                urls.append((url_for(rule.endpoint), True))
            elif len(arguments) == 1 and arguments[0] in values:
                for value in values[arguments[0]]:
                    given: dict[str, Any] = {arguments[0]: value}
                    urls.append((url_for(rule.endpoint, **given), False))
            else:
                log.debug("export: %s is left to the app (arguments %s)", rule.rule, arguments)
        static = Path(app.static_folder or "")
        for path in sorted(static.rglob("*")):
            rel = path.relative_to(static).as_posix()
            if path.is_file() and _safe_relative(rel):
                urls.append((url_for("static", filename=rel, v=None), True))
    return urls


def _base_url(app: Flask) -> str:
    """The site's scheme and host: pages are asked for as the public sees them."""
    site_url: str = app.extensions["statuspage"]["config"].site.url
    parts = urlsplit(site_url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_private(headers: Headers) -> bool:
    cache_control = headers.get("Cache-Control", "").lower()
    return "Set-Cookie" in headers or "private" in cache_control or "no-store" in cache_control


def _take(
    site: RenderedSite, client: FlaskClient, url: str, base_url: str, must_exist: bool
) -> bool:
    """Render `url` into `site`; False when the app has no such page."""
    try:
        rel = file_for(url)
    except ValueError:
        site.skipped[url] = "no safe file name for it"
        return True
    response = client.get(url, base_url=base_url)
    if response.status_code == 404 and not must_exist:
        return False
    if response.status_code != 200:
        raise ExportError(f"{url} answered {response.status_code}")
    if _is_private(response.headers):
        site.skipped[url] = "private to each visitor (a session or a form token)"
        return True
    if rel.endswith(".html") and response.mimetype != "text/html":
        site.skipped[url] = f"answers {response.mimetype}, which a file named .html would not"
        return True
    site.files[rel] = response.get_data()
    site.urls[url] = rel
    return True


def render_site(app: Flask, store: Store, progress: Progress | None = None) -> RenderedSite:
    """Ask the app for every public page. A page that answers an error
    stops the export (ExportError); a component or incident that vanished
    meanwhile is left out."""
    urls = page_urls(app, store)
    site = RenderedSite()
    client = app.test_client()
    base_url = _base_url(app)
    done, total = 0, len(urls)
    for url, must_exist in urls:
        _take(site, client, url, base_url, must_exist)
        done += 1
        if progress is not None:
            progress(done, total)
    number = 2
    while _take(site, client, f"{HISTORY_URL}?page={number}", base_url, must_exist=False):
        number += 1
        done += 1
        total += 1
        if progress is not None:
            progress(done, total)
    _add_versioned_static_urls(app, site)
    return site


def _add_versioned_static_urls(app: Flask, site: RenderedSite) -> None:
    """The address the pages name for each static file (`?v=<digest>`,
    statuspage.web.assets) is served by the same file: the static view
    answers the same bytes whatever the query."""
    with app.test_request_context():
        for url, rel in list(site.urls.items()):
            if rel.startswith("static/") and url == "/" + rel:
                versioned = url_for("static", filename=rel.removeprefix("static/"))
                if file_for(versioned) == rel:
                    site.urls[versioned] = rel


# --- writing -----------------------------------------------------------------------


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One export at a time in a folder, across threads and processes."""
    with open(out / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_manifest(out: Path) -> set[str]:
    try:
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    # Only ever remove files inside the folder, whatever the manifest says.
    return {rel for rel in listed if isinstance(rel, str) and _safe_relative(rel)}


def _write_file(target: Path, body: bytes) -> None:
    """Write a temp file beside `target` and rename it over `target`."""
    os.replace(_temp_copy(target, body), target)


def _temp_copy(target: Path, body: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(name, FILE_MODE)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _remove_with_empty_parents(out: Path, rel: str) -> None:
    path = out / rel
    path.unlink(missing_ok=True)
    for parent in path.parents:
        if parent == out or out not in parent.parents:
            break
        try:
            parent.rmdir()
        except OSError:
            break  # not empty


def _sync_dirs(dirs: set[Path]) -> None:
    """Make the renames durable: a crash after the export keeps it."""
    for folder in dirs:
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def with_precompressed(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """`files`, each followed by its `.gz` when it is a text file of at least
    `GZIP_MIN_LENGTH` bytes. The gzip header holds no time and no name, so
    the same page makes the same `.gz` (and an unchanged page is not
    rewritten)."""
    every: dict[str, bytes] = {}
    for rel, body in files.items():
        every[rel] = body
        if rel.endswith(COMPRESSED_SUFFIXES) and len(body) >= GZIP_MIN_LENGTH:
            every[rel + GZIP_SUFFIX] = gzip.compress(body, GZIP_LEVEL, mtime=0)
    return every


def _file_of(rel: str, files: set[str]) -> str:
    """The file a `.gz` is the gzip of, when that file is among `files`."""
    plain = rel.removesuffix(GZIP_SUFFIX)
    return plain if plain != rel and plain in files else rel


def write_site(out: Path, pages: Mapping[str, bytes]) -> tuple[int, int]:
    """Make `out` hold `pages` (relative path -> bytes) and their `.gz`;
    returns how many pages were written (or their `.gz`) and how many
    removed. See the module docstring for what a reader can see meanwhile."""
    files = with_precompressed(pages)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        for orphan in out.rglob(f".*{TEMP_SUFFIX}"):  # left by a killed export
            orphan.unlink(missing_ok=True)
        previous = _read_manifest(out)
        changed = {rel: body for rel, body in files.items() if _current(out / rel) != body}
        temps: dict[str, Path] = {}
        try:
            for rel, body in changed.items():
                temps[rel] = _temp_copy(out / rel, body)
            # Listed before they appear, so a failure below leaves none unlisted.
            _write_manifest(out, previous | set(files))
            for rel in list(temps):
                os.replace(temps.pop(rel), out / rel)
        finally:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
        stale = previous - set(files)
        # A `.gz` goes before its file, so that it never outlives it.
        for rel in sorted(
            stale, key=lambda r: (r.removesuffix(GZIP_SUFFIX), not r.endswith(GZIP_SUFFIX))
        ):
            _remove_with_empty_parents(out, rel)
        _write_manifest(out, set(files))
        _sync_dirs({(out / rel).parent for rel in changed} | {out})
    known = previous | set(files)
    written = {_file_of(rel, known) for rel in changed}
    removed = {rel for rel in stale if _file_of(rel, known) == rel}
    return len(written), len(removed)


def _write_manifest(out: Path, files: set[str]) -> None:
    body = json.dumps({"files": sorted(files)}, indent=1).encode()
    _write_file(out / MANIFEST, body)


# --- the whole export ---------------------------------------------------------------


class HeldClock:
    """The export app's clock: still for the length of one export, so every
    page says the same "updated at"."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Exporter:
    """Exports the public pages of one store into one folder, with an app of
    its own: its clock held for each export, its render cache apart from
    the server's."""

    def __init__(self, config: Config, store: Store, out: Path, clock: Clock) -> None:
        self.store, self.out, self.clock = store, out, clock
        self.held = HeldClock(clock())
        self.app = create_app(config, store, self.held)

    def export(self, progress: Progress | None = None) -> ExportResult:
        self.held.at = self.clock()
        site = render_site(self.app, self.store, progress)
        written, removed = write_site(self.out, site.files)
        return ExportResult(len(site.files), written, removed, site.urls, site.skipped)


# --- kept up to date while running ------------------------------------------------


def start_exporter(
    config: Config,
    app: Flask,
    stop_event: threading.Event,
    *,
    poll_s: float = POLL_S,
    min_interval_s: float = MIN_INTERVAL_S,
) -> threading.Thread | None:
    """With `export.dir` set, a thread that exports the public pages now and
    again whenever what they show changes (the render cache's state
    version, which also moves every 30 s for countdowns and the "monitoring
    delayed" notice): at most once every `min_interval_s` (or four times as
    long as an export takes, for a large site), and always once more after
    the last change. It stops when `stop_event` is set, and at interpreter
    exit after the export under way. None when the export is off.

    Every process started with the same `export.dir` exports; a lock on the
    folder keeps their writes from mixing."""
    out = config.export.path(config.base_dir)
    if out is None:
        return None
    objects = app.extensions["statuspage"]
    exporter = Exporter(config, objects["store"], out, objects["clock"])
    thread = threading.Thread(
        target=keep_exported,
        args=(exporter, stop_event, poll_s, min_interval_s),
        name="statuspage-export",
        daemon=True,
    )
    thread.start()
    # Found there by whoever stops the app (and tests); at exit in any case.
    objects["exporter"] = (thread, stop_event)
    atexit.register(_finish, stop_event, thread)
    log.info("exporting the public pages to %s", out)
    return thread


def _finish(stop_event: threading.Event, thread: threading.Thread) -> None:
    stop_event.set()
    thread.join(timeout=STOP_WAIT_S)


def keep_exported(
    exporter: Exporter, stop_event: threading.Event, poll_s: float, min_interval_s: float
) -> None:
    """The exporter thread's loop; see `start_exporter`."""
    exported: tuple[object, ...] | None = None  # the state version last exported
    last_start, gap = -float("inf"), min_interval_s
    unreadable = False
    while True:
        try:
            marks = state_version(exporter.store, exporter.clock()).marks
            unreadable = False
        except Exception:
            if not unreadable:  # once per outage, not once a second
                log.exception("export: could not read the state version")
            marks, unreadable = None, True
        if marks is not None and marks != exported and time.monotonic() - last_start >= gap:
            last_start = time.monotonic()
            try:
                result = exporter.export()
            except Exception:
                # `exported` stays: tried again after the gap.
                log.exception("export to %s failed; the previous export is left", exporter.out)
            else:
                if exported is None:
                    log.info("exported %d files to %s", result.files, exporter.out)
                    for url, why in sorted(result.skipped.items()):
                        log.warning("export: %s is left to the app: %s", url, why)
                # Read before the export: a change while it ran makes one more.
                exported = marks
            took = time.monotonic() - last_start
            gap = max(min_interval_s, took / EXPORT_DUTY)
        if stop_event.wait(poll_s):
            return
