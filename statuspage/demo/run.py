"""`statuspage demo`: simulated services, Prometheus when available, and a
status page watching them, in one process."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from statuspage.config import load_config
from statuspage.demo.democonfig import write_demo_config
from statuspage.demo.prometheus import PrometheusProcess, PrometheusStartError, start_prometheus
from statuspage.demo.scenario import ScenarioPlayer, Step
from statuspage.demo.services import SimulatedServices

log = logging.getLogger(__name__)


def run_demo(
    host: str,
    port: int,
    directory: Path,
    say: Callable[[str], None],
    stop_event: threading.Event | None = None,
    scenario: list[Step] | None = None,
) -> None:
    """Start everything, print how to use it, serve until interrupted
    (or until `stop_event` is set). A `scenario` starts playing once the
    page is up."""
    from statuspage.runtime import serve, start_services

    directory.mkdir(parents=True, exist_ok=True)
    services = SimulatedServices().start()
    prometheus: PrometheusProcess | None = None
    player: ScenarioPlayer | None = None
    try:
        try:
            prometheus = start_prometheus(directory, services.targets())
        except PrometheusStartError as exc:
            say(f"Prometheus did not start ({exc}); running without Prometheus checks.")
        if prometheus is not None and not wait_for_first_scrape(
            prometheus.url, len(services.names)
        ):
            say(
                "Prometheus has not scraped the services yet; its checks show No data until it does."
            )
        if prometheus is None:
            say(
                "No `prometheus` binary on the PATH: the demo runs without Prometheus checks "
                "(install it with `apt-get install prometheus` to see them)."
            )
        config_path = write_demo_config(
            directory,
            services.urls(),
            prometheus.url if prometheus else None,
            port,
            host=host,
            control_url=services.control_url,
        )
        config = load_config(config_path)
        running = start_services(config)

        def ready(url: str) -> None:
            nonlocal player
            say(banner(url, services, prometheus, config_path))
            if scenario:
                player = ScenarioPlayer(scenario, services, say).start()

        serve(running, host, port, on_ready=ready, stop_event=stop_event)
    finally:
        if player is not None:
            player.stop()
        if prometheus is not None:
            prometheus.stop()
        services.stop()


def wait_for_first_scrape(prometheus_url: str, targets: int, timeout_s: float = 20.0) -> bool:
    """Prometheus takes a few seconds to scrape new targets; starting the
    page before would show its checks as blind for no reason."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(
                f"{prometheus_url}/api/v1/query", params={"query": "up == 1"}, timeout=2
            )
            if len(answer.json()["data"]["result"]) >= targets:
                return True
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    return False


def command_name() -> str:
    """`statuspage` when it is on the PATH, else the path it was started by
    (`.venv/bin/statuspage` after the README's quick start)."""
    started_as = sys.argv[0]
    if shutil.which("statuspage") == os.path.abspath(started_as) or not started_as.endswith(
        "statuspage"
    ):
        return "statuspage"
    return os.path.relpath(started_as)


def banner(
    url: str, services: SimulatedServices, prometheus: PrometheusProcess | None, config_path: Path
) -> str:
    control = services.control_url
    lines = [
        "",
        f"  statuspage demo is running: {url}",
        "",
        f"  Simulated services: {', '.join(services.names)}  (control: {control})",
        f"  Prometheus: {prometheus.url if prometheus else 'not running'}",
        f"  Config and database: {config_path.parent}/",
        "",
        "  Break and mend a service while it runs (modes: healthy, slow, down, dead, metrics_dead):",
        f'    curl -d \'{{"mode": "down"}}\' {control}/payments/mode',
        f'    curl -d \'{{"mode": "slow", "slow_seconds": 1.5}}\' {control}/api/mode',
        f'    curl -d \'{{"mode": "metrics_dead"}}\' {control}/api/mode',
        f'    curl -d \'{{"mode": "healthy"}}\' {control}/payments/mode',
        f"    curl {control}/        # every service and its mode",
        "",
        "  Other commands work against it too:",
        f"    {command_name()} check --config {config_path}",
        "",
        "  Press Ctrl+C to stop.",
        "",
    ]
    return "\n".join(lines)
