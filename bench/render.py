"""What a public page costs per request with the render cache, and what a
render costs without it.

Two measures (issue 5, Speed), both through Flask's test client in one
process, so they compare the app with itself and leave the HTTP server out:

1. requests/s of `/` and `/api/v2/summary.json` with the render cache warm,
   against a bare Flask app whose one view returns the same bytes with the
   same content type. Target: a ratio of at least 0.9 (rendering costs
   nothing per request). The same measure over real HTTP, under gunicorn
   and wrk, is `bench.http_throughput`; this one leaves the server out.
2. the time to render `/` uncached (the cache cleared before each request)
   with 50 components and 1 day of rollups against 90 days of rollups.
   Target: a ratio of at most 1.2 (the bars read rollups only). The two
   sites are rendered in turn, so that whatever else the machine does
   weighs on both alike.

The clock is frozen at noon so that the 30 s time bucket does not turn over
during a measure.

    .venv/bin/python -m bench.render
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, Response
from flask.testing import FlaskClient

from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.uptime import DayRollup
from statuspage.web import create_app
from statuspage.web.cache import render_cache

COMPONENTS = 50
NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
DAY_S = 86_400.0
PATHS = ("/", "/api/v2/summary.json")


def fifty_components() -> Config:
    return parse_config(
        {
            "site": {"title": "Bench Status"},
            "defaults": {"interval": "30s", "confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": f"c{n:02d}",
                    "name": f"Component {n}",
                    "group": f"Group {n // 10}",
                    "checks": [{"name": "health", "type": "http", "url": f"http://c{n}.test/"}],
                }
                for n in range(COMPONENTS)
            ],
        },
        env={},
    )


def site_with_history(directory: Path, days: int) -> Flask:
    """50 components, each with a fresh result and `days` days of rollups
    (one day in ten with a partial outage, so the bars are not uniform)."""
    config = fifty_components()
    store = Store(f"sqlite:///{directory / f'{days}d.db'}")
    store.upgrade()
    clock = lambda: NOW  # noqa: E731 (frozen on purpose)
    monitor = Monitor(config, store, clock)
    monitor.start()
    with store.transaction() as conn:
        for component in config.components:
            rollups = []
            for back in range(days):
                day = DayRollup((NOW - timedelta(days=back)).date())
                down = 600.0 if back % 10 == 3 else 0.0
                day.add(ComponentStatus.PARTIAL_OUTAGE, down)
                day.add(ComponentStatus.OPERATIONAL, DAY_S - down)
                rollups.append(day)
            store.upsert_rollups(conn, component.id, rollups, NOW)
    for component in config.components:
        for check in component.checks:
            monitor.record(
                f"{component.id}/{check.name}",
                CheckResult(NOW, ComponentStatus.OPERATIONAL, "status 200", latency_ms=12.0),
            )
    app = create_app(config, store, clock)
    app.config["SECRET_KEY"] = "bench-" + "k" * 32
    return app


def bare_app(answers: dict[str, tuple[bytes, str]]) -> Flask:
    """A Flask app that only hands back fixed bytes: the ceiling."""
    app = Flask("bare")

    def view(path: str = "") -> Response:
        body, content_type = answers["/" + path]
        return Response(body, content_type=content_type)

    app.add_url_rule("/", "root", view)
    app.add_url_rule("/<path:path>", "any", view)
    return app


def per_second(client: FlaskClient, path: str, seconds: float) -> float:
    """Requests/s of GET `path`, after a warm-up, over about `seconds`."""
    for _ in range(50):
        assert client.get(path).status_code == 200
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            client.get(path)
        done += 100
    return done / elapsed


def uncached_render(app: Flask) -> Callable[[], None]:
    client = app.test_client()

    def render() -> None:
        render_cache(app).clear()
        answer = client.get("/")
        assert answer.status_code == 200

    return render


def median_ms_in_turn(actions: list[Callable[[], object]], repeats: int) -> list[float]:
    """The median time of each action, run in turn `repeats` times."""
    for action in actions:
        action()  # warm-up (templates compiled, connections open)
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, kept in zip(actions, times, strict=True):
            started = time.perf_counter()
            action()
            kept.append((time.perf_counter() - started) * 1000)
    return [statistics.median(kept) for kept in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per requests/s measure")
    parser.add_argument("--renders", type=int, default=30, help="uncached renders per history")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    with tempfile.TemporaryDirectory() as tmp:
        short = site_with_history(Path(tmp), days=1)
        long = site_with_history(Path(tmp), days=90)
        client = long.test_client()
        answers = {}
        for path in PATHS:
            answer = client.get(path)
            answers[path] = (answer.get_data(), answer.content_type or "")
        bare = bare_app(answers).test_client()
        print(f"\nwarm cache vs bare Flask (test client, {args.seconds:.0f} s each, 90 days)")
        print(f"{'path':<24}{'bytes':>8}{'cached req/s':>14}{'bare req/s':>12}{'ratio':>8}")
        for path in PATHS:
            cached = per_second(client, path, args.seconds)
            ceiling = per_second(bare, path, args.seconds)
            size = len(answers[path][0])
            print(f"{path:<24}{size:>8}{cached:>14.0f}{ceiling:>12.0f}{cached / ceiling:>8.2f}")
        one_day, ninety = median_ms_in_turn(
            [uncached_render(short), uncached_render(long)], args.renders
        )
        print(f"\nuncached render of / with {COMPONENTS} components (median of {args.renders})")
        print(f"1 day of rollups:   {one_day:7.1f} ms")
        print(f"90 days of rollups: {ninety:7.1f} ms")
        print(f"ratio 90 d / 1 d:   {ninety / one_day:7.2f}")


if __name__ == "__main__":
    main()
