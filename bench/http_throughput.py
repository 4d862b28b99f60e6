"""Requests/s over real HTTP, and the weight of the home page.

Issue 5, Speed, on the reference setup (examples/statuspage.yaml: five
components) with a prepared SQLite database (90 days of rollups, a few
incidents, a fresh result for every check; no scheduler):

1. `statuspage web` (gunicorn, 2 workers) against a bare Flask app under the
   same gunicorn settings whose one view returns the same bytes with the
   same headers: `wrk -t2 -c64 -d15s` on `/` and `/api/v2/summary.json`.
   Target: at least 0.9 of the bare app (rendering costs nothing per
   request thanks to the render cache).
2. The export (`statuspage export`) served by nginx with
   deploy/nginx/statuspage.conf against nginx serving a plain file of the
   same size from a bare `location`. Target: 1.0. Measured without
   compression (wrk's default) and as a browser asks (`Accept-Encoding:
   gzip`, the export's `.gz` against a plain file of the same bytes); each
   run in turn, three rounds over, the median kept.
3. The weight of `/`: its bytes raw and gzipped, and every request headless
   Chromium makes for a first visit, a second one at once and a third once
   the page's `max-age` has passed (read from nginx's access log, so a
   resource taken from the browser's cache is not counted). Target: one
   request for the page and at most 30 KB compressed.

    .venv/bin/python -m bench.http_throughput            # needs wrk, nginx, chromium
    .venv/bin/python -m bench.http_throughput --skip-app --nginx-conf OLD.conf

wrk, the servers and this script share the machine's cores, for the app and
for its ceiling alike.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from flask import Flask, Response

from statuspage.checks.base import CheckResult
from statuspage.config import Config, load_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.uptime import BAR_DAYS, DayRollup
from statuspage.webserver import DEFAULTS
from tests.support import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_CONFIG = ROOT / "examples" / "statuspage.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx" / "statuspage.conf"
BIN = Path(sys.executable).parent
PATHS = ("/", "/api/v2/summary.json")
SECRET_KEY = "bench-" + "k" * 40
BARE_DIR_ENV = "BENCH_BARE_DIR"
DAY_S = 86_400.0
# Headers the server sets itself; the bare app sends every other one the
# app sent, so both answers are the same bytes on the wire.
SERVER_HEADERS = {"content-length", "date", "server", "connection", "keep-alive"}


# --- the reference site ---------------------------------------------------------


def prepare_site(directory: Path) -> tuple[Path, Monitor]:
    """The reference config beside a SQLite database with 90 days of
    rollups and incidents; returns the config's path and a monitor that
    can feed fresh results into that database."""
    config_path = directory / "statuspage.yaml"
    shutil.copy(REFERENCE_CONFIG, config_path)
    config = load_config(config_path)
    store = Store(config.database_url())
    store.upgrade()
    now = datetime.now(UTC)
    monitor = Monitor(config, store, lambda: datetime.now(UTC))
    monitor.start()
    feed(monitor, config, rounds=config.defaults.confirm_up)
    with store.transaction() as conn:
        for n, component in enumerate(config.components):
            store.upsert_rollups(conn, component.id, history(n, now), now)
    add_incidents(store, now)
    feed(monitor, config)  # today's rollup from the transitions again
    store.close()
    return config_path, monitor


def history(n: int, now: datetime) -> list[DayRollup]:
    """Days before today: mostly operational, the n-th component with a
    partial outage every 9 days, a major outage every 31 and one day with
    an hour without data."""
    days = []
    for back in range(1, BAR_DAYS):
        day = DayRollup((now - timedelta(days=back)).date())
        partial = 1800.0 if (back + n) % 9 == 0 else 0.0
        major = 600.0 if (back + n) % 31 == 0 else 0.0
        blind = 3600.0 if back == 40 + n else 0.0
        day.add(ComponentStatus.PARTIAL_OUTAGE, partial)
        day.add(ComponentStatus.MAJOR_OUTAGE, major)
        day.add(ComponentStatus.UNKNOWN, blind)
        day.add(ComponentStatus.OPERATIONAL, DAY_S - partial - major - blind)
        days.append(day)
    return days


def add_incidents(store: Store, now: datetime) -> None:
    """Three resolved incidents, two of them within the past week."""
    repo = IncidentRepository(store)
    cases = [
        ("Subscriptions shown as expired", "payments", IncidentImpact.CRITICAL, 2),
        ("Slow API responses", "api", IncidentImpact.MINOR, 5),
        ("Notifications delayed", "notifications", IncidentImpact.MINOR, 20),
    ]
    with store.transaction() as conn:
        for name, component, impact, days_ago in cases:
            at = now - timedelta(days=days_ago)
            incident_id = repo.create(
                conn,
                name=name,
                status=IncidentStatus.INVESTIGATING,
                impact=impact,
                components={component: ComponentStatus.MAJOR_OUTAGE},
                body=f"We are investigating reports of {name.lower()}.",
                author="user:alice",
                now=at,
                display_at=at,
                deliver_notifications=False,
            )
            repo.add_update(
                conn,
                incident_id,
                status=IncidentStatus.IDENTIFIED,
                body="The cause is a configuration change; we are rolling it back.",
                author="user:alice",
                now=at + timedelta(minutes=40),
                deliver_notifications=False,
            )
            repo.resolve(
                conn,
                incident_id,
                body="The rollback is complete and the service is back to normal.",
                author="user:alice",
                now=at + timedelta(hours=2),
                deliver_notifications=False,
            )


def feed(monitor: Monitor, config: Config, rounds: int = 1) -> None:
    """A fresh operational result for every check (the page would show a
    check as stale 90 s after its last result)."""
    for _ in range(rounds):
        for check_id in monitor.checks:
            result = CheckResult(
                datetime.now(UTC), ComponentStatus.OPERATIONAL, "status 200", latency_ms=42.0
            )
            monitor.record(check_id, result)


# --- servers ----------------------------------------------------------------------


@contextlib.contextmanager
def process(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process, stopped (SIGTERM, then SIGKILL) at the end."""
    with open(log, "wb") as out:
        popen = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    try:
        yield
    finally:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(30)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(10)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def statuspage_web(config_path: Path, directory: Path) -> Iterator[str]:
    port = free_port()
    command = [str(BIN / "statuspage"), "web", "--config", str(config_path)]
    command += ["--port", str(port), "--workers", "2"]
    env = {"STATUSPAGE_SECRET_KEY": SECRET_KEY}
    with process(command, directory / "web.log", env):
        url = f"http://127.0.0.1:{port}"
        if not wait_for(lambda: answers(url + "/healthz"), 60):
            raise SystemExit((directory / "web.log").read_text())
        yield url


