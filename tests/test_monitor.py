"""The monitor: results in, check states, transitions and rollups out.

No real checks and no sleeps: results are fed by hand and a fake clock
moves. Run on SQLite and PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from statuspage.checks.base import CheckResult
from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.monitor import RESTART_REASON, SCHEDULER_HEARTBEAT, Monitor, component_rows
from statuspage.state import CheckState, initial_state
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.uptime import DayRollup
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN
T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)  # the FakeClock's start
DAY = date(2026, 9, 15)
API = "api/health"
PAY = "payments/health"
CANARY = "payments/canary"
FAIL = "[STATUS] (500) == 200"


def at(seconds: float, start: datetime = T0) -> datetime:
    return start + timedelta(seconds=seconds)


def started(config: Config, store: Store, clock: FakeClock) -> Monitor:
    monitor = Monitor(config, store, clock)
    monitor.start()
    return monitor


def feed(
    monitor: Monitor,
    clock: FakeClock,
    check_id: str,
    seconds: float,
    status: ComponentStatus = OK,
    reason: str | None = None,
    start: datetime = T0,
) -> CheckState:
    """A result that ran at `seconds`; the clock moves there first."""
    clock.now = max(clock.now, at(seconds, start))
    if reason is None:
        reason = "HTTP 200" if status is OK else FAIL
    return monitor.record(check_id, CheckResult(at(seconds, start), status, reason))


def run(
    monitor: Monitor,
    clock: FakeClock,
    check_id: str,
    first: float,
    last: float,
    status: ComponentStatus = OK,
    start: datetime = T0,
) -> None:
    """Results every 30 s from `first` to `last`, with the scheduler's tick
    (`reevaluate`) in between, as the real scheduler would do."""
    seconds = first
    while seconds <= last:
        feed(monitor, clock, check_id, seconds, status, start=start)
        monitor.reevaluate()
        seconds += 30


def transitions(store: Store, component_id: str) -> list[tuple[Any, ...]]:
    """(at, old, new, recorded_at) rows, in insertion order."""
    tr = t.transitions
    query = select(tr).where(tr.c.component_id == component_id).order_by(tr.c.id)
    with store.engine.connect() as conn:
        return [(r.at, r.old_status, r.new_status, r.recorded_at) for r in conn.execute(query)]


def rollup_rows(store: Store, component_id: str, day: date = DAY) -> list[dict[str, Any]]:
    r = t.daily_rollups
    query = select(r).where(r.c.component_id == component_id, r.c.day == day)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def statuses(store: Store) -> dict[str, tuple[ComponentStatus, datetime]]:
    return {c.id: (c.status, c.status_since) for c in store.components()}


# --- start (REL-06) --------------------------------------------------------------


def test_config_is_synced_with_check_ids_and_intervals(monitor_config: Config) -> None:
    rows = component_rows(monitor_config)
    assert [c["id"] for c in rows] == ["api", "payments"]
    assert rows[0]["checks"] == [{"id": API, "name": "health", "type": "http", "interval_s": 30.0}]
    assert [k["id"] for k in rows[1]["checks"]] == [PAY, CANARY]  # type: ignore[attr-defined]


def test_components_start_unknown(monitor_config: Config, store: Store, clock: FakeClock) -> None:
    monitor = started(monitor_config, store, clock)

    assert statuses(store) == {"api": (UNKNOWN, T0), "payments": (UNKNOWN, T0)}
    api = store.component("api")
    assert api is not None and api.status_reason == f"no fresh data (health: {RESTART_REASON})"
    waiting = initial_state(T0, RESTART_REASON)
    assert [(c.id, c.state) for c in store.checks()] == [
        (API, waiting),
        (PAY, waiting),
        (CANARY, waiting),
    ]
    assert monitor.state(API) == waiting
    assert monitor.component_status("payments") is UNKNOWN
    # Nothing happened yet: no transition, and no time counted as anything.
    assert transitions(store, "api") == []
    assert store.rollups(["api", "payments"], DAY, DAY) == {
        "api": [DayRollup(DAY, {})],
        "payments": [DayRollup(DAY, {})],
    }


def test_a_failure_before_start_confirmation_is_shown_at_once(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """Any data beats none: the first result after a start is adopted as is."""
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10, MAJOR)

    assert statuses(store)["api"] == (MAJOR, at(10))
    assert transitions(store, "api") == [(at(10), "unknown", "major_outage", at(10))]


# --- results -------------------------------------------------------------------------


def test_first_ok_result_makes_the_component_operational(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    # The check ran at 5 s and took 200 ms: the change happened when it ran.
    clock.now = at(5.2)
    state = monitor.record(API, CheckResult(at(5), OK, "HTTP 200", latency_ms=200.0))

    assert state == CheckState(OK, at(5), "HTTP 200", last_data_at=at(5), next_change_at=at(95))
    assert store.checks("api")[0].state == state
    assert statuses(store) == {"api": (OK, at(5)), "payments": (UNKNOWN, T0)}
    assert store.component("api").status_reason == "all checks pass"  # type: ignore[union-attr]
    assert transitions(store, "api") == [(at(5), "unknown", "operational", at(5.2))]
    assert transitions(store, "payments") == []


def test_two_failures_confirm_an_outage_from_the_first(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)
    state = feed(monitor, clock, API, 40, MAJOR)

    # One failure is a blip: still operational, nothing recorded.
    assert (state.status, state.since, state.last_data_at) == (OK, at(10), at(40))
    assert statuses(store)["api"] == (OK, at(10))
    assert len(transitions(store, "api")) == 1

    state = feed(monitor, clock, API, 70, MAJOR)

    assert (state.status, state.since, state.reason) == (MAJOR, at(40), FAIL)
    assert statuses(store)["api"] == (MAJOR, at(40))
    assert store.component("api").status_reason == f"health: {FAIL}"  # type: ignore[union-attr]
    assert transitions(store, "api") == [
        (at(10), "unknown", "operational", at(10)),
        (at(40), "operational", "major_outage", at(70)),
    ]


def test_two_successes_confirm_a_recovery_from_the_first(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    for seconds, status in [(10, OK), (40, MAJOR), (70, MAJOR), (100, MAJOR), (130, OK)]:
        feed(monitor, clock, API, seconds, status)
    assert statuses(store)["api"] == (MAJOR, at(40))

    feed(monitor, clock, API, 160, OK)

    assert statuses(store)["api"] == (OK, at(130))
    assert transitions(store, "api") == [
        (at(10), "unknown", "operational", at(10)),
        (at(40), "operational", "major_outage", at(70)),
        (at(130), "major_outage", "operational", at(160)),
    ]


def test_a_component_is_the_worst_of_its_fresh_checks(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, PAY, 10)
    feed(monitor, clock, CANARY, 10)
    feed(monitor, clock, CANARY, 40, MAJOR, 'json $.status ("expired") == "active"')
    feed(monitor, clock, PAY, 40)
    feed(monitor, clock, CANARY, 70, MAJOR, 'json $.status ("expired") == "active"')

    payments = store.component("payments")
    assert payments is not None
    assert (payments.status, payments.status_since) == (MAJOR, at(40))
    assert payments.status_reason == 'canary: json $.status ("expired") == "active"'
    assert transitions(store, "payments") == [
        (at(10), "unknown", "operational", at(10)),
        (at(40), "operational", "major_outage", at(70)),
    ]


# --- staleness (REL-04/05) ----------------------------------------------------------


def test_a_silent_check_goes_unknown_at_its_deadline(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)

    clock.now = at(99)  # one second before 10 + 3 x 30 s
    monitor.reevaluate()
    assert statuses(store)["api"] == (OK, at(10))

    clock.now = at(160)  # noticed a minute late
    monitor.reevaluate()

    assert monitor.state(API) == CheckState(
        UNKNOWN, at(100), "no result since 05:00:10 UTC", last_data_at=at(10), next_change_at=None
    )
    assert statuses(store)["api"] == (UNKNOWN, at(100))
    assert transitions(store, "api") == [
        (at(10), "unknown", "operational", at(10)),
        (at(100), "operational", "unknown", at(160)),
    ]
    # Nothing more happens on later ticks.
    clock.now = at(400)
    monitor.reevaluate()
    assert len(transitions(store, "api")) == 2


def test_staleness_starts_exactly_at_the_deadline(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)
    clock.now = at(100)
    monitor.reevaluate()

    assert statuses(store)["api"] == (UNKNOWN, at(100))


def test_a_result_after_staleness_is_adopted_at_once(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)
    clock.now = at(200)
    monitor.reevaluate()
    feed(monitor, clock, API, 210, OK)

    assert statuses(store)["api"] == (OK, at(210))
    assert [row[2] for row in transitions(store, "api")] == [
        "operational",
        "unknown",
        "operational",
    ]


def test_results_without_data_make_a_check_unknown_from_the_first_of_them(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """The query answered, but with nothing (Prometheus lost its targets)."""
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)
    feed(monitor, clock, API, 40, UNKNOWN, "Prometheus: no data")
    assert statuses(store)["api"] == (OK, at(10))  # one empty answer is a blip

    feed(monitor, clock, API, 70, UNKNOWN, "Prometheus: no data")

    assert monitor.state(API) == CheckState(UNKNOWN, at(40), "Prometheus: no data", at(10), None)
    assert statuses(store)["api"] == (UNKNOWN, at(40))
    assert transitions(store, "api")[-1] == (at(40), "operational", "unknown", at(70))


def test_a_stale_check_does_not_hide_a_fresh_one(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, PAY, 10)
    for seconds in (10, 40, 70, 100, 130):
        feed(monitor, clock, CANARY, seconds)
        monitor.reevaluate()

    assert monitor.state(PAY).status is UNKNOWN
    assert statuses(store)["payments"] == (OK, at(10))
    assert len(transitions(store, "payments")) == 1


def test_a_component_goes_unknown_when_its_last_check_goes_stale(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """Both checks found stale on the same tick: the component had data
    until the later deadline, whichever check the monitor looks at first."""
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, CANARY, 10)  # stale at 100
    feed(monitor, clock, PAY, 40)  # stale at 130
    clock.now = at(300)
    monitor.reevaluate()

    assert monitor.state(PAY).since == at(130)
    assert monitor.state(CANARY).since == at(100)
    assert statuses(store)["payments"] == (UNKNOWN, at(130))
    assert transitions(store, "payments") == [
        (at(10), "unknown", "operational", at(10)),
        (at(130), "operational", "unknown", at(300)),
    ]


# --- restart (REL-06) ------------------------------------------------------------------


def test_a_restart_puts_components_to_unknown_when_their_data_stopped(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    first = started(monitor_config, store, clock)
    feed(first, clock, API, 10)  # api data stops at 10 + 90
    feed(first, clock, CANARY, 10)  # stale at 100
    feed(first, clock, PAY, 40)  # stale at 130: payments had data until then

    clock.now = at(600)  # the process was down; nothing noticed the silence
    second = started(monitor_config, store, clock)

    assert statuses(store) == {"api": (UNKNOWN, at(100)), "payments": (UNKNOWN, at(130))}
    assert transitions(store, "api") == [
        (at(10), "unknown", "operational", at(10)),
        (at(100), "operational", "unknown", at(600)),
    ]
    assert transitions(store, "payments")[-1] == (at(130), "operational", "unknown", at(600))
    waiting = initial_state(at(600), RESTART_REASON)
    assert [c.state for c in store.checks()] == [waiting, waiting, waiting]
    assert second.state(API) == waiting


def test_a_restart_ignores_checks_that_had_already_lost_their_data(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """A check that lost its data (no-data results) before the process died
    did not hold the component up: only the fresh check's deadline counts."""
    first = started(monitor_config, store, clock)
    feed(first, clock, CANARY, 30)  # fresh until 120
    feed(first, clock, PAY, 40)
    feed(first, clock, PAY, 50, UNKNOWN, "Prometheus: no data")
    feed(first, clock, PAY, 60, UNKNOWN, "Prometheus: no data")  # lost since 50
    assert first.state(PAY).status is UNKNOWN
    assert statuses(store)["payments"] == (OK, at(30))

    clock.now = at(600)
    started(monitor_config, store, clock)

    assert statuses(store)["payments"] == (UNKNOWN, at(120))
    assert transitions(store, "payments")[-1] == (at(120), "operational", "unknown", at(600))


