"""The retention job: raw results and missed runs go after their time,
rollups after 400 days at the least, history never; in small batches that
leave writers and pages alone, on both backends and on a million rows.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from statuspage import audit
from statuspage.config import Config, ConfigError, parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor, component_rows
from statuspage.ops_settings import RetentionSettings
from statuspage.retention import prune
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.uptime import DayRollup, Transition
from statuspage.web import create_app
from statuspage.web.cache import render_cache
from tests.conftest import FakeClock, _postgres_schema_url

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
DEFAULT = RetentionSettings()


def setup_checks(store: Store, config: Config) -> None:
    with store.transaction() as conn:
        store.sync_components(conn, component_rows(config), NOW)


def add_results(store: Store, check_id: str, ages: list[timedelta]) -> None:
    with store.transaction() as conn:
        conn.execute(
            insert(t.check_results),
            [
                {"check_id": check_id, "at": NOW - age, "status": "operational", "reason": "ok"}
                for age in ages
            ],
        )


def result_ages(store: Store, check_id: str) -> list[timedelta]:
    r = t.check_results
    with store.transaction() as conn:
        times = conn.execute(select(r.c.at).where(r.c.check_id == check_id).order_by(r.c.at))
        return [NOW - at for at in times.scalars()]


def count(store: Store, table: object) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def days(n: float) -> timedelta:
    return timedelta(days=n)


def test_old_results_go_and_the_history_stays(store: Store, monitor_config: Config) -> None:
    setup_checks(store, monitor_config)
    second = timedelta(seconds=1)
    add_results(store, "api/health", [days(30), days(8), days(7) + second, days(7), days(1)])
    add_results(store, "payments/health", [days(9), days(2)])
    with store.transaction() as conn:
        for age in (days(31), days(29)):
            conn.execute(
                insert(t.missed_runs).values(
                    check_id="api/health",
                    scheduled_at=NOW - age,
                    recorded_at=NOW - age,
                    reason="late",
                )
            )
        rollups = [DayRollup((NOW - days(back)).date()) for back in (401, 400, 399, 1)]
        for day in rollups:
            day.add(ComponentStatus.OPERATIONAL, 86_400.0)
        store.upsert_rollups(conn, "api", rollups, NOW)
        ancient = Transition(NOW - days(800), None, ComponentStatus.MAJOR_OUTAGE, "down")
        store.insert_transition(conn, "api", ancient, NOW - days(800))
        audit.record(conn, "alice", "incident.create", "incident", "i1", None, {}, NOW - days(900))

    report = prune(store, DEFAULT, NOW, pause=timedelta(0))

    # Exactly 7 days old is kept: only what is older goes.
    assert result_ages(store, "api/health") == [days(7), days(1)]
    assert result_ages(store, "payments/health") == [days(2)]
    assert count(store, t.missed_runs) == 1
    with store.transaction() as conn:
        kept_days = conn.execute(
            select(t.daily_rollups.c.day).order_by(t.daily_rollups.c.day)
        ).scalars()
        assert [NOW.date() - day for day in kept_days] == [days(400), days(399), days(1)]
    assert [tr.at for tr in store.transitions("api")] == [NOW - days(800)]
    assert count(store, t.audit_log) == 1
    assert (report.results, report.missed_runs, report.rollups) == (4, 1, 1)
    # A second run finds nothing more.
    again = prune(store, DEFAULT, NOW, pause=timedelta(0))
    assert (again.results, again.missed_runs, again.rollups) == (0, 0, 0)


def test_deletes_in_batches_of_the_given_size(store: Store, monitor_config: Config) -> None:
    setup_checks(store, monitor_config)
    add_results(store, "api/health", [days(10) + timedelta(minutes=m) for m in range(10)])
    report = prune(store, DEFAULT, NOW, batch=3, pause=timedelta(0))
    assert report.results == 10
    # api/health: 3 + 3 + 3 + 1; the other two checks: one empty batch each;
    # missed runs: none; rollups: one per component.
    assert report.batches == 4 + 1 + 1 + 2
    assert result_ages(store, "api/health") == []


def test_stops_between_batches_when_asked(store: Store, monitor_config: Config) -> None:
    setup_checks(store, monitor_config)
    add_results(store, "api/health", [days(10) + timedelta(minutes=m) for m in range(10)])
    answers = iter([True, True])
    report = prune(
        store, DEFAULT, NOW, batch=3, pause=timedelta(0), keep_going=lambda: next(answers, False)
    )
    assert report.results == 6
    # The oldest went first.
    assert min(result_ages(store, "api/health")) == days(10) + timedelta(minutes=0)
    assert len(result_ages(store, "api/health")) == 4


def test_retention_settings_are_validated() -> None:
    config = parse_config({"retention": {"results": "14d", "missed_runs": "90d"}}, env={})
    assert config.retention.results == days(14)
    assert config.retention.rollups == days(400)
    with pytest.raises(ConfigError) as bad:
        parse_config({"retention": {"results": "1h", "rollups": "90d", "raw": "1d"}}, env={})
    text_ = "\n".join(bad.value.errors)
    assert "retention.results: must be at least 1d" in text_
    assert "retention.rollups: must be at least 400d" in text_
    assert "retention.raw" in text_


def test_the_scheduler_runs_the_retention_job(sqlite_store: Store, monitor_config: Config) -> None:
    from statuspage.leadership import RETENTION_EVERY, Leadership
    from statuspage.lease import LocalLease

    leadership = Leadership(monitor_config, sqlite_store, lambda: NOW, LocalLease())
    leadership.start()
    try:
        assert leadership.term is not None
        job = leadership.term.scheduler._scheduler.get_job("retention")
        assert job is not None
        assert job.trigger.interval == RETENTION_EVERY
    finally:
        leadership.stop(timedelta(seconds=1))


# --- a million rows in PostgreSQL ---------------------------------------------------

BIG_CHECKS = 50
BIG_ROWS = 1_000_000
BIG_SPAN = days(10)  # 30 % of the rows are older than the 7 days kept


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.fixture
def big_store(postgres_url: str) -> Iterator[Store]:
    store = Store(postgres_url)
    store.upgrade()
    yield store
    store.close()


@pytest.mark.integration
@pytest.mark.slow
def test_a_million_rows_are_pruned_while_pages_and_writes_stay_fast(
    big_store: Store,
) -> None:
    config = parse_config(
        {
            "site": {"title": "Big"},
            "components": [
                {
                    "id": f"c{n:02d}",
                    "name": f"Component {n}",
                    "checks": [{"name": "health", "type": "http", "url": f"http://c{n}.test/"}],
                }
                for n in range(BIG_CHECKS)
            ],
        },
        env={},
    )
    clock = FakeClock(NOW)
    Monitor(config, big_store, clock).start()
    step_s = BIG_SPAN.total_seconds() * BIG_CHECKS / BIG_ROWS
    started = time.monotonic()
    with big_store.transaction() as conn:
        # Quicker to generate: no foreign-key trigger per row (superuser
        # only), and the index built once afterwards.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DROP INDEX ix_check_results_check_id_at"))
        conn.execute(
            text(
                "INSERT INTO check_results (check_id, at, status, reason, latency_ms)"
                " SELECT 'c' || lpad((g % :checks)::text, 2, '0') || '/health',"
                " CAST(:now AS timestamptz) - make_interval(secs => (g / :checks) * :step),"
                " 'operational', 'status 200', 12.5"
                " FROM generate_series(0, :rows - 1) AS g"
            ),
            {"checks": BIG_CHECKS, "now": NOW, "step": step_s, "rows": BIG_ROWS},
        )
        conn.execute(
            text("CREATE INDEX ix_check_results_check_id_at ON check_results (check_id, at)")
        )
        conn.execute(text("ANALYZE check_results"))
    generated_s = time.monotonic() - started
    assert count(big_store, t.check_results) == BIG_ROWS

    app = create_app(config, big_store, clock)
    client = app.test_client()
    pages = ("/", "/components/c01")

    def render(path: str) -> float:
        render_cache(app).clear()
        began = time.monotonic()
        assert client.get(path).status_code == 200
        return time.monotonic() - began

    for path in pages:
        render(path)  # warm-up: templates compiled, connections open
    before = {path: statistics.median(render(path) for _ in range(5)) for path in pages}
    writes: list[float] = []
    renders: dict[str, list[float]] = {path: [] for path in pages}
    done = threading.Event()

    def write_and_render() -> None:
        n = 0
        while not done.is_set():
            began = time.monotonic()
            add_results(big_store, f"c{n % BIG_CHECKS:02d}/health", [timedelta(seconds=-n)])
            writes.append(time.monotonic() - began)
            path = pages[n % 2]
            renders[path].append(render(path))
            n += 1

    worker = threading.Thread(target=write_and_render)
    worker.start()
    try:
        began = time.monotonic()
        report = prune(big_store, DEFAULT, NOW)
        pruned_s = time.monotonic() - began
    finally:
        done.set()
        worker.join(30)

    old = BIG_ROWS * (BIG_SPAN - DEFAULT.results) / BIG_SPAN
    assert abs(report.results - old) <= BIG_CHECKS
    assert report.batches >= report.results / 5000
    with big_store.transaction() as conn:
        oldest = conn.execute(select(func.min(t.check_results.c.at))).scalar()
    assert oldest >= NOW - DEFAULT.results
    assert len(writes) > 10 and all(len(r) > 5 for r in renders.values())
    # No long lock: a write waits for one batch at the most.
    assert max(writes) < 0.5, sorted(writes)[-5:]
    # Pages render about as fast as before, though this process shares its
    # two cores (and its GIL) with the pruning.
    during = {path: statistics.median(times) for path, times in renders.items()}
    for path in pages:
        assert during[path] < 2 * before[path] + 0.05, (path, before[path], during[path])
    print(
        f"\n{BIG_ROWS:,} rows generated in {generated_s:.1f}s; pruned {report.results:,} in "
        f"{report.batches} batches in {pruned_s:.1f}s; write max {max(writes) * 1000:.0f} ms; "
        + "; ".join(
            f"{p} median {before[p] * 1000:.0f} ms before, {during[p] * 1000:.0f} ms during"
            for p in pages
        )
    )
