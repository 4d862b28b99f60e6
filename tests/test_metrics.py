"""`/metrics`: what the store says at scrape time, what the scheduler measured,
who may read it, and whether Prometheus's own linter accepts it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from statuspage.checks.base import CheckResult
from statuspage.clock import utc_now
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.metrics import SchedulerMetrics
from statuspage.monitor import Monitor
from statuspage.runtime import start_services
from statuspage.scheduler import CheckScheduler
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from statuspage.web.metrics import MetricsSettings, metrics_registry
from tests.conftest import FakeClock
from tests.loopback import Reply, ScriptedServer, scripted_server

OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(app: Flask, **kwargs: Any) -> str:
    answer = app.test_client().get("/metrics", **kwargs)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain; version=0.0.4")
    return answer.get_data(as_text=True)


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def statuses(found: Samples, component: str) -> dict[str, float]:
    return {
        dict(labels)["status"]: v
        for (name, labels), v in found.items()
        if name == "statuspage_component_status" and dict(labels)["component"] == component
    }


def with_metrics(config: Config, settings: Any) -> Config:
    """The config as it will be once `metrics:` is one of its sections."""
    return config.model_copy(update={"metrics": settings})


# --- values from the store --------------------------------------------------


def test_a_fresh_page_is_unknown_everywhere_and_has_no_poll_yet(
    sqlite_store: Store, clock: FakeClock, monitor_config: Config
) -> None:
    Monitor(monitor_config, sqlite_store, clock).start()
    found = samples(scrape(create_app(monitor_config, sqlite_store, clock)))
    assert statuses(found, "api") == {
        "operational": 0,
        "degraded_performance": 0,
        "partial_outage": 0,
        "major_outage": 0,
        "under_maintenance": 0,
        "unknown": 1,
    }
    for check in ("api/health", "payments/health", "payments/canary"):
        assert value(found, "statuspage_check_up", check=check) == 0
        assert value(found, "statuspage_check_has_data", check=check) == 0
    names = {name for name, _ in found}
    # Absent, not zero: `absent()` tells "never started" (REL-05, REL-11).
    assert "statuspage_last_poll_timestamp_seconds" not in names
    assert "statuspage_check_last_result_timestamp_seconds" not in names
    # The web process alone runs no checks, so it has nothing to time.
    assert "statuspage_check_duration_seconds_count" not in names
    assert value(found, "statuspage_scheduler_missed_runs_total") == 0
    assert value(found, "statuspage_open_incidents") == 0


def test_values_follow_the_store_at_each_scrape(
    sqlite_store: Store, clock: FakeClock, monitor_config: Config
) -> None:
    monitor = Monitor(monitor_config, sqlite_store, clock)
    monitor.start()
    app = create_app(monitor_config, sqlite_store, clock)

    first = clock.advance(10)
    monitor.record("api/health", CheckResult(first, OK, "200 OK"))
    monitor.record("payments/health", CheckResult(first, DOWN, "[STATUS] (500) == 200"))
    monitor.record("payments/canary", CheckResult(first, ComponentStatus.UNKNOWN, "no data"))
    second = clock.advance(30)
    monitor.record("api/health", CheckResult(second, OK, "200 OK"))
    monitor.record("payments/health", CheckResult(second, DOWN, "[STATUS] (500) == 200"))
    monitor.beat()
    sqlite_store.record_missed_run("api/health", first, second, "previous run still going")
    sqlite_store.record_missed_run("payments/health", first, second, "started too late")
    incidents = IncidentRepository(sqlite_store)
    with sqlite_store.transaction() as conn:
        for name, publish in (("Payments down", True), ("Draft", False)):
            incidents.create(
                conn,
                name=name,
                status=IncidentStatus.INVESTIGATING,
                impact=IncidentImpact.MAJOR,
                components={},
                body="Looking into it.",
                author="ops",
                now=second,
                publish=publish,
            )

    found = samples(scrape(app))
    assert statuses(found, "api")["operational"] == 1
    assert sum(statuses(found, "api").values()) == 1
    payments = {
        status.value: 1.0 if status is monitor.component_status("payments") else 0.0
        for status in ComponentStatus
    }
    assert monitor.component_status("payments") is DOWN
    assert statuses(found, "payments") == payments
    assert value(found, "statuspage_check_up", check="api/health") == 1
    assert value(found, "statuspage_check_has_data", check="api/health") == 1
    assert value(found, "statuspage_check_up", check="payments/health") == 0
    assert value(found, "statuspage_check_has_data", check="payments/health") == 1
    assert value(found, "statuspage_check_up", check="payments/canary") == 0
    assert value(found, "statuspage_check_has_data", check="payments/canary") == 0
    last_result = "statuspage_check_last_result_timestamp_seconds"
    assert value(found, last_result, check="api/health") == second.timestamp()
    assert value(found, last_result, check="payments/canary") == first.timestamp()
    assert value(found, "statuspage_last_poll_timestamp_seconds") == second.timestamp()
    assert value(found, "statuspage_scheduler_missed_runs_total") == 2
    # Ours and the one automation opened for payments; the draft is not counted.
    assert sorted(i.name for i in incidents.unresolved()) == ["Payments down", "Payments outage"]
    assert value(found, "statuspage_open_incidents") == 2

    # The next scrape reads the store again: nothing is cached.
    third = clock.advance(30)
    monitor.record("api/health", CheckResult(third, DOWN, "timed out after 5s"))
    monitor.beat()
    again = samples(scrape(app))
    assert value(again, "statuspage_check_up", check="api/health") == 0
    assert value(again, last_result, check="api/health") == third.timestamp()
    assert value(again, "statuspage_last_poll_timestamp_seconds") == third.timestamp()


def test_a_store_that_fails_makes_the_scrape_fail_with_the_reason(
    sqlite_store: Store, clock: FakeClock, monitor_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    Monitor(monitor_config, sqlite_store, clock).start()
    app = create_app(monitor_config, sqlite_store, clock)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database is down")

    monkeypatch.setattr(sqlite_store, "components", unreachable)
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 503
    assert answer.get_data(as_text=True) == "could not collect metrics (ConnectionError)\n"


# --- the scheduler's own measurements -----------------------------------------


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        yield s


def loopback_config(server: ScriptedServer, **extra: Any) -> Config:
    return parse_config(
        {
            "defaults": {"interval": "30s", "timeout": "2s", "confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": "web",
                    "name": "Web",
                    "checks": [{"name": "home", "type": "http", "url": f"{server.url}/ok"}],
                }
            ],
            **extra,
        },
        env={},
    )


def test_one_real_run_is_timed_counted_and_its_lag_measured(
    sqlite_store: Store, server: ScriptedServer
) -> None:
    config = loopback_config(server)
    monitor = Monitor(config, sqlite_store, utc_now)
    monitor.start()
    scheduler = CheckScheduler(config, monitor, utc_now)
    app = create_app(config, sqlite_store, utc_now)
    metrics_registry(app).register(scheduler.metrics)

    before = samples(scrape(app))
    assert value(before, "statuspage_check_duration_seconds_count", check="web/home") == 0
    assert value(before, "statuspage_check_results_total", check="web/home", status="unknown") == 0
    assert value(before, "statuspage_scheduler_lag_seconds_count") == 0

    # What APScheduler tells the scheduler when it hands the run to a worker.
    submitted = JobSubmissionEvent(EVENT_JOB_SUBMITTED, "web/home", None, [datetime.now(UTC)])
    scheduler._on_submitted(submitted)
    result = scheduler.run_once("web/home")
    assert result.status is OK

    found = samples(scrape(app))
    assert value(found, "statuspage_check_duration_seconds_count", check="web/home") == 1
    assert 0 < value(found, "statuspage_check_duration_seconds_sum", check="web/home") < 2
    assert (
        value(found, "statuspage_check_duration_seconds_bucket", check="web/home", le="+Inf") == 1
    )
    results = {
        dict(labels)["status"]: v
        for (name, labels), v in found.items()
        if name == "statuspage_check_results_total"
    }
    assert results == {
        "operational": 1,
        "degraded_performance": 0,
        "partial_outage": 0,
        "major_outage": 0,
        "unknown": 0,
    }
    assert value(found, "statuspage_scheduler_lag_seconds_count") == 1
    assert 0 <= value(found, "statuspage_scheduler_lag_seconds_sum") < 1
    assert value(found, "statuspage_check_up", check="web/home") == 1
    assert sqlite_store.missed_runs() == 0


def test_the_all_in_one_process_exposes_the_scheduler_metrics(
    server: ScriptedServer, sqlite_url: str
) -> None:
    services = start_services(loopback_config(server, storage={"url": sqlite_url}))
    try:
        names = {family.name for family in text_string_to_metric_families(scrape(services.app))}
    finally:
        services.stop()
    assert {
        "statuspage_check_duration_seconds",
        "statuspage_check_results",
        "statuspage_scheduler_lag_seconds",
        "statuspage_component_status",
    } <= names


# --- access -------------------------------------------------------------------


@pytest.fixture
def page(sqlite_store: Store, clock: FakeClock, monitor_config: Config) -> Config:
    Monitor(monitor_config, sqlite_store, clock).start()
    return monitor_config


def test_metrics_are_public_by_default(page: Config, sqlite_store: Store, clock: FakeClock) -> None:
    answer = create_app(page, sqlite_store, clock).test_client().get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers


def test_basic_auth_guards_metrics_when_configured(
    page: Config, sqlite_store: Store, clock: FakeClock
) -> None:
    settings = {"basic_auth": {"username": "prometheus", "password": "s3cret-✓"}}
    app = create_app(with_metrics(page, settings), sqlite_store, clock)
    client = app.test_client()
    for auth in (None, ("prometheus", "wrong"), ("other", "s3cret-✓"), ("", "")):
        answer = client.get("/metrics", auth=auth)
        assert answer.status_code == 401, auth
        assert answer.headers["WWW-Authenticate"] == (
            'Basic realm="statuspage metrics", charset="UTF-8"'
        )
        assert "statuspage_" not in answer.get_data(as_text=True)
    bearer = client.get("/metrics", headers={"Authorization": "Bearer s3cret-✓"})
    assert bearer.status_code == 401
    assert "statuspage_component_status" in scrape(app, auth=("prometheus", "s3cret-✓"))


def test_the_allow_list_refuses_other_addresses(
    page: Config, sqlite_store: Store, clock: FakeClock
) -> None:
    settings = MetricsSettings.model_validate({"allow": ["10.0.0.0/8", "::1"]})
    client = create_app(with_metrics(page, settings), sqlite_store, clock).test_client()

    def status_from(address: str) -> int:
        return client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code

    assert status_from("10.0.0.0") == 200
    assert status_from("10.255.255.255") == 200
    assert status_from("::ffff:10.1.2.3") == 200  # IPv4 through a dual-stack socket
    assert status_from("::1") == 200
    assert status_from("11.0.0.0") == 403
    assert status_from("127.0.0.1") == 403
    assert status_from("not an address") == 403
    answer = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert answer.get_data(as_text=True) == "metrics are not served to this address\n"


def test_an_address_outside_the_list_is_refused_even_with_the_password(
    page: Config, sqlite_store: Store, clock: FakeClock
) -> None:
    settings = {"allow": ["192.0.2.0/24"], "basic_auth": {"username": "u", "password": "p"}}
    client = create_app(with_metrics(page, settings), sqlite_store, clock).test_client()
    inside = {"REMOTE_ADDR": "192.0.2.10"}
    outside = {"REMOTE_ADDR": "198.51.100.1"}
    assert client.get("/metrics", environ_base=outside, auth=("u", "p")).status_code == 403
    assert client.get("/metrics", environ_base=inside).status_code == 401
    assert client.get("/metrics", environ_base=inside, auth=("u", "p")).status_code == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"allow": ["10.1.2.3/8"]},  # host bits set: a typo, most likely
        {"allow": ["everyone"]},
        {"basic_auth": {"username": "u"}},
        {"basic_auth": {"username": "", "password": "p"}},
        {"allowed": ["10.0.0.0/8"]},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MetricsSettings.model_validate(settings)


def test_the_password_is_not_shown_in_the_settings() -> None:
    settings = MetricsSettings.model_validate({"basic_auth": {"username": "u", "password": "p4ss"}})
    assert "p4ss" not in repr(settings)


# --- Prometheus's own linter --------------------------------------------------


def test_promtool_accepts_the_exposition(
    page: Config, sqlite_store: Store, clock: FakeClock
) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`)")
    app = create_app(page, sqlite_store, clock)
    scheduler_metrics = SchedulerMetrics(["api/health"])
    scheduler_metrics.observe_run("api/health", CheckResult(clock(), OK, "200 OK"), 0.02)
    scheduler_metrics.observe_lag(0.3)
    metrics_registry(app).register(scheduler_metrics)
    Monitor(page, sqlite_store, clock).beat()
    text = scrape(app)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
