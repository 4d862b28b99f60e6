"""A real Prometheus for the demo, scraping the simulated services.

The demo uses the real thing, not a fake, because what Prometheus does when
targets go dark (a `[1m]` rule keeps its last healthy value for about a
minute; see DESIGN.md) is exactly what the status page must not be fooled
by. When no `prometheus` binary is installed the demo runs without one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import yaml

HOST = "127.0.0.1"
SCRAPE_INTERVAL = "2s"
# Must not exceed the interval; a `/metrics` that hangs is cut by it.
SCRAPE_TIMEOUT = "1500ms"
READY_TIMEOUT_S = 20.0
STOP_GRACE_S = 5.0
POLL_INTERVAL_S = 0.1
# Another program may take the free port between our probe and
# Prometheus's bind; then we try again on a new one.
START_ATTEMPTS = 3
LOG_TAIL_LINES = 15

CONFIG_HEADER = """\
# prometheus.yml, written by `statuspage demo` on every start.
# One job scrapes the simulated services every 2s; each target carries a
# `service` label (honor_labels keeps the services' own, identical label).
"""


class PrometheusStartError(RuntimeError):
    """Prometheus is installed but did not become ready; the message says
    why and quotes the end of its log."""


@dataclass
class PrometheusProcess:
    """A Prometheus we started, answering at `url` (no trailing slash)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Ask it to stop (SIGTERM); kill it when it takes longer than `grace_s`."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> PrometheusProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def prometheus_config(targets: Mapping[str, str]) -> str:
    """prometheus.yml text: one job `services`, one labelled target per service."""
    config = {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_TIMEOUT,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "scrape_configs": [
            {
                "job_name": "services",
                "honor_labels": True,
                "static_configs": [
                    {"targets": [target], "labels": {"service": name}}
                    for name, target in targets.items()
                ],
            }
        ],
    }
    return CONFIG_HEADER + yaml.safe_dump(config, sort_keys=False)


def write_prometheus_config(path: Path, targets: Mapping[str, str]) -> Path:
    path.write_text(prometheus_config(targets), encoding="utf-8")
    return path


def start_prometheus(
    workdir: str | Path, targets: Mapping[str, str], *, ready_timeout_s: float = READY_TIMEOUT_S
) -> PrometheusProcess | None:
    """Start Prometheus on a free loopback port, scraping `targets`
    (service name -> "host:port"), with its data in `workdir/prometheus-data`.

    Returns None when no `prometheus` binary is on PATH; raises
    PrometheusStartError when it is there but not ready within
    `ready_timeout_s`.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        return None
    workdir = Path(workdir)
    (workdir / "prometheus-data").mkdir(parents=True, exist_ok=True)
    config_path = write_prometheus_config(workdir / "prometheus.yml", targets)
    log_path = workdir / "prometheus.log"
    reason = "not started"
    for _ in range(START_ATTEMPTS):
        prometheus = _launch(binary, config_path, workdir / "prometheus-data", log_path)
        reason = _wait_until_ready(prometheus, ready_timeout_s)
        if not reason:
            return prometheus
        prometheus.stop()
        if "address already in use" not in _log_tail(log_path).lower():
            break
    raise PrometheusStartError(f"Prometheus {reason}; its log ends:\n{_log_tail(log_path)}")


def _launch(binary: str, config_path: Path, data_dir: Path, log_path: Path) -> PrometheusProcess:
    port = _free_port()
    command = [
        binary,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={HOST}:{port}",
        "--storage.tsdb.retention.time=1d",
    ]
    # Prometheus's log goes to a file: it would bury the demo's console.
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    return PrometheusProcess(url=f"http://{HOST}:{port}", process=process, log_path=log_path)


def _wait_until_ready(prometheus: PrometheusProcess, timeout_s: float) -> str:
    """'' once /-/ready answers 200, else why it never did."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if prometheus.process.poll() is not None:
                return f"exited with code {prometheus.process.returncode}"
            try:
                if client.get(f"{prometheus.url}/-/ready").status_code == 200:
                    return ""
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(POLL_INTERVAL_S)
    return f"was not ready within {timeout_s:g}s"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _log_tail(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"
