"""A real Alertmanager (Debian's prometheus-alertmanager) fires at
statuspage: an alert turns a component red, its resolution turns it back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from statuspage.clock import utc_now
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from tests.liveserver import serve
from tests.support import free_port, wait_for
from tests.test_alertmanager import RULES
from tests.test_api_components import two_components
from tests.test_api_deployments import new_token

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

pytestmark = pytest.mark.integration


@pytest.fixture
def alertmanager(tmp_path: Path, sqlite_store: Store) -> Iterator[tuple[str, Store]]:
    config = two_components(RULES)
    Monitor(config, sqlite_store, utc_now).start()
    token = new_token(sqlite_store, "editor", name="alertmanager")
    app = create_app(config, sqlite_store, utc_now)
    with serve(app) as url, running_alertmanager(tmp_path, url, token) as am:
        yield am, sqlite_store


@contextmanager
def running_alertmanager(workdir: Path, statuspage_url: str, token: str) -> Iterator[str]:
    """A real Alertmanager sending every alert group to statuspage's
    receiver with a bearer token, as its docs configure it; yields its URL."""
    if BINARY is None:
        pytest.skip("prometheus-alertmanager not found: apt-get install prometheus-alertmanager")
    port = free_port()
    (workdir / "alertmanager.yml").write_text(
        "route:\n"
        "  receiver: statuspage\n"
        "  group_by: [alertname, service]\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 1h\n"
        "receivers:\n"
        "  - name: statuspage\n"
        "    webhook_configs:\n"
        f"      - url: {statuspage_url}/api/v1/alertmanager\n"
        "        send_resolved: true\n"
        "        http_config:\n"
        f"          authorization: {{type: Bearer, credentials: {token}}}\n"
    )
    log = workdir / "alertmanager.log"
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    am = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _ok(f"{am}/-/ready"), 20), log.read_text()[-2000:]
        yield am
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def post_alert(am: str, ends_at: datetime) -> None:
    answer = httpx.post(
        f"{am}/api/v2/alerts",
        json=[
            {
                "labels": {
                    "alertname": "PaymentsErrors",
                    "severity": "critical",
                    "service": "payments",
                },
                "annotations": {"summary": "5xx ratio above 10 %"},
                "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                "endsAt": ends_at.isoformat(),
            }
        ],
        timeout=5,
    )
    answer.raise_for_status()


def test_an_alert_turns_its_component_red_and_its_resolution_turns_it_back(
    alertmanager: tuple[str, Store],
) -> None:
    am, store = alertmanager

    def status() -> ComponentStatus:
        component = store.component("payments")
        assert component is not None
        return component.status

    assert status() is ComponentStatus.OPERATIONAL
    post_alert(am, ends_at=datetime.now(UTC) + timedelta(hours=1))
    assert wait_for(lambda: status() is ComponentStatus.MAJOR_OUTAGE, 20)
    component = store.component("api")
    assert component is not None and component.status is ComponentStatus.OPERATIONAL

    post_alert(am, ends_at=datetime.now(UTC) - timedelta(seconds=1))  # resolved
    assert wait_for(lambda: status() is ComponentStatus.OPERATIONAL, 20)
