"""Static export: every public page as a file holding the server's own
bytes, removed when the page goes, written so that no reader ever sees half
a file, kept current by `run`, and served by the shipped nginx config."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from statuspage import export
from statuspage.checks.base import CheckResult
from statuspage.cli import main
from statuspage.config import Config, ConfigError, load_config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.export import (
    COMPRESSED_SUFFIXES,
    GZIP_MIN_LENGTH,
    LOCK_FILE,
    MANIFEST,
    TEMP_SUFFIX,
    Exporter,
    ExportError,
    file_for,
    start_exporter,
)
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from statuspage.web.assets import LONG_CACHE
from tests.conftest import FakeClock
from tests.liveserver import serve
from tests.support import free_port, wait_for

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE
NOW = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
API_V2 = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


def site_config(export_dir: Path | None = None, with_docs: bool = True) -> Config:
    components: list[dict[str, Any]] = [
        {
            "id": "api",
            "name": "API",
            "checks": [{"name": "health", "type": "http", "url": "http://a/"}],
        },
        {
            "id": "payments",
            "name": "Payments",
            "checks": [{"name": "canary", "type": "http", "url": "http://p/"}],
        },
    ]
    if with_docs:
        components.append({"id": "docs", "name": "Docs", "group": "Workspace"})
    data: dict[str, Any] = {
        "site": {"title": "Acme Status", "url": "https://status.acme.test"},
        "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2},
        "components": components,
    }
    if export_dir is not None:
        data["export"] = {"dir": str(export_dir)}
    return parse_config(data, env={})


@dataclass
class Site:
    config: Config
    store: Store
    clock: FakeClock
    monitor: Monitor
    out: Path
    incidents: dict[str, str]  # name -> id

    def feed(self, status: ComponentStatus, *check_ids: str, times: int = 2) -> None:
        """`times` rounds of results, 30 s apart, for the checks named
        (default: all, so that none goes stale)."""
        for _ in range(times):
            self.clock.advance(30)
            for check_id in check_ids or ("api/health", "payments/canary"):
                self.monitor.record(check_id, CheckResult(self.clock(), status, "seen", 25.0))

    def exporter(self) -> Exporter:
        return Exporter(self.config, self.store, self.out, self.clock)

    def files(self) -> dict[str, bytes]:
        """What a reader of the folder finds, but the export's own bookkeeping."""
        return {
            p.relative_to(self.out).as_posix(): p.read_bytes()
            for p in self.out.rglob("*")
            if p.is_file() and p.name not in (MANIFEST, LOCK_FILE)
        }

    def pages(self) -> dict[str, bytes]:
        """`files` but the precompressed copies beside them."""
        return {rel: body for rel, body in self.files().items() if not rel.endswith(".gz")}


def add_incident(
    store: Store, name: str, at: datetime, resolved: bool = False, publish: bool = True
) -> str:
    repo = IncidentRepository(store)
    with store.transaction() as conn:
        incident_id = repo.create(
            conn,
            name=name,
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={"payments": DOWN} if publish else {},
            body=f"{name}: investigating.",
            author="user:alice",
            now=at,
            publish=publish,
            display_at=at,
        )
        if resolved:
            repo.resolve(
                conn,
                incident_id,
                body=f"{name}: fixed.",
                author="user:alice",
                now=at + timedelta(hours=1),
            )
    return incident_id


@pytest.fixture
def site(sqlite_store: Store, tmp_path: Path) -> Site:
    clock = FakeClock(NOW)
    config = site_config()
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    incidents = {
        # June: on the second history page (three months a page).
        "june": add_incident(sqlite_store, "June outage", datetime(2026, 6, 10, tzinfo=UTC), True),
        "september": add_incident(sqlite_store, "Slow API", datetime(2026, 9, 2, tzinfo=UTC), True),
        "draft": add_incident(sqlite_store, "Secret draft", NOW, publish=False),
    }
    site = Site(config, sqlite_store, clock, monitor, tmp_path / "public", incidents)
    site.feed(OK, "api/health")
    site.feed(DOWN, "payments/canary")  # opens an incident on its own
    monitor.maintenance.create(
        title="Database upgrade",
        starts_at=NOW + timedelta(days=2),
        ends_at=NOW + timedelta(days=2, hours=1),
        timezone="UTC",
        components=["api"],
        created_by="user:alice",
        now=clock(),
    )
    monitor.beat()
    return site


