"""One store suite, run over SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from statuspage.checks.base import CheckResult
from statuspage.domain import ComponentStatus
from statuspage.state import CheckState
from statuspage.store import CheckRow, ComponentRow, Store
from statuspage.store import tables as t
from statuspage.uptime import BAR_DAYS, DayRollup, Transition, uptime_bar

OK = ComponentStatus.OPERATIONAL
MAJOR = ComponentStatus.MAJOR_OUTAGE
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
UNKNOWN = ComponentStatus.UNKNOWN
T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
WAITING = "waiting for the first check result"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def check(
    check_id: str, name: str = "health", type: str = "http", interval_s: float = 30.0
) -> dict[str, Any]:
    return {"id": check_id, "name": name, "type": type, "interval_s": interval_s}


def component(
    component_id: str,
    name: str | None = None,
    *checks: dict[str, Any],
    description: str = "",
    group: str | None = None,
) -> dict[str, Any]:
    return {
        "id": component_id,
        "name": name or component_id.title(),
        "description": description,
        "group_name": group,
        "checks": list(checks) or [check(f"{component_id}/health")],
    }


def sync(store: Store, components: list[dict[str, Any]], now: datetime = T0) -> None:
    with store.transaction() as conn:
        store.sync_components(conn, components, now)


def result(
    seconds: float, status: ComponentStatus = OK, reason: str = "", **kw: Any
) -> CheckResult:
    return CheckResult(at=at(seconds), status=status, reason=reason, **kw)


def add_results(store: Store, check_id: str, *results: CheckResult) -> None:
    with store.transaction() as conn:
        for r in results:
            store.insert_result(conn, check_id, r)


def recent(
    store: Store, check_id: str, limit: int, since: datetime | None = None
) -> list[CheckResult]:
    with store.transaction() as conn:
        return store.recent_results(conn, check_id, limit, since=since)


def add_transitions(store: Store, component_id: str, *transitions: Transition) -> None:
    with store.transaction() as conn:
        for tr in transitions:
            store.insert_transition(
                conn, component_id, tr, recorded_at=tr.at + timedelta(seconds=1)
            )


def raw_rows(store: Store, table: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


# --- components and checks -------------------------------------------------


def test_new_components_and_checks_start_unknown(store: Store) -> None:
    sync(
        store,
        [
            component(
                "api",
                "API",
                check("api/health"),
                check("api/p95", "p95", "prometheus", 60.0),
                description="The public API",
                group="Core",
            ),
            component("payments", "Payments"),
        ],
    )

    assert store.components() == [
        ComponentRow("api", "API", "The public API", "Core", 0, UNKNOWN, T0, WAITING),
        ComponentRow("payments", "Payments", "", None, 1, UNKNOWN, T0, WAITING),
    ]
    waiting = CheckState(UNKNOWN, T0, WAITING, last_data_at=None, next_change_at=None)
    assert store.checks() == [
        CheckRow(
            "api/health", "api", "health", "http", 30.0, waiting, None, None, None, None, None
        ),
        CheckRow(
            "api/p95", "api", "p95", "prometheus", 60.0, waiting, None, None, None, None, None
        ),
        CheckRow(
            "payments/health",
            "payments",
            "health",
            "http",
            30.0,
            waiting,
            None,
            None,
            None,
            None,
            None,
        ),
    ]
    assert [c.id for c in store.checks("payments")] == ["payments/health"]
    assert store.component("api") is not None
    assert store.component("nope") is None


def test_removed_components_and_checks_become_inactive_but_keep_history(store: Store) -> None:
    sync(
        store, [component("api", None, check("api/health"), check("api/old")), component("legacy")]
    )
    add_results(store, "legacy/health", result(10, OK))
    add_results(store, "api/old", result(10, MAJOR, "down"))
    add_transitions(store, "legacy", Transition(at(10), UNKNOWN, OK, "all checks pass"))

    sync(store, [component("api", None, check("api/health"))], now=at(60))

    assert [c.id for c in store.components()] == ["api"]
    assert [c.id for c in store.checks()] == ["api/health"]
    assert store.component("legacy") is None
    active = {r["id"]: r["active"] for r in raw_rows(store, t.components)}
    assert active == {"api": True, "legacy": False}
    active_checks = {r["id"]: r["active"] for r in raw_rows(store, t.checks)}
    assert active_checks == {"api/health": True, "api/old": False, "legacy/health": False}
    # History stays.
    assert store.transitions("legacy") == [Transition(at(10), UNKNOWN, OK, "all checks pass")]
    assert recent(store, "legacy/health", 10) == [result(10, OK)]
    assert recent(store, "api/old", 10) == [result(10, MAJOR, "down")]


def test_resync_keeps_status_and_updates_names_and_order(store: Store) -> None:
    sync(store, [component("api", "API"), component("payments", "Payments")])
    state = CheckState(MAJOR, at(30), "HTTP 500", last_data_at=at(60), next_change_at=at(150))
    with store.transaction() as conn:
        store.set_component_status(conn, "api", MAJOR, at(30), "health: HTTP 500")
        store.set_check_state(conn, "api/health", state)

    sync(
        store,
        [
            component("payments", "Payments"),
            component("api", "Public API", description="v2", group="Core"),
        ],
        now=at(500),
    )

    assert store.components() == [
        ComponentRow("payments", "Payments", "", None, 0, UNKNOWN, T0, WAITING),
        ComponentRow("api", "Public API", "v2", "Core", 1, MAJOR, at(30), "health: HTTP 500"),
    ]
    assert store.checks("api")[0].state == state


def test_a_removed_component_that_comes_back_is_active_with_its_old_status(store: Store) -> None:
    sync(store, [component("api"), component("legacy")])
    with store.transaction() as conn:
        store.set_component_status(conn, "legacy", OK, at(10), "all checks pass")
    sync(store, [component("api")], now=at(20))
    sync(store, [component("api"), component("legacy")], now=at(30))

    legacy = store.component("legacy")
    assert legacy is not None
    assert (legacy.status, legacy.status_since, legacy.position) == (OK, at(10), 1)
    assert [c.id for c in store.checks("legacy")] == ["legacy/health"]


def test_a_check_for_an_unknown_component_is_refused(store: Store) -> None:
    """Foreign keys are enforced on both backends (DATA-01 for SQLite)."""
    sync(store, [component("api")])
    with pytest.raises(IntegrityError), store.transaction() as conn:
        conn.execute(
            insert(t.check_results).values(
                check_id="ghost/health", at=T0, status="operational", reason=""
            )
        )


# --- results -----------------------------------------------------------------


def test_insert_result_keeps_the_newest_raw_result_on_the_check(store: Store) -> None:
    sync(store, [component("api")])
    add_results(
        store,
        "api/health",
        result(0, OK, "HTTP 200", latency_ms=12.5),
        result(30, MAJOR, "[STATUS] (500) == 200", latency_ms=40.0, value=0.25),
    )

    row = store.checks("api")[0]
    assert (row.last_result_at, row.last_result_status, row.last_result_reason) == (
        at(30),
        MAJOR,
        "[STATUS] (500) == 200",
    )
    assert (row.last_latency_ms, row.last_value) == (40.0, 0.25)
    # The confirmed state is the state engine's business, not insert_result's.
    assert row.state.status is UNKNOWN
    assert [(r["check_id"], r["at"], r["status"]) for r in raw_rows(store, t.check_results)] == [
        ("api/health", at(0), "operational"),
        ("api/health", at(30), "major_outage"),
    ]


def test_recent_results_are_the_newest_oldest_first(store: Store) -> None:
    sync(store, [component("api"), component("payments")])
    # Inserted out of order, plus another check's results that must not leak in.
    add_results(
        store, "api/health", result(60, MAJOR), result(0, OK), result(90, OK), result(30, OK)
    )
    add_results(store, "payments/health", result(45, MAJOR), result(100, MAJOR))

    assert recent(store, "api/health", 10) == [result(0), result(30), result(60, MAJOR), result(90)]
    assert recent(store, "api/health", 2) == [result(60, MAJOR), result(90)]
    assert recent(store, "api/health", 1) == [result(90)]
    assert recent(store, "api/health", 10, since=at(30)) == [
        result(30),
        result(60, MAJOR),
        result(90),
    ]
    assert recent(store, "api/health", 10, since=at(31)) == [result(60, MAJOR), result(90)]
    assert recent(store, "api/health", 10, since=at(91)) == []
    assert recent(store, "nope", 10) == []


def test_recent_results_with_the_same_time_keep_insertion_order(store: Store) -> None:
    sync(store, [component("api")])
    add_results(
        store,
        "api/health",
        result(0, OK, "first"),
        result(0, MAJOR, "second"),
        result(0, OK, "third"),
    )

    assert [r.reason for r in recent(store, "api/health", 2)] == ["second", "third"]


def test_results_between_is_half_open(store: Store) -> None:
    sync(store, [component("api")])
    add_results(store, "api/health", *(result(s) for s in (0, 30, 60, 90)))

    assert [r.at for r in store.results_between("api/health", at(30), at(90))] == [at(30), at(60)]


# --- transitions ---------------------------------------------------------------


def test_transitions_since_include_the_last_one_before(store: Store) -> None:
    sync(store, [component("api"), component("payments")])
    history = [
        Transition(at(0), UNKNOWN, OK, "all checks pass"),
        Transition(at(100), OK, MAJOR, "health: HTTP 500"),
        Transition(at(200), MAJOR, OK, "all checks pass"),
        Transition(at(300), OK, UNKNOWN, "no fresh data"),
    ]
    add_transitions(store, "api", history[2], history[0], history[3], history[1])
    add_transitions(store, "payments", Transition(at(150), UNKNOWN, DEGRADED, "slow"))

    assert store.transitions("api") == history
    assert store.transitions("api", since=at(150)) == history[1:]
    # A transition exactly at `since` is the one that gives the status then.
    assert store.transitions("api", since=at(200)) == history[1:]
    assert store.transitions("api", since=at(0)) == history
    assert store.transitions("api", since=at(-10)) == history
    assert store.transitions("api", since=at(400)) == history[3:]
    assert store.transitions("api", newest_first=True, limit=2) == [history[3], history[2]]
    assert store.transitions("payments") == [Transition(at(150), UNKNOWN, DEGRADED, "slow")]
    assert store.transitions("nope", since=at(0)) == []


def test_insert_transition_keeps_the_rule_time_and_the_recorded_time(store: Store) -> None:
    sync(store, [component("api")])
    with store.transaction() as conn:
        store.insert_transition(
            conn, "api", Transition(at(90), OK, UNKNOWN, "stale"), recorded_at=at(150)
        )
        store.insert_transition(
            conn, "api", Transition(at(0), None, OK, "first"), recorded_at=at(0)
        )

    rows = sorted(raw_rows(store, t.transitions), key=lambda r: r["at"])
    assert [
        (r["at"], r["old_status"], r["new_status"], r["reason"], r["recorded_at"]) for r in rows
    ] == [
        (at(0), None, "operational", "first", at(0)),
        (at(90), "operational", "unknown", "stale", at(150)),
    ]


# --- rollups -------------------------------------------------------------------


def test_upsert_rollups_is_idempotent_and_overwrites(store: Store) -> None:
    sync(store, [component("api"), component("payments")])
    day = date(2026, 9, 15)
    first = [DayRollup(day, {OK: 3000.0, MAJOR: 600.0})]
    with store.transaction() as conn:
        store.upsert_rollups(conn, "api", first, now=at(3600))
        store.upsert_rollups(conn, "api", first, now=at(3600))

    assert store.rollups(["api"], day, day) == {"api": [DayRollup(day, {OK: 3000.0, MAJOR: 600.0})]}

    later = [DayRollup(day, {OK: 3000.0, MAJOR: 600.0, UNKNOWN: 400.0})]
    with store.transaction() as conn:
        store.upsert_rollups(conn, "api", later, now=at(4000))

    rows = raw_rows(store, t.daily_rollups)
    assert rows == [
        {
            "component_id": "api",
            "day": day,
            "operational_s": 3000.0,
            "degraded_performance_s": 0.0,
            "partial_outage_s": 0.0,
            "major_outage_s": 600.0,
            "under_maintenance_s": 0.0,
            "unknown_s": 400.0,
            "updated_at": at(4000),
        }
    ]


def test_writing_rollups_rewrites_the_bar_of_the_days_up_to_the_newest(store: Store) -> None:
    sync(store, [component("api"), component("payments")])
    today = date(2026, 9, 15)
    old = DayRollup(today - timedelta(days=1 + BAR_DAYS), {MAJOR: 600.0})  # just outside
    days = [DayRollup(today - timedelta(days=n), {OK: 86000.0, MAJOR: n}) for n in (1, 2)]
    with store.transaction() as conn:
        store.upsert_rollups(conn, "api", [old, *days], at(0))
    assert store.uptime_bars(["api", "payments"]) == {
        "api": uptime_bar(days[::-1], today - timedelta(days=1))
    }

    # A write of today's rollup alone moves the bar on to today, with the
    # days written before.
    now = [DayRollup(today, {OK: 3600.0, UNKNOWN: 60.0})]
    with store.transaction() as conn:
        store.upsert_rollups(conn, "api", now, at(60))
    bar = store.uptime_bars(["api"])["api"]
    assert bar == uptime_bar([*days[::-1], *now], today)
    assert len(bar.cells) == BAR_DAYS
    assert raw_rows(store, t.uptime_bars)[0]["updated_at"] == at(60)


def test_rollups_query_by_components_and_days(store: Store) -> None:
    sync(store, [component("api"), component("payments")])
    days = [date(2026, 9, 13), date(2026, 9, 14), date(2026, 9, 15)]
    with store.transaction() as conn:
        store.upsert_rollups(
            conn, "api", [DayRollup(d, {OK: 100.0 + i}) for i, d in enumerate(days)], at(0)
        )
        store.upsert_rollups(conn, "payments", [DayRollup(days[1], {UNKNOWN: 86400.0})], at(0))

    assert store.rollups(["api", "payments"], days[1], days[2]) == {
        "api": [DayRollup(days[1], {OK: 101.0}), DayRollup(days[2], {OK: 102.0})],
        "payments": [DayRollup(days[1], {UNKNOWN: 86400.0})],
    }
    # Days come back in order; a component without rollups gets an empty list.
    assert store.rollups(["api", "legacy"], days[0], days[2]) == {
        "api": [DayRollup(d, {OK: 100.0 + i}) for i, d in enumerate(days)],
        "legacy": [],
    }
    assert store.rollups(["api"], date(2026, 9, 16), date(2026, 9, 20)) == {"api": []}


# --- scheduler bookkeeping -----------------------------------------------------


def test_heartbeats(store: Store) -> None:
    assert store.heartbeat("scheduler") is None
    store.beat("scheduler", at(0))
    store.beat("worker", at(3), "outbox")
    store.beat("scheduler", at(5), "leader")

    assert store.heartbeat("scheduler") == at(5)
    assert store.heartbeat("worker") == at(3)
    assert sorted((r["name"], r["at"], r["detail"]) for r in raw_rows(store, t.heartbeats)) == [
        ("scheduler", at(5), "leader"),
        ("worker", at(3), "outbox"),
    ]


def test_missed_runs_are_recorded_and_counted(store: Store) -> None:
    assert store.missed_runs() == 0
    store.record_missed_run("api/health", at(30), at(46), "started too late")
    store.record_missed_run("api/health", at(60), at(60), "previous run still going")
    store.record_missed_run("payments/health", at(30), at(31), "started too late")

    assert store.missed_runs() == 3
    assert store.missed_runs("api/health") == 2
    assert store.missed_runs("payments/health") == 1
    assert store.missed_runs("nope") == 0
    rows = sorted(raw_rows(store, t.missed_runs), key=lambda r: r["id"])
    assert [(r["check_id"], r["scheduled_at"], r["recorded_at"], r["reason"]) for r in rows] == [
        ("api/health", at(30), at(46), "started too late"),
        ("api/health", at(60), at(60), "previous run still going"),
        ("payments/health", at(30), at(31), "started too late"),
    ]


# --- UTCDateTime -----------------------------------------------------------------


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    berlin_summer = timezone(timedelta(hours=2))
    written = datetime(2026, 9, 15, 7, 0, 0, 123456, tzinfo=berlin_summer)
    store.beat("scheduler", written)

    back = store.heartbeat("scheduler")
    assert back == datetime(2026, 9, 15, 5, 0, 0, 123456, tzinfo=UTC)
    assert back is not None and back.utcoffset() == timedelta(0)
    assert back.tzinfo is not None


def test_datetime_comparisons_work_across_offsets(store: Store) -> None:
    sync(store, [component("api")])
    add_results(store, "api/health", result(0), result(3600))
    plus_two = timezone(timedelta(hours=2))
    # 07:30+02:00 is 05:30 UTC: only the 06:00 UTC result is at or after it.
    since = datetime(2026, 9, 15, 7, 30, tzinfo=plus_two)

    assert [r.at for r in recent(store, "api/health", 10, since=since)] == [at(3600)]


def test_postgresql_session_time_zone_does_not_leak(store: Store) -> None:
    if store.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no session time zone")
    store.beat("scheduler", T0)
    with store.engine.connect() as conn:
        conn.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        back = conn.execute(select(t.heartbeats.c.at)).scalar()
        conn.rollback()
    assert back == T0
    assert back.tzinfo is UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        store.beat("scheduler", datetime(2026, 9, 15, 5, 0))
    assert store.heartbeat("scheduler") is None


def test_sqlite_stores_utc_wall_time(sqlite_store: Store) -> None:
    sqlite_store.beat("scheduler", datetime(2026, 9, 15, 7, 0, tzinfo=timezone(timedelta(hours=2))))
    with sqlite_store.engine.connect() as conn:
        raw = conn.execute(text("SELECT at FROM heartbeats")).scalar()
    assert raw == "2026-09-15 05:00:00.000000"


# --- migrations (DATA-09) ----------------------------------------------------------


def test_upgrade_from_empty_gives_the_declared_schema(database_url: str) -> None:
    store = Store(database_url)
    try:
        assert store.pending_migrations() is True
        store.upgrade()
        assert store.pending_migrations() is False
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, t.metadata) == []
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert version == [ScriptDirectory.from_config(store._alembic(conn)).get_current_head()]
        # Upgrading again is a no-op.
        store.upgrade()
        assert store.pending_migrations() is False
    finally:
        store.close()


def test_compare_metadata_would_notice_a_difference(database_url: str) -> None:
    """Guards the test above: an empty diff must mean something."""
    store = Store(database_url)
    try:
        store.upgrade()
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_transitions_component_id_at"))
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, t.metadata)
        assert [d[0] for d in diff] == ["add_index"]
        assert diff[0][1].name == "ix_transitions_component_id_at"
    finally:
        store.close()


def test_migrations_are_forward_only(store: Store) -> None:
    with pytest.raises(RuntimeError, match="not supported"), store.engine.begin() as conn:
        command.downgrade(store._alembic(conn), "base")
    assert store.pending_migrations() is False


def test_upgrade_from_the_first_release_keeps_its_data(database_url: str) -> None:
    """DATA-09: a database made by revision 0001, with rows, upgrades to
    head without losing them."""
    store = Store(database_url)
    try:
        with store.engine.begin() as conn:
            command.upgrade(store._alembic(conn), "0001")
        sync(store, [component("api")])
        add_results(store, "api/health", result(0))
        store.upgrade()
        assert store.pending_migrations() is False
        assert [c.id for c in store.components()] == ["api"]
        assert recent(store, "api/health", 5) == [result(0)]
        assert store.pings("api/health") is None  # the new table is there and empty
    finally:
        store.close()


def test_upgrade_keeps_existing_data(database_url: str) -> None:
    """Opening an up-to-date database again (a restart) keeps its rows."""
    first = Store(database_url)
    first.upgrade()
    sync(first, [component("api")])
    add_results(first, "api/health", result(0))
    first.close()

    second = Store(database_url)
    try:
        second.upgrade()
        assert [c.id for c in second.components()] == ["api"]
        assert recent(second, "api/health", 5) == [result(0)]
    finally:
        second.close()


# --- SQLite settings (DATA-01) -------------------------------------------------------


def test_sqlite_connections_are_safe(sqlite_store: Store) -> None:
    for _ in range(2):  # every pooled connection, not only the first
        with sqlite_store.engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 5000,
            "synchronous": 1,
        }


def test_sqlite_store_creates_the_database_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deep" / "er" / "statuspage.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.upgrade()
        store.ping()
        assert path.exists()
        assert store.backend == "sqlite"
    finally:
        store.close()