def bare_app() -> Flask:
    """Each path's bytes and headers as the app sent them (saved by
    `save_answers`), from one view: the ceiling of a Flask app under the
    same gunicorn. Loaded by gunicorn as `bench.http_throughput:bare_app()`."""
    folder = Path(os.environ[BARE_DIR_ENV])
    kept: dict[str, tuple[bytes, list[tuple[str, str]]]] = {}
    for body_file in folder.glob("*.body"):
        lines = body_file.with_suffix(".headers").read_text().splitlines()
        path = lines[0]
        headers = [(k, v) for k, _, v in (line.partition(": ") for line in lines[1:])]
        kept[path] = (body_file.read_bytes(), headers)
    app = Flask("bare")

    def view(path: str = "") -> Response:
        body, headers = kept["/" + path]
        return Response(body, headers=headers)

    app.add_url_rule("/", "root", view)
    app.add_url_rule("/<path:path>", "any", view)
    return app


def save_answers(url: str, folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    bodies = {}
    for n, path in enumerate(PATHS):
        answer = httpx.get(url + path)
        assert answer.status_code == 200, (path, answer.status_code)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in SERVER_HEADERS]
        (folder / f"{n}.body").write_bytes(answer.content)
        lines = [path] + [f"{k}: {v}" for k, v in headers]
        (folder / f"{n}.headers").write_text("\n".join(lines))
        bodies[path] = answer.content
    return bodies