# --- addresses and files --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/", "index.html"),
        ("/history", "history.html"),
        ("/history?page=2", "history/page-2.html"),
        ("/incidents/abc123", "incidents/abc123.html"),
        ("/components/api", "components/api.html"),
        ("/components/api/badge.svg", "components/api/badge.svg"),
        ("/components/api/history.rss", "components/api/history.rss"),
        ("/history.atom", "history.atom"),
        ("/api/v2/incidents/unresolved.json", "api/v2/incidents/unresolved.json"),
        ("/static/style.css", "static/style.css"),
    ],
)
def test_each_address_has_one_file(url: str, path: str) -> None:
    assert file_for(url) == path


@pytest.mark.parametrize(
    "url",
    ["/incidents/..", "/incidents/.hidden", "/a/b%2F..", "/history?page=0", "/x?y=1", "/?page=2"],
)
def test_an_address_no_file_can_safely_hold_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        file_for(url)


# --- what is exported ---------------------------------------------------------------


def test_every_file_holds_what_the_server_answers_at_its_address(site: Site) -> None:
    result = site.exporter().export()

    (automated,) = [i.id for i in IncidentRepository(site.store).unresolved()]
    published = [site.incidents["june"], site.incidents["september"], automated]
    expected = {
        "/",
        "/history",
        "/history?page=2",
        "/badge.svg",
        "/history.rss",
        "/history.atom",
        "/static/style.css",
        "/static/localtime.js",
        "/static/favicon.svg",
        *API_V2,
        *(f"/incidents/{i}" for i in published),
        *(
            f"/components/{c}{tail}"
            for c in ("api", "payments", "docs")
            for tail in ("", "/badge.svg", "/history.rss", "/history.atom")
        ),
    }
    assert expected <= set(result.urls)
    assert result.skipped == {}
    # Nothing else in the folder; the draft has no file and is named nowhere.
    assert set(site.pages()) == set(result.urls.values())
    assert not any(site.incidents["draft"] in p for p in result.urls)
    assert not any(b"Secret draft" in body for body in site.files().values())

    server_app = create_app(site.config, site.store, site.clock)
    with serve(server_app) as base, httpx.Client(base_url=base) as client:
        for url, rel in sorted(result.urls.items()):
            answer = client.get(url)
            assert answer.status_code == 200, url
            assert answer.content == (site.out / rel).read_bytes(), url


def test_pages_that_no_longer_exist_lose_their_files_and_other_files_stay(site: Site) -> None:
    site.exporter().export()
    gone = site.incidents["september"]
    (site.out / "robots.txt").write_text("User-agent: *\n")
    assert (site.out / f"incidents/{gone}.html").exists()
    assert (site.out / "components/docs/badge.svg").exists()

    # The incident is deleted (as retention would) and docs leaves the config.
    with site.store.transaction() as conn:
        for table in (t.incident_updates, t.incident_components):
            conn.execute(delete(table).where(table.c.incident_id == gone))
        conn.execute(delete(t.incidents).where(t.incidents.c.id == gone))
    Monitor(site_config(with_docs=False), site.store, site.clock).start()
    result = site.exporter().export()

    files = site.pages()
    assert not [p for p in site.files() if gone in p or p.startswith("components/docs")]
    assert f"incidents/{gone}.html" not in files
    assert not [p for p in files if p.startswith("components/docs")]
    assert not (site.out / "components/docs").exists()  # its emptied folder too
    assert result.removed == 5  # the incident, the docs page, its badge and two feeds
    assert files["robots.txt"] == b"User-agent: *\n"  # not the export's, left alone
    assert set(files) == set(result.urls.values()) | {"robots.txt"}


def test_an_unchanged_page_is_not_rewritten(site: Site) -> None:
    exporter = site.exporter()
    exporter.export()
    before = {p: (site.out / p).stat().st_mtime_ns for p in site.files()}

    again = exporter.export()

    assert again.written == 0 and again.removed == 0
    assert {p: (site.out / p).stat().st_mtime_ns for p in site.files()} == before


