"""The demo end to end: break a simulated service, watch the page say so.

Runs `run_demo` (simulated services, a real Prometheus when the binary is
there, the scheduler and the web server) in a thread, and reads the page
over HTTP as a person would. Real time, bounded by the promise the issue
makes: interval x confirm_down + 5 s (5 s x 2 + 5 s in the demo config).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from statuspage.demo.run import run_demo

PROMISE_S = 5 * 2 + 5


@dataclass
class RunningDemo:
    url: str
    control: str
    output: list[str]

    def statuses(self) -> dict[str, str]:
        html = httpx.get(self.url + "/", timeout=5).text
        found = re.findall(r'id="component-([a-z]+)".*?class="status s-([a-z_]+)"', html, re.S)
        return dict(found)

    def page(self, path: str = "/") -> str:
        return httpx.get(self.url + path, timeout=5).text

    def set_mode(self, service: str, mode: str) -> None:
        httpx.post(
            f"{self.control}/{service}/mode", json={"mode": mode}, timeout=5
        ).raise_for_status()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    directory: Path = tmp_path_factory.mktemp("demo")
    port = free_port()
    output: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=run_demo, args=("127.0.0.1", port, directory, output.append, stop), daemon=True
    )
    thread.start()
    control = None
    deadline = time.monotonic() + 45
    while control is None and time.monotonic() < deadline:
        for text in output:
            if m := re.search(r"control: (http://127\.0\.0\.1:\d+)", text):
                control = m.group(1)
        time.sleep(0.1)
    assert control, f"the demo did not start: {output}"
    running = RunningDemo(f"http://127.0.0.1:{port}", control, output)
    assert wait_for(lambda: set(running.statuses().values()) == {"operational"}, 20), (
        running.statuses()
    )
    yield running
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return bool(condition())


def test_banner_tells_how_to_break_and_mend(demo: RunningDemo) -> None:
    text = "\n".join(demo.output)
    assert "statuspage demo is running: " + demo.url in text
    assert f'curl -d \'{{"mode": "down"}}\' {demo.control}/payments/mode' in text


@pytest.mark.slow
def test_breaking_a_service_shows_on_the_page_and_mending_brings_it_back(demo: RunningDemo) -> None:
    demo.set_mode("payments", "down")
    broken_at = time.monotonic()
    seen_others: set[str] = set()

    def payments_down() -> bool:
        statuses = demo.statuses()
        seen_others.update(v for k, v in statuses.items() if k != "payments")
        return statuses["payments"] == "major_outage"

    assert wait_for(payments_down, PROMISE_S), demo.statuses()
    assert time.monotonic() - broken_at <= PROMISE_S
    assert seen_others == {"operational"}
    page = demo.page("/components/payments")
    assert "status (503) == 200" in page

    demo.set_mode("payments", "healthy")
    assert wait_for(lambda: demo.statuses()["payments"] == "operational", PROMISE_S), (
        demo.statuses()
    )


@pytest.mark.slow
@pytest.mark.integration
def test_metrics_going_dark_shows_the_prometheus_checks_as_no_data(demo: RunningDemo) -> None:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus binary not found: apt-get install prometheus")
    demo.set_mode("api", "metrics_dead")
    try:
        assert wait_for(
            lambda: "Monitoring data for API (p95 latency) is delayed" in demo.page(), PROMISE_S + 5
        )
        page = demo.page()
        # The health check still answers, so API itself stays operational...
        assert demo.statuses()["api"] == "operational"
        # ...and the banner names the rule that lost its data, with why.
        assert (
            "no live samples for http_request_duration_seconds_bucket{service=&#34;api&#34;}"
            in page
        )
        component = demo.page("/components/api")
        assert component.count('class="status s-unknown"') == 1
    finally:
        demo.set_mode("api", "healthy")
    assert wait_for(lambda: "Monitoring data for API" not in demo.page(), PROMISE_S + 10)
