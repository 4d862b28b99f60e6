"""What the public page shows, read from the store: never green while blind.

The web process does not trust that a scheduler is alive: these tests
record results through a monitor and then build the page later without
any `reevaluate()`, as if the scheduler had died.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update

from statuspage.checks.base import CheckResult
from statuspage.config import Config
from statuspage.domain import ComponentStatus, Indicator
from statuspage.monitor import RESTART_REASON, Monitor
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.uptime import DayRollup
from statuspage.web.pageview import BlindSource, PageView, build_page
from tests.conftest import FakeClock

OK = ComponentStatus.OPERATIONAL
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN
T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
API = "api/health"
PAY = "payments/health"
CANARY = "payments/canary"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(config: Config, store: Store, clock: FakeClock) -> Monitor:
    monitor = Monitor(config, store, clock)
    monitor.start()
    return monitor


def feed(monitor: Monitor, clock: FakeClock, check_id: str, seconds: float, status=OK) -> None:  # type: ignore[no-untyped-def]
    clock.now = max(clock.now, at(seconds))
    monitor.record(
        check_id, CheckResult(at(seconds), status, "HTTP 200" if status is OK else "HTTP 500")
    )


def page_at(config: Config, store: Store, seconds: float) -> PageView:
    return build_page(config, store, at(seconds))


def shown(page: PageView) -> dict[str, tuple[ComponentStatus, datetime]]:
    return {c.id: (c.status, c.since) for c in page.components}


def all_fresh(monitor_config: Config, store: Store, clock: FakeClock) -> Monitor:
    """Every check reported at 10 s; api again at 40 s (stale at 100 / 130)."""
    monitor = started(monitor_config, store, clock)
    for check_id in (API, PAY, CANARY):
        feed(monitor, clock, check_id, 10)
    feed(monitor, clock, API, 40)
    return monitor


def test_fresh_data_is_shown_as_it_is(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = all_fresh(monitor_config, store, clock)
    clock.now = at(95)
    monitor.beat()

    page = page_at(monitor_config, store, 99)

    assert shown(page) == {"api": (OK, at(10)), "payments": (OK, at(10))}
    assert page.blind == []
    assert page.indicator is Indicator.NONE
    assert page.status_line == "All Systems Operational"
    assert page.scheduler_stalled_since is None
    assert page.title == "Acme Status"
    assert [c.state.status for c in page.components[1].checks] == [OK, OK]


def test_a_check_past_its_deadline_is_shown_unknown_without_a_scheduler(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    all_fresh(monitor_config, store, clock)

    # payments' checks were due at 100 and nothing marked them: the page does.
    page = page_at(monitor_config, store, 100)

    assert shown(page) == {"api": (OK, at(10)), "payments": (UNKNOWN, at(100))}
    checks = page.components[1].checks
    assert [(c.id, c.state.status, c.state.since, c.state.reason) for c in checks] == [
        (PAY, UNKNOWN, at(100), "no result since 05:00:10 UTC"),
        (CANARY, UNKNOWN, at(100), "no result since 05:00:10 UTC"),
    ]
    assert page.blind == [
        BlindSource("Payments", "health", at(100), "no result since 05:00:10 UTC"),
        BlindSource("Payments", "canary", at(100), "no result since 05:00:10 UTC"),
    ]
    assert page.indicator is Indicator.MINOR
    assert page.status_line == "Some Systems Have No Monitoring Data"
    # The store itself was not touched: only the view knows.
    payments = store.component("payments")
    assert payments is not None and payments.status is OK


def test_a_component_is_unknown_from_when_its_last_check_went_silent(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, PAY, 10)  # due at 100
    feed(monitor, clock, CANARY, 40)  # due at 130

    page = page_at(monitor_config, store, 300)

    assert shown(page)["payments"] == (UNKNOWN, at(130))
    assert [(b.check, b.since) for b in page.blind] == [("health", at(100)), ("canary", at(130))]


def test_a_silent_check_is_named_but_does_not_hide_a_fresh_one(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, PAY, 10)
    for seconds in (10, 40, 70, 100):
        feed(monitor, clock, CANARY, seconds)
    feed(monitor, clock, CANARY, 130, MAJOR)

    page = page_at(monitor_config, store, 130)

    assert shown(page)["payments"] == (OK, at(10))
    assert page.blind == [
        BlindSource("Payments", "health", at(100), "no result since 05:00:10 UTC")
    ]


def test_a_stale_outage_is_not_shown_as_an_outage_either(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 10, MAJOR)

    assert shown(page_at(monitor_config, store, 99))["api"] == (MAJOR, at(10))
    assert shown(page_at(monitor_config, store, 100))["api"] == (UNKNOWN, at(100))


def test_checks_marked_stale_by_the_monitor_are_listed_too(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = all_fresh(monitor_config, store, clock)
    clock.now = at(200)
    monitor.reevaluate()

    page = page_at(monitor_config, store, 200)

    assert shown(page) == {"api": (UNKNOWN, at(130)), "payments": (UNKNOWN, at(100))}
    # Oldest first: the banner starts where the blindness began.
    assert [(b.component, b.check, b.since) for b in page.blind] == [
        ("Payments", "health", at(100)),
        ("Payments", "canary", at(100)),
        ("API", "health", at(130)),
    ]
    assert page.status_line == "Status Unknown: No Monitoring Data"


def test_after_a_start_without_results_nothing_is_green_and_nothing_is_blind(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """Not run yet is not the same as lost: no monitoring-degraded banner."""
    started(monitor_config, store, clock)

    page = page_at(monitor_config, store, 3600)

    assert shown(page) == {"api": (UNKNOWN, T0), "payments": (UNKNOWN, T0)}
    assert [c.state.reason for c in page.components[0].checks] == [RESTART_REASON]
    assert page.blind == []
    assert page.indicator is Indicator.MINOR
    assert page.status_line == "Status Unknown: No Monitoring Data"


def test_after_a_restart_a_check_that_had_data_waits_for_its_first_result(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    all_fresh(monitor_config, store, clock)
    clock.now = at(60)
    started(monitor_config, store, clock)

    page = page_at(monitor_config, store, 60)

    assert shown(page) == {"api": (UNKNOWN, at(60)), "payments": (UNKNOWN, at(60))}
    assert page.blind == []


def test_a_stalled_scheduler_is_reported_after_30_seconds(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    assert page_at(monitor_config, store, 0).scheduler_stalled_since is None  # never beat

    clock.now = at(5)
    monitor.beat()

    assert page_at(monitor_config, store, 5).scheduler_stalled_since is None
    assert page_at(monitor_config, store, 35).scheduler_stalled_since is None
    assert page_at(monitor_config, store, 35.001).scheduler_stalled_since == at(5)
    assert page_at(monitor_config, store, 600).scheduler_stalled_since == at(5)

    clock.now = at(601)
    monitor.beat()
    assert page_at(monitor_config, store, 601).scheduler_stalled_since is None


def test_bars_and_uptime_come_from_rollups(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 0)
    for seconds in (30, 60, 90):
        feed(monitor, clock, API, seconds, MAJOR)
    feed(monitor, clock, API, 120)
    feed(monitor, clock, API, 150)  # operational again from 120
    clock.now = at(200)
    monitor.refresh_rollups()

    page = page_at(monitor_config, store, 200)

    api = page.components[0]
    assert len(api.bars) == 90
    today = api.bars[-1]
    assert (today.day, today.worst) == (T0.date(), MAJOR)
    # 30 s up, 90 s down, 80 s up again: 110 of 200 seconds up.
    assert api.uptime == 1 - 90 / 200
    assert api.no_data_seconds == 0.0
    assert all(bar.worst is None and bar.uptime is None for bar in api.bars[:-1])
    payments = page.components[1]
    assert payments.uptime is None and payments.bars[-1].worst is None


def test_bars_come_from_the_stored_bars_or_else_from_the_rollups(
    monitor_config: Config, store: Store, clock: FakeClock
) -> None:
    """The page reads one stored bar per component; one missing (a database
    from before the bars) or not yet moved on to today (just after
    midnight) is made from the rollups, and the page is the same."""
    monitor = started(monitor_config, store, clock)
    feed(monitor, clock, API, 0)
    for seconds in (30, 60):
        feed(monitor, clock, API, seconds, MAJOR)
    with store.transaction() as conn:
        history = [
            DayRollup(T0.date() - timedelta(days=n), {OK: 80000.0, MAJOR: n}) for n in (2, 5)
        ]
        store.upsert_rollups(conn, "payments", history, T0)
    clock.now = at(200)
    monitor.refresh_rollups()
    stored = page_at(monitor_config, store, 200).components
    assert set(store.uptime_bars(["api", "payments"])) == {"api", "payments"}

    with store.transaction() as conn:
        conn.execute(delete(t.uptime_bars).where(t.uptime_bars.c.component_id == "api"))
        conn.execute(update(t.uptime_bars).values(last_day=T0.date() - timedelta(days=1)))
    rebuilt = page_at(monitor_config, store, 200).components

    assert [(c.bar, c.uptime, c.no_data_seconds) for c in rebuilt] == [
        (c.bar, c.uptime, c.no_data_seconds) for c in stored
    ]
    payments = rebuilt[1]
    assert payments.bar.last_day == T0.date()
    assert [b.worst for b in payments.bars[-6:]] == [MAJOR, None, None, MAJOR, None, None]


def test_a_days_bar_names_the_incidents_open_that_day_in_the_page_zone(
    make_monitor_config, store: Store, clock: FakeClock
) -> None:
    """An incident from 23:00 to 01:00 Berlin time is on two local days of
    the payments bar, never on api's; a draft and a hostile title are not
    shown raw."""
    from statuspage.domain import IncidentImpact, IncidentStatus
    from statuspage.store.incidents import IncidentRepository
    from statuspage.web.formatting import bar_cells

    config = make_monitor_config("Europe/Berlin")
    started(config, store, clock)
    repo = IncidentRepository(store)
    opened = datetime(2026, 9, 13, 21, 0, tzinfo=UTC)  # 23:00 in Berlin
    with store.transaction() as conn:
        incident = repo.create(
            conn,
            name="Renewals <b>fail</b>",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={"payments": MAJOR},
            body="looking",
            author="user:a",
            now=opened,
        )
        repo.resolve(conn, incident, body="fixed", author="user:a", now=opened + timedelta(hours=2))
        repo.create(
            conn,
            name="Secret draft",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MINOR,
            components={"payments": MAJOR},
            body="not yet",
            author="user:a",
            now=opened,
            publish=False,
        )
    page = build_page(config, store, T0)  # 07:00 Berlin on Sep 15
    payments = next(c for c in page.components if c.id == "payments")
    api = next(c for c in page.components if c.id == "api")
    days = {day: titles for day, titles in payments.bar_incidents.items()}
    sep13, sep14 = datetime(2026, 9, 13).date(), datetime(2026, 9, 14).date()
    assert days == {sep13: ["Renewals <b>fail</b>"], sep14: ["Renewals <b>fail</b>"]}
    assert api.bar_incidents == {}
    html = str(bar_cells(payments.bar, payments.bar_incidents))
    assert html.count("incident: Renewals &lt;b&gt;fail&lt;/b&gt;") == 4  # title + hidden text, 2 days
    assert "<b>" not in html and "Secret draft" not in html