def test_each_text_file_has_its_gzip_beside_it(site: Site) -> None:
    result = site.exporter().export()

    files, pages = site.files(), site.pages()
    compressed = {rel.removesuffix(".gz") for rel in files if rel.endswith(".gz")}
    assert compressed <= set(pages)
    for rel, body in pages.items():
        wanted = rel.endswith(COMPRESSED_SUFFIXES) and len(body) >= GZIP_MIN_LENGTH
        assert (rel in compressed) == wanted, rel
    for rel in compressed:
        assert gzip.decompress(files[rel + ".gz"]) == files[rel], rel
    assert {"index.html", "api/v2/summary.json", "static/style.css", "history.atom"} <= compressed
    # Listed like their files (so removed with them), not counted as pages.
    assert set(json.loads((site.out / MANIFEST).read_text())["files"]) == set(files)
    assert result.files == len(pages)


def test_the_static_addresses_the_pages_name_have_their_files(site: Site) -> None:
    result = site.exporter().export()

    named = re.findall(r'"(/static/[^"]+)"', (site.out / "index.html").read_text())
    assert len(named) == 2
    for url in named:
        path, _, query = url.partition("?")
        assert re.fullmatch(r"v=[0-9a-f]{12}", query), url
        assert result.urls[url] == result.urls[path] == path.removeprefix("/"), url


# --- never half a file ----------------------------------------------------------------


