"""The demo end to end: break a simulated service, watch the page say so.

Runs `run_demo` (simulated services, a real Prometheus when the binary is
there, the scheduler and the web server) in a thread, and reads the page
over HTTP as a person would. Real time, bounded by the promise the issue
makes: interval x confirm_down + 5 s (5 s x 2 + 5 s in the demo config).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.pagewatch import read_page, running_demo
from tests.support import wait_for

PROMISE_S = 5 * 2 + 5


@dataclass
class Demo:
    url: str
    control: str
    output: list[str]

    def statuses(self) -> dict[str, str]:
        return read_page(self.url).statuses

    def page(self, path: str = "/") -> str:
        return httpx.get(self.url + path, timeout=5).text

    def set_mode(self, service: str, mode: str) -> None:
        httpx.post(
            f"{self.control}/{service}/mode", json={"mode": mode}, timeout=5
        ).raise_for_status()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        demo = Demo(running.url, running.control, running.output)
        assert wait_for(lambda: set(demo.statuses().values()) == {"operational"}, 20), (
            demo.statuses()
        )
        yield demo


def test_banner_tells_how_to_break_and_mend(demo: Demo) -> None:
    text = "\n".join(demo.output)
    assert "statuspage demo is running: " + demo.url in text
    assert f'curl -d \'{{"mode": "down"}}\' {demo.control}/payments/mode' in text


@pytest.mark.slow
def test_breaking_a_service_shows_on_the_page_and_mending_brings_it_back(demo: Demo) -> None:
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
def test_metrics_going_dark_shows_the_prometheus_checks_as_no_data(demo: Demo) -> None:
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
