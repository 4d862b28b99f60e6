"""Versioned static addresses: a page costs one request on a repeat visit.

Every `url_for("static", filename=...)` (templates and code alike) gets
`?v=<digest>`, the first hex digits of the SHA-256 of the file's bytes.
Asked for with the current digest, a static file is sent with
`Cache-Control: public, max-age=31536000, immutable`, so a browser that
has it never asks again; a new file has a new address. Without `v`, or with
another digest (a page rendered before the file changed), it is sent as
before (`no-cache`: revalidated each time). Pass `v=None` for the plain
address.

The digests are worked out at startup and again only when a file's size or
modification time changes. The static export stores each file under its
plain name (`static/style.css`); nginx ignores the query string when it
picks the file and sends the long cache for any 12-hex-digit `v`, since it
cannot check the digest (see deploy/nginx/statuspage.conf).

Small files a page would otherwise fetch on their own (the favicon) are
put in the page as `data:` URIs (`data_uri` in templates).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

VERSION_ARG = "v"
DIGEST_CHARS = 12
LONG_CACHE = "public, max-age=31536000, immutable"


class StaticVersions:
    """The digest of each file of one static folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        # filename -> ((size, mtime_ns), digest); replaced whole, never mutated.
        self._known: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                self.version(path.relative_to(self.folder).as_posix())

    def _path(self, filename: str) -> Path | None:
        path = (self.folder / filename).resolve()
        if self.folder not in path.parents or not path.is_file():
            return None
        return path

    def version(self, filename: str) -> str | None:
        """The digest of the file now, or None when there is no such file."""
        path = self._path(filename)
        if path is None:
            return None
        stat = path.stat()
        mark = (stat.st_size, stat.st_mtime_ns)
        known = self._known.get(filename)
        if known is not None and known[0] == mark:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_CHARS]
        with self._lock:
            self._known = {**self._known, filename: (mark, digest)}
        return digest

    def data_uri(self, filename: str) -> str:
        """The file as a base64 `data:` URI (nothing in it for HTML to escape;
        percent-encoded SVG markup would be longer, its quotes and spaces
        three characters each)."""
        path = self._path(filename)
        if path is None:
            raise FileNotFoundError(filename)
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def static_versions(app: Flask) -> StaticVersions:
    versions: StaticVersions = app.extensions["statuspage"]["static_versions"]
    return versions


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for` defaults: `v` for a static file, unless given (None: none)."""
    if endpoint != "static" or VERSION_ARG in values or "filename" not in values:
        return
    version = static_versions(current_app).version(str(values["filename"]))
    if version is not None:
        values[VERSION_ARG] = version


def long_cache_when_current(response: Response) -> Response:
    """A static file asked for with its current digest is kept for a year."""
    if request.endpoint != "static" or response.status_code not in (200, 206, 304):
        return response
    asked = request.args.get(VERSION_ARG)
    filename = (request.view_args or {}).get("filename")
    if asked and filename and asked == static_versions(current_app).version(filename):
        response.headers["Cache-Control"] = LONG_CACHE
        response.headers.pop("Expires", None)
    return response


def install(app: Flask) -> None:
    versions = StaticVersions(Path(app.static_folder or ""))
    app.extensions["statuspage"]["static_versions"] = versions
    app.url_defaults(add_version)
    app.after_request(long_cache_when_current)
    data_uris: dict[tuple[str, str | None], str] = {}

    def data_uri(filename: str) -> str:
        key = (filename, versions.version(filename))
        if key not in data_uris:
            data_uris[key] = versions.data_uri(filename)
        return data_uris[key]

    app.jinja_env.globals["data_uri"] = data_uri
