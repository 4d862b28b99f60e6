"""How big the database gets, and what `/` costs at that size (issue 8).

100 components, one check each, every 30 s, for 90 simulated days, with the
default retention (raw results 7 days, missed runs 30 days, rollups 400
days, transitions forever). Rows are written straight into the tables, not
through the scheduler, so the simulation takes seconds, not 90 days:

- raw results for the last 8 days (2,880 a check a day), then the
  retention job deletes the oldest day, as its hourly runs would have: the
  file holds what a scheduler leaves at steady state (plus the day freed,
  which SQLite keeps as free pages and fills again);
- 90 days of daily rollups per component;
- a status change every 3 days per component (transitions, kept forever).

Then: the file size (and the part in use), the rows per table, and the time
to render `/` with the render cache cleared before each request (median of
20, after a warm-up), next to the cached answer.

    .venv/bin/python -m bench.storage_size
    .venv/bin/python -m bench.storage_size --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.ops_settings import RetentionSettings
from statuspage.retention import prune
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.uptime import DayRollup, Transition
from statuspage.web import create_app
from statuspage.web.cache import render_cache

COMPONENTS = 100
INTERVAL_S = 30
DAYS = 90
NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
DAY_S = 86_400.0
RAW_DAYS_WRITTEN = 8  # the 7 kept, and one for the retention job to delete


def hundred_components() -> Config:
    return parse_config(
        {
            "site": {"title": "Storage Bench"},
            "defaults": {"interval": f"{INTERVAL_S}s"},
            "components": [
                {
                    "id": f"c{n:03d}",
                    "name": f"Component {n}",
                    "group": f"Group {n // 10}",
                    "checks": [{"name": "health", "type": "http", "url": f"http://c{n}.test/"}],
                }
                for n in range(COMPONENTS)
            ],
        },
        env={},
    )


def write_raw_results(store: Store, check_ids: list[str]) -> int:
    """RAW_DAYS_WRITTEN days of results of every check, every INTERVAL_S."""
    per_check = int(RAW_DAYS_WRITTEN * DAY_S / INTERVAL_S)
    if store.backend == "postgresql":
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO check_results (check_id, at, status, reason, latency_ms)"
                    " SELECT c.id, CAST(:now AS timestamptz) - make_interval(secs => g * :step),"
                    " 'operational', 'status 200', 20 + (g % 17)"
                    " FROM checks c CROSS JOIN generate_series(1, :n) AS g ORDER BY 2, 1"
                ),
                {"now": NOW, "step": INTERVAL_S, "n": per_check},
            )
        return per_check * len(check_ids)
    # SQLite: the sqlite3 module directly, in time order as a scheduler writes.
    database = store.engine.url.database
    assert database is not None
    conn = sqlite3.connect(database)
    try:
        start = NOW - timedelta(seconds=per_check * INTERVAL_S)
        with conn:
            for step in range(per_check):
                at = (start + timedelta(seconds=step * INTERVAL_S)).strftime("%Y-%m-%d %H:%M:%S.%f")
                conn.executemany(
                    "INSERT INTO check_results (check_id, at, status, reason, latency_ms)"
                    " VALUES (?, ?, 'operational', 'status 200', ?)",
                    [(check_id, at, 20.0 + step % 17) for check_id in check_ids],
                )
    finally:
        conn.close()
    return per_check * len(check_ids)


def write_history(store: Store, config: Config) -> None:
    """90 days of rollups, and a status change every 3 days, per component."""
    rng = random.Random(90)
    with store.transaction() as conn:
        for component in config.components:
            rollups = []
            for back in range(DAYS):
                day = DayRollup((NOW - timedelta(days=back)).date())
                down = rng.choice([0.0, 0.0, 0.0, 300.0, 1800.0])
                day.add(ComponentStatus.PARTIAL_OUTAGE, down)
                day.add(ComponentStatus.OPERATIONAL, DAY_S - down)
                rollups.append(day)
            store.upsert_rollups(conn, component.id, rollups, NOW)
            for back in range(DAYS, 0, -3):
                at = NOW - timedelta(days=back, seconds=rng.randrange(86_400))
                store.insert_transition(
                    conn,
                    component.id,
                    Transition(
                        at, ComponentStatus.OPERATIONAL, ComponentStatus.PARTIAL_OUTAGE, "x"
                    ),
                    at,
                )
                back_up = at + timedelta(minutes=rng.randrange(5, 60))
                store.insert_transition(
                    conn,
                    component.id,
                    Transition(
                        back_up, ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.OPERATIONAL, "ok"
                    ),
                    back_up,
                )


def sizes(store: Store) -> tuple[int, int]:
    """(bytes on disk, bytes in use). SQLite: the WAL is checkpointed and
    truncated first; the generation wrote it in big transactions, where a
    scheduler's small ones keep it at a few MB."""
    with store.engine.connect() as conn:
        if store.backend == "postgresql":
            used = int(
                conn.execute(
                    text(
                        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                        " JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                    )
                ).scalar()
                or 0
            )
            return used, used  # the schema's tables and indexes (the database holds others)
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        page = conn.execute(text("PRAGMA page_size")).scalar() or 0
        pages = conn.execute(text("PRAGMA page_count")).scalar() or 0
        free = conn.execute(text("PRAGMA freelist_count")).scalar() or 0
    database = store.engine.url.database
    assert database is not None
    on_disk = os.path.getsize(database) + (
        os.path.getsize(f"{database}-wal") if os.path.exists(f"{database}-wal") else 0
    )
    return on_disk, int(page * (pages - free))


def render_ms(store: Store, config: Config, repeats: int = 20) -> tuple[float, float]:
    """Median ms of `/` uncached (cache cleared each time) and cached."""
    app = create_app(config, store, lambda: NOW)
    app.testing = True  # an error in a render is raised here, with its traceback
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    # The page shows every component and its 90 days of bars.
    html = page.get_data(as_text=True)
    assert f"Component {COMPONENTS - 1}" in html and html.count('class="bar ') >= COMPONENTS * DAYS

    def timed(clear: bool) -> float:
        times = []
        for _ in range(repeats):
            if clear:
                render_cache(app).clear()
            began = time.perf_counter()
            assert client.get("/").status_code == 200
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times)

    return timed(True), timed(False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    os.environ.setdefault("STATUSPAGE_SECRET_KEY", "bench-" + "k" * 40)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'storage.db'}"
        store = Store(url)
        store.upgrade()
        config = hundred_components()
        monitor = Monitor(config, store, lambda: NOW - timedelta(days=DAYS))
        monitor.start()
        check_ids = sorted(monitor.checks)
        began = time.monotonic()
        written = write_raw_results(store, check_ids)
        write_history(store, config)
        monitor.clock = lambda: NOW
        for check_id in check_ids:
            monitor.record(
                check_id,
                CheckResult(NOW, ComponentStatus.OPERATIONAL, "status 200", latency_ms=21.0),
            )
        generated_s = time.monotonic() - began
        before = sizes(store)
        began = time.monotonic()
        report = prune(store, RetentionSettings(), NOW)
        pruned_s = time.monotonic() - began
        on_disk, in_use = sizes(store)
        with store.engine.connect() as conn:
            rows = {
                name: conn.execute(select(func.count()).select_from(table)).scalar()
                for name, table in (
                    ("check_results", t.check_results),
                    ("daily_rollups", t.daily_rollups),
                    ("transitions", t.transitions),
                    ("missed_runs", t.missed_runs),
                )
            }
        uncached, cached = render_ms(store, config)
        store.close()
    mb = 1024 * 1024
    print(
        f"{COMPONENTS} components checked every {INTERVAL_S}s for {DAYS} days, default retention "
        f"({'SQLite' if not args.database_url else 'PostgreSQL'})"
    )
    print(
        f"  wrote {written:,} raw results ({RAW_DAYS_WRITTEN} days) + history in {generated_s:.1f}s"
    )
    print(
        f"  retention deleted {report.results:,} results in {report.batches} batches, {pruned_s:.1f}s"
    )
    print("  rows kept: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(
        f"  size: {on_disk / mb:.0f} MB on disk ({in_use / mb:.0f} MB in use; "
        f"{before[0] / mb:.0f} MB before the retention job)"
    )
    print(f"  GET / : {uncached:.0f} ms uncached (median of 20), {cached:.1f} ms cached")


if __name__ == "__main__":
    main()
