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
from dataclasses import dataclass
from pathlib import Path

import httpx

from statuspage.auth import Role, generate_password, hash_api_token, hash_password, new_api_token
from statuspage.clock import utc_now
from statuspage.config import load_config
from statuspage.demo.democonfig import write_demo_config
from statuspage.demo.mailbox import DemoMailbox
from statuspage.demo.prometheus import PrometheusProcess, PrometheusStartError, start_prometheus
from statuspage.demo.scenario import ScenarioPlayer, Step
from statuspage.demo.services import SimulatedServices
from statuspage.store import Store
from statuspage.store.users import UserRepository

log = logging.getLogger(__name__)

DEMO_ADMIN = "admin"


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
    mailbox = DemoMailbox(directory)
    try:
        mailbox.start()
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
            mail_port=mailbox.port,
        )
        config = load_config(config_path)
        running = start_services(config)
        credentials = demo_credentials(running.store)

        def ready(url: str) -> None:
            nonlocal player
            say(banner(url, services, prometheus, config_path, credentials, mailbox))
            if scenario:
                player = ScenarioPlayer(scenario, services, say).start()

        serve(running, host, port, on_ready=ready, stop_event=stop_event)
    finally:
        if player is not None:
            player.stop()
        if prometheus is not None:
            prometheus.stop()
        mailbox.stop()
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


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str
    api_token: str


def demo_credentials(store: Store) -> DemoCredentials:
    """A demo admin with a fresh password, and a fresh editor API token, on
    every start: printed once, like any real credentials."""
    users = UserRepository(store)
    now = utc_now()
    password = generate_password()
    existing = users.by_name(DEMO_ADMIN)
    if existing is None:
        users.create(DEMO_ADMIN, Role.ADMIN, hash_password(password), actor="demo", at=now)
    else:
        users.set_password(existing.id, hash_password(password), actor="demo", at=now)
    for old in users.tokens():
        if old.name == "demo" and old.revoked_at is None:
            users.revoke_token(old.id, actor="demo", at=now)
    token = new_api_token()
    users.create_token("demo", Role.EDITOR, hash_api_token(token), None, actor="demo", at=now)
    return DemoCredentials(DEMO_ADMIN, password, token)


def banner(
    url: str,
    services: SimulatedServices,
    prometheus: PrometheusProcess | None,
    config_path: Path,
    credentials: DemoCredentials | None = None,
    mailbox: DemoMailbox | None = None,
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
        *(
            [
                f"  Admin: {url}/admin  user {credentials.username}  password {credentials.password}",
                f"  API token (editor): {credentials.api_token}",
                f"    curl -H 'Authorization: Bearer {credentials.api_token}' {url}/api/v1/deployments",
                "",
            ]
            if credentials
            else []
        ),
        *(
            [
                f"  Mail: subscribe at {url}/subscribe; every mail the page sends is saved",
                f"    as an .eml file in {mailbox.folder}/",
                "",
            ]
            if mailbox
            else []
        ),
        "  Other commands work against it too:",
        f"    {command_name()} check --config {config_path}",
        "",
        "  Press Ctrl+C to stop.",
        "",
    ]
    return "\n".join(lines)