def no_temp_files(out: Path) -> bool:
    return not [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_a_page_that_fails_to_render_leaves_the_previous_export_as_it_was(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = site.exporter()
    exporter.export()
    before = site.files()
    site.feed(OK)  # every page would change

    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("statuspage.web.api_v2.status_json", broken)
    with pytest.raises(ExportError, match=r"/api/v2/status\.json answered 500"):
        exporter.export()

    assert site.files() == before
    assert no_temp_files(site.out)


def test_a_write_that_fails_midway_leaves_the_previous_export_and_no_temp_files(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = site.exporter()
    exporter.export()
    before = site.files()
    site.feed(OK)
    real_fsync, calls = os.fsync, []

    def disk_full_on_the_fifth(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(export.os, "fsync", disk_full_on_the_fifth)
    with pytest.raises(OSError, match="No space left"):
        exporter.export()

    assert site.files() == before
    assert no_temp_files(site.out)
    monkeypatch.setattr(export.os, "fsync", real_fsync)
    assert exporter.export().written > 0
    assert b"All Systems Operational" in site.files()["index.html"]


def test_temp_files_of_a_killed_export_are_cleared(site: Site) -> None:
    site.exporter().export()
    orphan = site.out / "incidents" / f".x.html.k1ll3d{TEMP_SUFFIX}"
    orphan.write_bytes(b"<!doctype html><html><bo")

    site.exporter().export()

    assert not orphan.exists()


def test_a_reader_never_sees_half_a_file(site: Site) -> None:
    exporter = site.exporter()
    exporter.export()
    page, summary = site.out / "index.html", site.out / "api/v2/summary.json"
    bad: list[str] = []
    reads = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal reads
        while not stop.is_set():
            html = page.read_bytes()
            if not html.rstrip().endswith(b"</html>"):
                bad.append(f"index.html ends {html[-40:]!r}")
            try:
                json.loads(summary.read_bytes())
            except ValueError as exc:
                bad.append(f"summary.json: {exc}")
            reads += 1

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(8):
            site.feed(DOWN if n % 2 else OK, "api/health", "payments/canary")  # every page changes
            exporter.export()
    finally:
        stop.set()
        reader.join(timeout=10)
    assert reads > 0 and bad == []


# --- kept current while running ------------------------------------------------------------


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def test_run_exports_again_after_changes_at_most_once_per_interval(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = site_config(export_dir=site.out)
    app = create_app(config, site.store, site.clock)
    starts: list[float] = []
    real_export = Exporter.export

    def counted(self: Exporter, *args: Any) -> Any:
        starts.append(time.monotonic())
        return real_export(self, *args)

    monkeypatch.setattr(Exporter, "export", counted)
    stop = threading.Event()
    thread = start_exporter(config, app, stop, poll_s=0.02, min_interval_s=0.4)
    assert thread is not None
    index = site.out / "index.html"
    try:
        assert wait_for(lambda: "Partial System Outage" in read_text(index), timeout=20)
        # A burst of changes: the export ends up showing the last one.
        (automated,) = IncidentRepository(site.store).unresolved()
        for n in range(1, 6):
            site.clock.advance(1)
            with site.store.transaction() as conn:
                IncidentRepository(site.store).add_update(
                    conn,
                    automated.id,
                    status=IncidentStatus.IDENTIFIED,
                    body=f"Rollback step {n} of 5.",
                    author="user:alice",
                    now=site.clock(),
                )
        assert wait_for(lambda: "Rollback step 5 of 5." in read_text(index), timeout=20)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    # The first export, perhaps one amid the burst, and one after it.
    assert 2 <= len(starts) <= 3
    assert all(b - a >= 0.4 for a, b in itertools.pairwise(starts))
    assert "Rollback step 5 of 5." in read_text(index)  # kept after the stop


def test_run_starts_the_exporter_when_export_dir_is_set(tmp_path: Path) -> None:
    from statuspage.runtime import start_services

    config = parse_config(
        {
            "storage": {"path": str(tmp_path / "statuspage.db")},
            "export": {"dir": str(tmp_path / "public")},
            "components": [{"id": "docs", "name": "Docs"}],
        },
        env={},
    )
    services = start_services(config, FakeClock(NOW))
    thread, stop = services.app.extensions["statuspage"]["exporter"]
    try:
        page = tmp_path / "public" / "components" / "docs.html"
        assert wait_for(lambda: "<h1>Docs</h1>" in read_text(page), timeout=20)
    finally:
        stop.set()
        thread.join(timeout=20)
        services.stop()
    assert not thread.is_alive()


def test_no_exporter_without_an_export_dir(site: Site) -> None:
    app = create_app(site.config, site.store, site.clock)
    assert start_exporter(site.config, app, threading.Event()) is None


def test_export_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "statuspage.yaml"
    path.parent.mkdir()
    path.write_text("export: {dir: public}\n")
    config = load_config(path)
    assert config.export.path(config.base_dir) == tmp_path / "conf" / "public"
    assert load_config(tmp_path / "conf" / "statuspage.yaml").export.dir == "public"

    path.write_text("export: {dir: '  '}\n")
    with pytest.raises(ConfigError, match=r"export\.dir"):
        load_config(path)
    path.write_text("export: {folder: public}\n")
    with pytest.raises(ConfigError, match=r"export\.folder"):
        load_config(path)


# --- the command -------------------------------------------------------------------------


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        textwrap.dedent(
            """
            site: {title: Acme Status}
            export: {dir: public}
            components:
              - {id: api, name: API}
            """
        )
    )
    return path


def migrated(config_path: Path) -> None:
    store = Store(load_config(config_path).database_url())
    store.upgrade()
    store.close()


def test_export_command_writes_to_export_dir_by_default(config_path: Path) -> None:
    migrated(config_path)
    result = CliRunner().invoke(main, ["export", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    out = config_path.parent / "public"
    assert (out / "index.html").read_bytes().startswith(b"<!doctype html>")
    assert (out / "api/v2/summary.json").exists()
    assert f"files to {out}" in result.output
    assert "\r" not in result.output  # no progress line when not on a terminal


def test_export_command_exit_codes(config_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    # The database was never set up: nothing to export from.
    unmigrated = runner.invoke(main, ["export", "--config", str(config_path)])
    assert unmigrated.exit_code == 1
    assert "statuspage db upgrade" in unmigrated.output
    assert not (config_path.parent / "public").exists()

    bad = tmp_path / "bad.yaml"
    bad.write_text("components: [{id: API, name: x}]\nexport: {dir: 3}\n")
    broken = runner.invoke(main, ["export", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert broken.exit_code == 2
    assert "nothing was started" in broken.output

    nowhere = tmp_path / "nowhere.yaml"
    nowhere.write_text("components: []\n")
    no_out = runner.invoke(main, ["export", "--config", str(nowhere)])
    assert no_out.exit_code == 2
    assert "--out DIR" in no_out.output


def test_export_command_shows_progress_on_a_terminal(config_path: Path) -> None:
    migrated(config_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "statuspage.cli", "export", "--config", str(config_path)],
        stdout=terminal,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    text = shown.decode()
    assert "\rexported 1/" in text
    total = int(text.split("\rexported 1/")[1].split(" ")[0])
    assert f"\rexported {total}/{total} files" in text
    assert f"exported {total} files to" in text.splitlines()[-1]


# --- served by nginx ----------------------------------------------------------------------

NGINX_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "statuspage.conf"


@contextlib.contextmanager
def nginx_serving(root: Path, app_url: str, workdir: Path) -> Iterator[httpx.Client]:
    """deploy/nginx/statuspage.conf run by a real nginx on a free loopback
    port, its root and upstream pointed at `root` and `app_url`."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx): nginx test skipped")
    workdir.mkdir()
    port = free_port()
    site_conf = NGINX_CONF.read_text(encoding="utf-8")
    for old, new in {
        "    listen 80;\n": f"    listen 127.0.0.1:{port};\n",
        "    listen [::]:80;\n": "",
        "root /var/www/statuspage;": f"root {root};",
        "server 127.0.0.1:8080;": f"server {app_url.removeprefix('http://')};",
    }.items():
        assert site_conf.count(old) == 1, old  # the shipped file still has this line
        site_conf = site_conf.replace(old, new)
    (workdir / "statuspage.conf").write_text(site_conf, encoding="utf-8")
    temp_paths = "\n".join(
        f"{kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main_conf = workdir / "nginx.conf"
    main_conf.write_text(
        textwrap.dedent(
            f"""
            {"user root;" if os.geteuid() == 0 else ""}
            worker_processes 1;
            daemon off;
            pid {workdir / "nginx.pid"};
            error_log {workdir / "error.log"} warn;
            events {{ worker_connections 64; }}
            http {{
            access_log off;
            {temp_paths}
            include {workdir / "statuspage.conf"};
            }}
            """
        ),
        encoding="utf-8",
    )
    command = [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(main_conf)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def listening() -> bool:
        try:
            client.get("/static/favicon.svg")
        except httpx.TransportError:
            return False
        return True

    try:
        assert wait_for(listening, timeout=15), (workdir / "error.log").read_text()
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_nginx_serves_the_export_like_the_app_and_passes_the_rest(
    site: Site, tmp_path: Path
) -> None:
    result = site.exporter().export()
    app = create_app(site.config, site.store, site.clock)
    direct = app.test_client()
    with serve(app) as app_url, nginx_serving(site.out, app_url, tmp_path / "up") as nginx:
        for url, rel in sorted(result.urls.items()):
            expected = direct.get(url, base_url=site.config.site.url)
            served = nginx.get(url)
            assert served.status_code == 200, url
            assert served.content == (site.out / rel).read_bytes() == expected.get_data(), url
            for header in SAME_HEADERS:
                assert served.headers.get(header) == expected.headers.get(header), (url, header)
        assert nginx.get("/api/v2/summary.json").headers["Content-Encoding"] == "gzip"
        # The export's own gzip, sent as it is (nginx's would have no length).
        page = nginx.get("/", headers={"Accept-Encoding": "gzip"})
        assert page.headers["Content-Encoding"] == "gzip"
        assert page.headers["Vary"] == "Accept-Encoding"
        assert int(page.headers["Content-Length"]) == (site.out / "index.html.gz").stat().st_size
        plain = nginx.get("/", headers={"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in plain.headers
        assert plain.content == (site.out / "index.html").read_bytes()
        assert nginx.get("/index.html.gz").status_code == 404  # not by its own name
        # The versioned static addresses are kept a year, the plain ones revalidated.
        for url in re.findall(r'"(/static/[^"]+)"', plain.text):
            assert nginx.get(url).headers["Cache-Control"] == LONG_CACHE, url
            assert nginx.get(url.partition("?")[0]).headers["Cache-Control"] == "no-cache"
        # What the export has no file for, the app answers as it would.
        assert nginx.get("/history?page=3").status_code == 404
        assert nginx.get("/history?page=x").status_code == 400
        assert nginx.get(f"/{MANIFEST}").status_code == 404  # never from the folder
        login = nginx.get("/admin/login")
        assert login.status_code == 200 and "Log in" in login.text
        assert nginx.post("/").status_code == 405  # the app's answer to a POST
        assert nginx.get("/healthz").status_code == 200


def test_nginx_keeps_serving_the_pages_while_the_app_is_down(site: Site, tmp_path: Path) -> None:
    site.exporter().export()
    nothing_there = f"http://127.0.0.1:{free_port()}"
    with nginx_serving(site.out, nothing_there, tmp_path / "down") as nginx:
        assert nginx.get("/").content == (site.out / "index.html").read_bytes()
        assert nginx.get("/api/v2/status.json").status_code == 200
        assert nginx.get("/admin/login").status_code == 502  # staff need the app


SAME_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Access-Control-Allow-Origin",
)
