"""A real Prometheus for integration tests, scraping a small exporter.

`prometheus_server` (one per test) and `shared_prometheus` (one per module,
for tests that only read) start the Debian `prometheus` binary on a free
loopback port, with a config in a temporary directory that scrapes an
`Exporter` every second. The exporter serves a histogram
`http_request_duration_seconds{service="api"}` and a counter
`http_requests_total{service="api"}`, observing `observations_per_scrape`
requests of 40 ms (or what `set_latency` says) on every scrape, so `rate()`
always has traffic to work with. Tests can make it stop answering /metrics, change the
latency, and stop or start Prometheus itself.

The fixtures are imported into conftest.py; the binary missing means skip.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PROMETHEUS_BINARY = os.environ.get("STATUSPAGE_TEST_PROMETHEUS", "/usr/bin/prometheus")
SCRAPE_INTERVAL_S = 1
# Bounds on waiting, never fixed sleeps: these are how long before giving up.
READY_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0
POLL_EVERY_S = 0.1
# Loopback needs no proxy, whatever the environment says.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Exporter:
    """A /metrics endpoint on loopback that a test can steer."""

    def __init__(self, latency: float = 0.04, observations_per_scrape: int = 10) -> None:
        # Seconds each request of a service takes; more services can be added.
        self.latencies = {"api": latency}
        self.observations_per_scrape = observations_per_scrape
        self.answering = True
        self.scrapes = 0
        self._lock = threading.Lock()
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["service"],
            registry=self.registry,
        )
        self.requests = Counter(
            "http_requests", "HTTP requests answered.", ["service"], registry=self.registry
        )
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, body = (
                    exporter._scrape() if self.path.startswith("/metrics") else (404, b"")
                )
                self.send_response(status)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self.target = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _scrape(self) -> tuple[int, bytes]:
        with self._lock:
            if not self.answering:
                return 503, b"exporter stopped answering\n"
            self.scrapes += 1
            for service, latency in self.latencies.items():
                for _ in range(self.observations_per_scrape):
                    self.duration.labels(service=service).observe(latency)
                    self.requests.labels(service=service).inc()
            return 200, generate_latest(self.registry)

    def stop_answering(self) -> None:
        """/metrics answers 503 from now on: every scrape fails."""
        with self._lock:
            self.answering = False

    def start_answering(self) -> None:
        with self._lock:
            self.answering = True

    def set_latency(
        self, seconds: float, service: str = "api", observations_per_scrape: int | None = None
    ) -> None:
        """What every request of `service` observed from the next scrape on took.
        A new service starts its series at the next scrape."""
        with self._lock:
            self.latencies[service] = seconds
            if observations_per_scrape is not None:
                self.observations_per_scrape = observations_per_scrape

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrometheusServer:
    """One Prometheus process, restartable on the same port and storage."""

    def __init__(self, workdir: Path, exporter: Exporter, binary: str = PROMETHEUS_BINARY) -> None:
        self.workdir = workdir
        self.exporter = exporter
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = workdir / "prometheus.yml"
        self.storage_path = workdir / "data"
        self.log_path = workdir / "prometheus.log"
        self.config_path.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
            f"  scrape_timeout: {SCRAPE_INTERVAL_S}s\n"
            f"  evaluation_interval: {SCRAPE_INTERVAL_S}s\n"
            "scrape_configs:\n"
            "  - job_name: api\n"
            "    static_configs:\n"
            f"      - targets: ['{exporter.target}']\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Prometheus and return once it is ready and has scraped the
        exporter since this start (and holds at least two scrapes, so that
        `rate()` has something to work with)."""
        assert self.process is None, "already running"
        started_at = time.time()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.storage_path}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_until(self._ready, "answer /-/ready")
        # timestamp() of the raw selector: of an expression, it is the query time.
        fresh = f'timestamp(up{{job="api"}}) >= {started_at:.3f}'
        scraped = 'up{job="api"} == 1'
        self._wait_until(
            lambda: bool(self.query(fresh)) and bool(self.query(scraped)), "scrape the exporter"
        )
        two = 'count_over_time(up{job="api"}[5m]) >= 2'
        self._wait_until(lambda: bool(self.query(two)), "hold two scrapes")

    def stop(self) -> None:
        """Stop Prometheus (SIGTERM, then SIGKILL); its port then refuses connections."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_DEADLINE_S)

    def query(self, promql: str) -> Any:
        """`data.result` of an instant query; raises on any failure."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with _direct.open(url, timeout=5) as response:
            return json.load(response)["data"]["result"]

    def _ready(self) -> bool:
        try:
            with _direct.open(f"{self.url}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _wait_until(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + READY_DEADLINE_S
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited before it could {what}:\n{self._log_tail()}")
            try:
                if condition():
                    return
            except (urllib.error.URLError, OSError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"prometheus did not {what} within {READY_DEADLINE_S:g}s:\n{self._log_tail()}"
                )
            time.sleep(POLL_EVERY_S)

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


@contextmanager
def running_prometheus(workdir: Path) -> Iterator[PrometheusServer]:
    if not os.access(PROMETHEUS_BINARY, os.X_OK):
        pytest.skip("prometheus binary not found: apt-get install prometheus")
    exporter = Exporter()
    server = PrometheusServer(workdir, exporter)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        exporter.close()


@pytest.fixture
def prometheus_server(tmp_path: Path) -> Iterator[PrometheusServer]:
    """A Prometheus of this test's own, free to stop, restart or blind."""
    with running_prometheus(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def shared_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """One Prometheus for a module's tests that leave it as they found it:
    do not stop it or blind it; steer only services of your own."""
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as server:
        yield server