@contextlib.contextmanager
def bare_web(folder: Path, directory: Path) -> Iterator[str]:
    port = free_port()
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(DEFAULTS["workers"]), "--worker-class", DEFAULTS["worker_class"]]
    command += ["--threads", str(DEFAULTS["threads"]), "--keep-alive", str(DEFAULTS["keepalive"])]
    command += ["bench.http_throughput:bare_app()"]
    with process(command, directory / "bare.log", {BARE_DIR_ENV: str(folder)}):
        url = f"http://127.0.0.1:{port}"
        if not wait_for(lambda: answers(url + "/"), 60):
            raise SystemExit((directory / "bare.log").read_text())
        yield url


@contextlib.contextmanager
def nginx(
    export_dir: Path,
    plain_dir: Path,
    work: Path,
    visit_log: Path | None = None,
    site_conf_path: Path = NGINX_CONF,
) -> Iterator[dict[str, str]]:
    """One nginx (2 workers) with three servers, each a base URL in the
    answer: `site`, the shipped site config (its upstream, the app, is not
    running: every page must come from the export); `plain`, a bare
    `location` serving `plain_dir`; `headers`, the export's files by their
    own names with the site's headers (types, charset, `add_header`) and
    nothing else of its config. With `visit_log`, every request is logged
    there (not while measuring: the log would cost the site alone)."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        raise SystemExit("needs nginx (apt-get install nginx)")
    work.mkdir()
    site_port, plain_port, headers_port = free_port(), free_port(), free_port()
    site_conf = site_conf_path.read_text(encoding="utf-8")
    site_headers = headers_of(site_conf)
    for old, new in {
        "    listen 80;\n": f"    listen 127.0.0.1:{site_port};\n",
        "    listen [::]:80;\n": "",
        "root /var/www/statuspage;": f"root {export_dir};",
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{free_port()};",
    }.items():
        assert site_conf.count(old) == 1, old
        site_conf = site_conf.replace(old, new)
    (work / "statuspage.conf").write_text(site_conf, encoding="utf-8")
    temp_paths = "\n".join(
        f"{kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "nginx.conf").write_text(
        textwrap.dedent(
            f"""
            {"user root;" if os.geteuid() == 0 else ""}
            worker_processes 2;
            daemon off;
            pid {work / "nginx.pid"};
            error_log {work / "error.log"} warn;
            events {{ worker_connections 1024; }}
            http {{
            log_format visit '$status $body_bytes_sent "$request"';
            access_log {f"{visit_log} visit" if visit_log else "off"};
            {temp_paths}
            include {work / "statuspage.conf"};
            server {{
                listen 127.0.0.1:{plain_port};
                root {plain_dir};
                types {{ text/html html; application/json json; }}
                location / {{ }}
            }}
            server {{
                listen 127.0.0.1:{headers_port};
                root {export_dir};
                {site_headers}
            }}
            }}
            """
        ),
        encoding="utf-8",
    )
    command = [
        binary,
        "-p",
        str(work),
        "-e",
        str(work / "error.log"),
        "-c",
        str(work / "nginx.conf"),
    ]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise SystemExit(checked.stderr)
    with process(command, work / "stdout.log"):
        ports = {"site": site_port, "plain": plain_port, "headers": headers_port}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        if not wait_for(lambda: answers(urls["site"] + "/"), 30):
            raise SystemExit((work / "error.log").read_text())
        yield urls


def headers_of(site_conf: str) -> str:
    """The shipped config's `types`, charset and `add_header` lines, in a
    `location /`: what a file served under that config is sent with."""
    types = re.search(r"\n    types \{.*?\n    \}", site_conf, re.DOTALL)
    charset = re.findall(r"^\s*(charset(?:_types)?\s[^;]*;)", site_conf, re.MULTILINE)
    added = re.findall(r"^\s*(add_header\s.*;)\s*$", site_conf, re.MULTILINE)  # one a line
    assert types and charset and added, "the shipped nginx config changed its layout"
    lines = [types.group(0).strip(), "default_type application/octet-stream;", *charset]
    return "\n".join([*lines, "location / {", *added, "}"])


# --- measures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    per_second: float
    requests: int
    bad: int  # non-2xx/3xx answers and socket errors


def wrk(
    url: str, seconds: int, connections: int = 64, threads: int = 2, compressed: bool = False
) -> Load:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    if compressed:  # as a browser asks
        command[1:1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rate is None or total is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return Load(float(rate.group(1)), int(total.group(1)), bad)


def measure(url: str, seconds: int, warmup: int, compressed: bool = False) -> Load:
    wrk(url, warmup, compressed=compressed)  # every worker and thread has the page cached
    return wrk(url, seconds, compressed=compressed)


def measure_rounds(
    urls: dict[str, tuple[str, bool]], rounds: int, seconds: int, warmup: int
) -> dict[str, Load]:
    """Each (url, compressed) in turn, `rounds` times over, so that a busier
    moment of the shared machine falls on all of them alike; for each, the
    median round (with the bad answers of every round)."""
    seen: dict[str, list[Load]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, (url, compressed) in urls.items():
            seen[name].append(measure(url, seconds, warmup, compressed))
    medians = {}
    for name, loads in seen.items():
        middle = sorted(loads, key=lambda load: load.per_second)[len(loads) // 2]
        medians[name] = Load(middle.per_second, middle.requests, sum(load.bad for load in loads))
    return medians


def ratio_table(rows: list[tuple[str, int, Load, Load]], names: tuple[str, str]) -> None:
    print(f"| path | bytes | {names[0]} req/s | {names[1]} req/s | ratio | bad answers |")
    print("|---|---|---|---|---|---|")
    for path, size, load, ceiling in rows:
        print(
            f"| `{path}` | {size:,} | {load.per_second:,.0f} | {ceiling.per_second:,.0f} "
            f"| {load.per_second / ceiling.per_second:.2f} | {load.bad + ceiling.bad} |"
        )


# Before each visit: none, none (at once), past the page's max-age (10 s).
VISIT_PAUSES_S = (0.0, 0.0, 11.0)


def browser_visits(site_url: str, log: Path) -> list[list[str]]:
    """The requests nginx saw for visits of `/` by headless Chromium, each
    in a new tab of one browser profile (a returning reader), after the
    pauses of `VISIT_PAUSES_S`."""
    from playwright.sync_api import sync_playwright

    from tests.liveserver import CHROMIUM, CHROMIUM_ARGS

    visits = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context()
            for pause in VISIT_PAUSES_S:
                time.sleep(pause)
                seen = log.stat().st_size if log.exists() else 0
                page = context.new_page()
                page.goto(site_url + "/", wait_until="networkidle")
                page.close()
                time.sleep(1.5)  # nginx writes its log as requests end
                visits.append(log.read_bytes()[seen:].decode().splitlines())
            context.close()
        finally:
            chromium.close()
    return visits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk before each run")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium visits")
    parser.add_argument("--skip-app", action="store_true", help="skip the gunicorn part (1)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="nginx part: rounds of runs, the median kept"
    )
    parser.add_argument(
        "--nginx-conf", type=Path, default=NGINX_CONF, help="the site config nginx runs"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config_path, monitor = prepare_site(directory)
        config = load_config(config_path)

        # 1. the app under gunicorn against a bare Flask app
        if not args.skip_app:
            rows = []
            with statuspage_web(config_path, directory) as app_url:
                feed(monitor, config)
                bodies = save_answers(app_url, directory / "bare")
                with bare_web(directory / "bare", directory) as bare_url:
                    for path in PATHS:
                        feed(monitor, config)  # the page stays fresh: no check goes stale
                        load = measure(app_url + path, args.seconds, args.warmup)
                        ceiling = measure(bare_url + path, args.seconds, args.warmup)
                        rows.append((path, len(bodies[path]), load, ceiling))
            print(
                "\nstatuspage web vs bare Flask, both gunicorn 2 workers "
                f"(wrk -t2 -c64 -d{args.seconds}s)"
            )
            ratio_table(rows, ("statuspage", "bare Flask"))

        # 2. the export served by nginx against a plain file
        feed(monitor, config)
        export_dir, plain_dir = directory / "public", directory / "plain"
        subprocess.run(
            [
                str(BIN / "statuspage"),
                "export",
                "--config",
                str(config_path),
                "--out",
                str(export_dir),
            ],
            check=True,
            cwd=directory,
            env={**os.environ, "STATUSPAGE_SECRET_KEY": SECRET_KEY},
            stdout=subprocess.DEVNULL,
        )
        plain_dir.mkdir()
        files = {
            "/": export_dir / "index.html",
            "/api/v2/summary.json": export_dir / "api/v2/summary.json",
        }
        exported = {path: file.read_bytes() for path, file in files.items()}
        # The plain file of the same bytes, and of the same bytes as the export's .gz.
        plain_names = {"/": "/page.html", "/api/v2/summary.json": "/summary.json"}
        plain_gz_names = {"/": "/page-gz.html", "/api/v2/summary.json": "/summary-gz.json"}
        for path, name in plain_names.items():
            (plain_dir / name.lstrip("/")).write_bytes(exported[path])
            gz = files[path].with_name(files[path].name + ".gz").read_bytes()
            (plain_dir / plain_gz_names[path].lstrip("/")).write_bytes(gz)
        rows, same_headers, compressed = [], [], []
        with nginx(export_dir, plain_dir, directory / "nginx", None, args.nginx_conf) as urls:
            for path in PATHS:
                by_name = urls["headers"] + ("/index.html" if path == "/" else path)
                loads = measure_rounds(
                    {
                        "site": (urls["site"] + path, False),
                        "plain": (urls["plain"] + plain_names[path], False),
                        "headers": (by_name, False),
                        "site gzip": (urls["site"] + path, True),
                        "plain gz": (urls["plain"] + plain_gz_names[path], False),
                    },
                    args.rounds,
                    args.seconds,
                    args.warmup,
                )
                size = len(exported[path])
                rows.append((path, size, loads["site"], loads["plain"]))
                same_headers.append((path, size, loads["site"], loads["headers"]))
                gz_size = (plain_dir / plain_gz_names[path].lstrip("/")).stat().st_size
                compressed.append((path, gz_size, loads["site gzip"], loads["plain gz"]))
            wire = httpx.get(urls["site"] + "/", headers={"Accept-Encoding": "gzip"})
        visits: list[list[str]] = []
        if not args.no_browser:
            log = directory / "visits.log"
            with nginx(
                export_dir, plain_dir, directory / "nginx-visits", log, args.nginx_conf
            ) as urls:
                visits = browser_visits(urls["site"], log)
        print(
            "\nexport served by nginx vs a plain file, nginx 2 workers "
            f"(wrk -t2 -c64 -d{args.seconds}s, median of {args.rounds}; {args.nginx_conf})"
        )
        ratio_table(rows, ("export", "plain file"))
        print(
            "\nthe same export against its files by name with the site's headers and nothing else"
        )
        ratio_table(same_headers, ("export", "file + headers"))
        print(
            "\nas a browser asks (Accept-Encoding: gzip), against a plain file of the bytes "
            "the export sends (bytes: its .gz)"
        )
        ratio_table(compressed, ("export gzip", "plain file"))

        # 3. page weight
        page = exported["/"]
        print("\npage weight of / (reference setup)")
        print(f"raw: {len(page):,} bytes; gzip -6: {len(gzip.compress(page, 6)):,} bytes")
        encoding = wire.headers.get("content-encoding")
        print(f"as nginx sends it: {wire.num_bytes_downloaded:,} bytes ({encoding})")
        for n, (visit, pause) in enumerate(zip(visits, VISIT_PAUSES_S, strict=False), 1):
            print(f"visit {n} ({pause:.0f} s after the one before): {len(visit)} requests")
            for line in visit:
                print(f"  {line}")


if __name__ == "__main__":
    main()
