"""The scheduler with real checks against loopback servers.

These tests run on real time (APScheduler has no fake clock), bounded by
deadlines and with short intervals; no test waits longer than it must.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from statuspage.checks import CheckContext
from statuspage.clock import utc_now
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor, watched_checks
from statuspage.scheduler import CheckScheduler, run_with_deadline
from statuspage.store import Store
from tests.loopback import Reply, ScriptedServer, scripted_server, silent_listener
from tests.support import wait_for


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        yield s


def test_a_hanging_check_is_cut_and_never_delays_the_others(
    sqlite_store: Store, server: ScriptedServer
) -> None:
    with silent_listener() as hanging_url:
        config = parse_config(
            {
                "defaults": {
                    "interval": "1s",
                    "timeout": "800ms",
                    "confirm_down": 1,
                    "confirm_up": 1,
                },
                "scheduler": {"workers": 4, "jitter": "0s"},
                "components": [
                    {
                        "id": "fast",
                        "name": "Fast",
                        "checks": [{"name": "ok", "type": "http", "url": f"{server.url}/ok"}],
                    },
                    {
                        "id": "stuck",
                        "name": "Stuck",
                        "checks": [{"name": "hangs", "type": "http", "url": hanging_url}],
                    },
                ],
            },
            env={},
        )
        monitor = Monitor(config, sqlite_store, utc_now)
        monitor.start()
        results: dict[str, list[tuple[float, str]]] = {"fast/ok": [], "stuck/hangs": []}
        lock = threading.Lock()
        scheduler = CheckScheduler(config, monitor, utc_now)

        def on_result(check_id: str, result) -> None:  # type: ignore[no-untyped-def]
            with lock:
                results[check_id].append((time.monotonic(), result.reason))

        scheduler.on_result = on_result
        scheduler.start()
        try:
            assert wait_for(
                lambda: len(results["fast/ok"]) >= 4 and len(results["stuck/hangs"]) >= 2, 10
            )
        finally:
            scheduler.shutdown(wait=False)
    fast_times = [t for t, _ in results["fast/ok"]]
    gaps = [b - a for a, b in itertools.pairwise(fast_times)]
    # The fast check keeps its 1 s rhythm while the other one hangs.
    assert max(gaps) < 1.6, gaps
    assert {reason for _, reason in results["stuck/hangs"]} == {"timed out after 800ms"}
    assert monitor.component_status("fast") is ComponentStatus.OPERATIONAL
    assert monitor.component_status("stuck") is ComponentStatus.MAJOR_OUTAGE


def test_run_with_deadline_abandons_a_runner_that_ignores_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = parse_config(
        {
            "components": [
                {
                    "id": "x",
                    "name": "X",
                    "checks": [{"name": "c", "type": "http", "url": "http://x/", "timeout": "1s"}],
                }
            ]
        },
        env={},
    )
    (watched,) = watched_checks(config)
    release = threading.Event()
    from statuspage import checks

    monkeypatch.setitem(checks.RUNNERS, "http", lambda spec, ctx: release.wait(30))
    started = time.monotonic()
    result = run_with_deadline(watched, CheckContext(now=utc_now), timedelta(seconds=0.3))
    elapsed = time.monotonic() - started
    release.set()
    assert result.status is ComponentStatus.MAJOR_OUTAGE
    assert result.reason == "timed out after 1s"
    assert elapsed < 1.0


def test_a_run_that_waits_for_a_busy_pool_is_recorded(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statuspage import checks
    from statuspage.checks.base import CheckResult

    def slow(spec, ctx):  # type: ignore[no-untyped-def]
        time.sleep(1.5)  # holds the only worker
        return CheckResult(ctx.now(), ComponentStatus.OPERATIONAL, "ok")

    monkeypatch.setitem(checks.RUNNERS, "http", slow)
    config = parse_config(
        {
            "defaults": {"interval": "2s", "timeout": "1800ms"},
            "scheduler": {"workers": 1, "jitter": "0s"},
            "components": [
                {
                    "id": f"c{i}",
                    "name": f"C{i}",
                    "checks": [{"name": "c", "type": "http", "url": "http://x/"}],
                }
                for i in range(3)
            ],
        },
        env={},
    )
    monitor = Monitor(config, sqlite_store, utc_now)
    monitor.start()
    scheduler = CheckScheduler(config, monitor, utc_now)
    scheduler.start()
    try:
        assert wait_for(lambda: sqlite_store.missed_runs() >= 1, 8)
    finally:
        scheduler.shutdown(wait=False)
