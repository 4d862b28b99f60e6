"""The replayed outage of DESIGN.md, end to end, accelerated.

`statuspage demo --scenario deploy-misconfig` with a short timeline: the
page must show payments down with the workflow's reason, the API degraded or
down, the blind banner naming the Prometheus rules, the three healthy
components operational throughout, and full recovery after the rollback.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from statuspage.demo.scenario import deploy_misconfig
from tests.pagewatch import PageWatcher, read_page, running_demo
from tests.support import wait_for

HEALTHY = ("projects", "providers", "notifications")
# interval 5 s x confirm_down 2, plus a few seconds (the promise)
PROMISE_S = 5 * 2 + 5


@pytest.mark.slow
@pytest.mark.integration
def test_replayed_outage_shows_in_order_and_recovers(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus binary not found: apt-get install prometheus")
    steps = deploy_misconfig(deploy_at_s=8, rollback_after_s=25)
    with running_demo(tmp_path, scenario=steps) as demo:
        watcher = PageWatcher(demo.url).start()
        try:
            all_up = lambda: set(read_page(demo.url).statuses.values()) == {"operational"}  # noqa: E731
            assert wait_for(all_up, 20), read_page(demo.url)
            baseline = time.monotonic()
            assert wait_for(lambda: any("scenario: 05:00" in line for line in demo.output), 30)
            deployed = watcher.history[-1].at

            def outage_seen() -> bool:
                snap = read_page(demo.url)
                return (
                    snap.statuses.get("payments") == "major_outage"
                    and snap.statuses.get("api") in ("degraded_performance", "major_outage")
                    and {"API (p95 latency)", "Payments (p95 latency)"} <= set(snap.blind)
                )

            assert wait_for(outage_seen, PROMISE_S + 5), read_page(demo.url)
            payments_page = httpx.get(demo.url + "/components/payments", timeout=5).text
            assert (
                "step 2 &#34;read subscription&#34;: json $.status (&#34;expired&#34;) == &#34;active&#34;"
                in payments_page
            )
            assert wait_for(lambda: any("scenario: 14:30" in line for line in demo.output), 40)

            def recovered() -> bool:
                """All operational and seeing, and still so two intervals later
                (after a metrics gap, rate() windows may wobble once more)."""
                for _ in range(2):
                    snap = read_page(demo.url)
                    if set(snap.statuses.values()) != {"operational"} or snap.blind:
                        return False
                    time.sleep(6)
                return True

            # The API's p95 rule looks back 30 s: it stays degraded until the
            # slow answers have left its window, as it should.
            assert wait_for(recovered, PROMISE_S + 35), read_page(demo.url)
        finally:
            watcher.stop()

    assert watcher.sequence("payments", after=baseline) == [
        "operational",
        "major_outage",
        "operational",
    ]
    api = watcher.sequence("api", after=baseline)
    assert api[0] == "operational" and api[-1] == "operational"
    assert {"degraded_performance", "major_outage"} & set(api[1:-1])
    assert "unknown" not in api  # its health check kept it seen throughout
    for component in HEALTHY:
        assert watcher.sequence(component, after=baseline) == ["operational"], component
    # Each fault reached the page within the promise.
    payments_down = watcher.first(lambda s: s.statuses.get("payments") == "major_outage", deployed)
    blind = watcher.first(lambda s: "API (p95 latency)" in s.blind, deployed)
    assert payments_down is not None and payments_down.at - deployed <= PROMISE_S
    assert blind is not None and blind.at - deployed <= PROMISE_S + 5