def test_a_quick_restart_marks_unknown_from_the_restart(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    first = started(monitor_config, store, clock)
    feed(first, clock, API, 10)

    clock.now = at(25)  # data was still fresh when the new process started
    started(monitor_config, store, clock)

    assert statuses(store)["api"] == (UNKNOWN, at(25))
    assert transitions(store, "api")[-1] == (at(25), "operational", "unknown", at(25))


def test_a_restart_does_not_repeat_a_stale_transition(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    first = started(monitor_config, store, clock)
    feed(first, clock, API, 10)
    clock.now = at(200)
    first.reevaluate()

    clock.now = at(600)
    started(monitor_config, store, clock)

    assert statuses(store)["api"] == (UNKNOWN, at(100))
    assert transitions(store, "api") == [
        (at(10), "unknown", "operational", at(10)),
        (at(100), "operational", "unknown", at(200)),
    ]


def test_results_from_before_a_restart_do_not_count(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    first = started(monitor_config, store, clock)
    feed(first, clock, API, 10)
    feed(first, clock, API, 40, MAJOR)  # one failure, unconfirmed

    clock.now = at(50)
    second = started(monitor_config, store, clock)
    feed(second, clock, API, 70, OK)

    assert second.state(API) == CheckState(OK, at(70), "HTTP 200", at(70), at(160))
    assert statuses(store)["api"] == (OK, at(70))


# --- rollups ---------------------------------------------------------------------------


def test_daily_rollups_count_every_second_since_the_first_transition(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    run(monitor, clock, API, 10, 580, OK)
    run(monitor, clock, API, 610, 1180, MAJOR)  # major from 610
    run(monitor, clock, API, 1210, 1300, OK)  # operational from 1210, last data at 1300
    clock.now = at(1800)
    monitor.reevaluate()  # stale from 1390
    monitor.refresh_rollups()

    assert [row[:3] for row in transitions(store, "api")] == [
        (at(10), "unknown", "operational"),
        (at(610), "operational", "major_outage"),
        (at(1210), "major_outage", "operational"),
        (at(1390), "operational", "unknown"),
    ]
    expected = {OK: 600.0 + 180.0, MAJOR: 600.0, UNKNOWN: 410.0}
    assert store.rollups(["api", "payments"], DAY, DAY) == {
        "api": [DayRollup(DAY, expected)],
        "payments": [DayRollup(DAY, {})],  # never had data: nothing counted
    }
    assert sum(expected.values()) == (clock.now - at(10)).total_seconds()
    row = rollup_rows(store, "api")
    assert row == [
        {
            "component_id": "api",
            "day": DAY,
            "operational_s": 780.0,
            "degraded_performance_s": 0.0,
            "partial_outage_s": 0.0,
            "major_outage_s": 600.0,
            "under_maintenance_s": 0.0,
            "unknown_s": 410.0,
            "updated_at": at(1800),
        }
    ]

    # Refreshing later only grows the no-data time, in the same row.
    clock.now = at(1900)
    monitor.refresh_rollups()
    monitor.refresh_rollups()
    assert store.rollups(["api"], DAY, DAY)["api"] == [
        DayRollup(DAY, {OK: 780.0, MAJOR: 600.0, UNKNOWN: 510.0})
    ]
    assert len(rollup_rows(store, "api")) == 1


def test_a_transition_updates_the_rollup_at_once(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10)
    feed(monitor, clock, API, 40, MAJOR)
    feed(monitor, clock, API, 70, MAJOR)

    # No refresh_rollups call: the transition at 40 (noticed at 70) wrote it.
    assert store.rollups(["api"], DAY, DAY)["api"] == [DayRollup(DAY, {OK: 30.0, MAJOR: 30.0})]


def test_rollups_split_at_midnight_and_the_day_before_is_completed(
    monitor_config: Config, store: Store
) -> None:
    """The scheduler refreshes rollups every minute; the first refresh after
    midnight must also finish yesterday, or its last minute is lost."""
    start = datetime(2026, 9, 15, 23, 58, tzinfo=UTC)
    clock = FakeClock(start)
    monitor = started(monitor_config, store, clock)
    run(monitor, clock, API, 10, 100, start=start)  # operational from 23:58:10
    monitor.refresh_rollups()  # 23:59:40
    assert store.rollups(["api"], DAY, DAY)["api"] == [DayRollup(DAY, {OK: 90.0})]

    run(monitor, clock, API, 130, 160, start=start)
    monitor.refresh_rollups()  # 00:00:40

    assert store.rollups(["api"], DAY, DAY + timedelta(days=1))["api"] == [
        DayRollup(DAY, {OK: 110.0}),
        DayRollup(DAY + timedelta(days=1), {OK: 40.0}),
    ]


def test_rollups_follow_the_site_time_zone(make_monitor_config: Any, store: Store) -> None:
    config = make_monitor_config("Europe/Berlin")
    start = datetime(2026, 9, 15, 21, 59, tzinfo=UTC)  # 23:59 in Berlin (CEST)
    clock = FakeClock(start)
    monitor = started(config, store, clock)
    run(monitor, clock, API, 30, 90, start=start)
    monitor.refresh_rollups()  # 22:00:30 UTC, 00:00:30 in Berlin

    assert store.rollups(["api"], DAY, DAY + timedelta(days=1))["api"] == [
        DayRollup(DAY, {OK: 30.0}),
        DayRollup(DAY + timedelta(days=1), {OK: 30.0}),
    ]


# --- heartbeat -------------------------------------------------------------------------


def test_beat_records_the_scheduler_heartbeat(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    assert store.heartbeat(SCHEDULER_HEARTBEAT) is None

    monitor.beat()
    assert store.heartbeat(SCHEDULER_HEARTBEAT) == T0
    clock.advance(5)
    monitor.beat()
    assert store.heartbeat("scheduler") == at(5)


def test_recording_for_an_unknown_check_is_refused(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    with pytest.raises(KeyError):
        monitor.record("api/nope", CheckResult(T0, OK))
    assert store.results_between(API, T0, at(1000)) == []


def test_results_without_data_between_failures_do_not_hide_a_confirmed_outage(
    store: Store, clock: FakeClock
) -> None:
    """No-data results are transparent to confirmation, however many lie
    between the failures: fail, no data, fail, no data, fail confirms the
    outage with confirm_down 3."""
    from statuspage.config import parse_config

    config = parse_config(
        {
            "defaults": {"interval": "30s", "confirm_down": 3, "confirm_up": 2, "stale_after": 3},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": "http://a/"}],
                }
            ],
        },
        env={},
    )
    monitor = started(config, store, clock)
    feed(monitor, clock, API, 0)
    pattern = [MAJOR, UNKNOWN, MAJOR, UNKNOWN, MAJOR]
    for step, status in enumerate(pattern, start=1):
        reason = "Prometheus: query returned no data" if status is UNKNOWN else None
        feed(monitor, clock, API, 30 * step, status, reason)
    state = monitor.state(API)
    assert state.status is MAJOR
    assert state.since == at(30)
