"""The demo's simulated services, their control server, the config the demo
writes, and (integration) a real Prometheus scraping them.

The services run on loopback for real: a mode is only worth testing as
what a client sees (a 503, a refused connection, a slow answer).
"""

from __future__ import annotations

import math
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from statuspage.checks import CheckContext, run_check
from statuspage.checks.http import HttpCheck
from statuspage.checks.prometheus import PrometheusCheck
from statuspage.checks.workflow import WorkflowCheck
from statuspage.clock import utc_now
from statuspage.config import load_config
from statuspage.demo import (
    SERVICE_NAMES,
    Mode,
    PrometheusStartError,
    SimulatedService,
    SimulatedServices,
    start_prometheus,
    write_demo_config,
)
from statuspage.demo.metrics import LATENCY_BUCKETS_S
from statuspage.demo.prometheus import prometheus_config
from statuspage.domain import ComponentStatus

T = TypeVar("T")

SLOW_SECONDS = 0.3
CANARY = {"user": "canary", "password": "s3cret-canary"}
P95_API = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{service="api"}[30s])))'
)


def wait_for(probe: Callable[[], T | None], what: str, timeout_s: float = 5.0) -> T:
    """Poll `probe` until it returns something truthy, within a deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def services() -> Iterator[SimulatedServices]:
    with SimulatedServices(
        slow_seconds=SLOW_SECONDS,
        traffic_interval_s=0.05,
        canary_user=CANARY["user"],
        canary_password=CANARY["password"],
    ) as running:
        yield running


@pytest.fixture
def sim(services: SimulatedServices) -> Iterator[SimulatedServices]:
    """The shared services, every one healthy before and after the test."""
    services.reset()
    yield services
    services.reset()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy from the environment must not sit in front of loopback.
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        yield client


def scrape(
    http: httpx.Client, base_url: str
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = http.get(f"{base_url}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def sample(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def free_port_block(size: int = 6) -> int:
    """A base port with `size` free ports after it (checked, then released)."""
    for _ in range(20):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    pytest.fail("no block of free ports found")


def refused(http: httpx.Client, url: str) -> bool:
    try:
        http.get(url)
    except httpx.ConnectError:
        return True
    return False


# --- the services ------------------------------------------------------------


def test_every_service_answers_its_health_endpoint(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    ports = set()
    for name in SERVICE_NAMES:
        assert sim.url(name).startswith("http://127.0.0.1:")
        response = http.get(f"{sim.url(name)}/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        ports.add(sim.service(name).port)
    assert len(ports) == len(SERVICE_NAMES)


def test_metrics_have_the_histogram_and_counter_of_that_service(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    http.get(f"{sim.url('api')}/healthz")
    samples = scrape(http, sim.url("api"))
    buckets = {
        dict(labels)["le"]
        for name, labels in samples
        if name == "http_request_duration_seconds_bucket"
    }
    assert buckets == {str(b) for b in LATENCY_BUCKETS_S} | {"+Inf"}
    services = {dict(labels).get("service") for _, labels in samples}
    assert services == {"api"}
    assert sample(samples, "http_requests_total", service="api", code="200") >= 1


def test_synthetic_traffic_keeps_the_metrics_moving(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    def count() -> float:
        return sample(
            scrape(http, sim.url("projects")),
            "http_request_duration_seconds_count",
            service="projects",
        )

    before = count()
    wait_for(lambda: count() >= before + 3, "synthetic requests to be observed")


def test_metrics_live_in_per_service_registries() -> None:
    # Two services of the same name in one process: no duplicate-metric error.
    first, second = SimulatedService("twin"), SimulatedService("twin")
    first.metrics.observe(0.1, 200)
    assert b'service="twin"' in first.metrics.exposition()
    assert b'service="twin"' not in second.metrics.exposition()
    assert (
        REGISTRY.get_sample_value("http_request_duration_seconds_count", {"service": "twin"})
        is None
    )
    assert SimulatedService("x").slow_seconds == 3.0  # the documented default


def test_slow_mode_delays_answers_and_shows_in_the_histogram(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    def totals() -> tuple[float, float]:
        samples = scrape(http, sim.url("api"))
        return (
            sample(samples, "http_request_duration_seconds_sum", service="api"),
            sample(samples, "http_request_duration_seconds_count", service="api"),
        )

    sim.set_mode("api", "slow")
    sum_before, count_before = totals()
    started = time.monotonic()
    response = http.get(f"{sim.url('api')}/healthz")
    assert time.monotonic() - started >= SLOW_SECONDS
    assert (response.status_code, response.json()) == (200, {"status": "ok"})

    def five_more() -> tuple[float, float] | None:
        now = totals()
        return now if now[1] >= count_before + 5 else None

    sum_after, count_after = wait_for(five_more, "slow requests to be observed")
    # Healthy requests average ~0.03 s; one that raced the switch may be among them.
    assert (sum_after - sum_before) / (count_after - count_before) >= SLOW_SECONDS * 0.5


def test_slow_seconds_can_change_with_the_mode(sim: SimulatedServices) -> None:
    sim.set_mode("api", Mode.SLOW, slow_seconds=0.5)
    assert sim.service("api").state()["slow_seconds"] == 0.5
    sim.reset()
    assert (sim.mode("api"), sim.service("api").slow_seconds) == (Mode.HEALTHY, SLOW_SECONDS)


def test_down_mode_answers_503_and_counts_the_errors(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    sim.set_mode("providers", "down")
    response = http.get(f"{sim.url('providers')}/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "error"})
    wait_for(
        lambda: sample(
            scrape(http, sim.url("providers")),
            "http_requests_total",
            service="providers",
            code="503",
        ),
        "503s in http_requests_total",
    )


def test_dead_mode_refuses_connections_then_mends_on_the_same_port(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    port = sim.service("projects").port
    sim.set_mode("projects", "dead")
    assert refused(http, f"{sim.url('projects')}/healthz")
    assert refused(http, f"{sim.url('projects')}/metrics")
    sim.set_mode("projects", "healthy")
    assert sim.service("projects").port == port
    assert http.get(f"{sim.url('projects')}/healthz").json() == {"status": "ok"}


def test_mending_on_a_taken_port_raises_and_stays_dead(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    service = sim.service("notifications")
    sim.set_mode("notifications", "dead")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", service.port))
        squatter.listen()
        with pytest.raises(OSError):
            sim.set_mode("notifications", "healthy")
        assert sim.mode("notifications") is Mode.DEAD
    sim.set_mode("notifications", "healthy")
    assert http.get(f"{sim.url('notifications')}/healthz").status_code == 200


def test_metrics_dead_mode_fails_scrapes_at_once_but_keeps_health(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    sim.set_mode("payments", "metrics_dead")
    started = time.monotonic()
    response = http.get(f"{sim.url('payments')}/metrics", timeout=2.0)
    assert response.status_code == 503
    assert time.monotonic() - started < 1.0
    assert http.get(f"{sim.url('payments')}/healthz").json() == {"status": "ok"}


def test_each_service_has_its_own_sim_endpoints(sim: SimulatedServices, http: httpx.Client) -> None:
    base = sim.url("api")
    assert http.get(f"{base}/_sim").json()["mode"] == "healthy"
    response = http.post(f"{base}/_sim/mode", json={"mode": "down"})
    assert (response.status_code, response.json()["mode"]) == (200, "down")
    assert http.get(f"{base}/healthz").status_code == 503
    bad = http.post(f"{base}/_sim/mode", json={"mode": "on fire"})
    assert bad.status_code == 400
    assert "known: healthy, slow, down, dead, metrics_dead" in bad.json()["error"]
    assert http.post(f"{base}/_sim/mode", content=b"not json").status_code == 400
    assert http.get(f"{base}/_sim/mode").status_code == 405


# --- the control server --------------------------------------------------------


def test_control_server_lists_every_service_and_mode(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    sim.set_mode("api", "slow")
    overview = http.get(f"{sim.control_url}/").json()
    assert list(overview["services"]) == list(SERVICE_NAMES)
    assert overview["services"]["api"] == {
        "service": "api",
        "url": sim.url("api"),
        "mode": "slow",
        "slow_seconds": SLOW_SECONDS,
    }
    assert overview["services"]["payments"]["subscriptions_expired"] is False
    assert overview["modes"] == ["healthy", "slow", "down", "dead", "metrics_dead"]


def test_control_server_kills_and_mends_a_service(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    mode_url = f"{sim.control_url}/notifications/mode"
    assert http.post(mode_url, json={"mode": "dead"}).json()["mode"] == "dead"
    assert refused(http, f"{sim.url('notifications')}/healthz")
    # As curl -d sends it: JSON under a form content type.
    mended = http.post(
        mode_url,
        content=b'{"mode": "healthy"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert mended.status_code == 200
    assert http.get(f"{sim.url('notifications')}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_part"),
    [
        ("POST", "/nope/mode", {"mode": "down"}, 404, "known: api, payments"),
        ("POST", "/api/mode", {"mode": "sideways"}, 400, "unknown mode 'sideways'"),
        ("POST", "/api/mode", {}, 400, '{"mode": "<mode>"}'),
        ("POST", "/api/mode", {"mode": "slow", "speed": 1}, 400, "unknown keys: speed"),
        ("POST", "/api/mode", {"mode": "slow", "slow_seconds": -1}, 400, "between 0 and 600"),
        ("POST", "/api/flags", {"subscriptions_expired": True}, 400, "only payments"),
        ("POST", "/payments/flags", {"subscriptions_expired": "yes"}, 400, "true or false"),
        ("POST", "/api/reboot", {}, 404, "use mode or flags"),
        ("GET", "/api/mode", None, 405, "use POST"),
        ("POST", "/", {}, 405, "use GET"),
    ],
)
def test_control_server_says_why_it_refuses(
    sim: SimulatedServices,
    http: httpx.Client,
    method: str,
    path: str,
    body: object,
    status: int,
    error_part: str,
) -> None:
    response = http.request(method, f"{sim.control_url}{path}", json=body)
    assert response.status_code == status
    assert error_part in response.json()["error"]
    assert sim.mode("api") is Mode.HEALTHY


# --- the payments workflow API ------------------------------------------------------


def log_in(http: httpx.Client, sim: SimulatedServices, **credentials: str) -> httpx.Response:
    return http.post(f"{sim.url('payments')}/login", json=credentials)


def subscription(http: httpx.Client, sim: SimulatedServices, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"{sim.url('payments')}/subscriptions/canary", headers=headers)


def test_canary_logs_in_and_sees_an_active_subscription(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    response = log_in(http, sim, **CANARY)
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) >= 20
    answer = subscription(http, sim, token)
    assert (answer.status_code, answer.json()) == (200, {"status": "active"})


def test_bad_credentials_and_tokens_are_refused(sim: SimulatedServices, http: httpx.Client) -> None:
    assert log_in(http, sim, user="canary", password="wrong").status_code == 401
    assert log_in(http, sim).status_code == 401
    assert http.post(f"{sim.url('payments')}/login", content=b"{").status_code == 400
    assert subscription(http, sim, None).status_code == 401
    assert subscription(http, sim, "made-up-token").status_code == 401


def test_expired_subscriptions_leave_health_green(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    token = log_in(http, sim, **CANARY).json()["token"]
    sim.set_subscriptions_expired(True)
    assert subscription(http, sim, token).json() == {"status": "expired"}
    assert http.get(f"{sim.url('payments')}/healthz").json() == {"status": "ok"}
    flags = http.post(f"{sim.control_url}/payments/flags", json={"subscriptions_expired": False})
    assert flags.json()["subscriptions_expired"] is False
    assert subscription(http, sim, token).json() == {"status": "active"}


def test_workflow_api_is_only_on_payments_and_follows_its_mode(
    sim: SimulatedServices, http: httpx.Client
) -> None:
    assert http.post(f"{sim.url('api')}/login", json=CANARY).status_code == 404
    sim.set_mode("payments", "down")
    assert log_in(http, sim, **CANARY).status_code == 503


# --- life cycle ------------------------------------------------------------------


def test_base_port_gives_consecutive_ports_and_stop_frees_them(http: httpx.Client) -> None:
    base = free_port_block()
    with SimulatedServices(base_port=base) as services:
        assert [services.service(n).port for n in SERVICE_NAMES] == list(range(base, base + 5))
        assert services.control_url == f"http://127.0.0.1:{base + 5}"
        assert http.get(f"{services.url('api')}/healthz").status_code == 200
    services.stop()  # a second stop is harmless
    assert refused(http, f"http://127.0.0.1:{base}/healthz")
    assert refused(http, f"http://127.0.0.1:{base + 5}/")


def test_a_taken_port_raises_and_leaves_nothing_running(http: httpx.Client) -> None:
    base = free_port_block()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 2))
        squatter.listen()
        with pytest.raises(OSError):
            SimulatedServices(base_port=base).start()
    assert refused(http, f"http://127.0.0.1:{base}/healthz")
    assert refused(http, f"http://127.0.0.1:{base + 1}/healthz")


def test_unknown_names_and_modes_are_errors(sim: SimulatedServices) -> None:
    with pytest.raises(KeyError, match="known: api, payments"):
        sim.url("billing")
    with pytest.raises(ValueError, match="unknown mode 'broken'"):
        sim.set_mode("api", "broken")


# --- the demo config -----------------------------------------------------------------


def test_demo_config_validates_and_says_what_it_is(tmp_path: Path) -> None:
    urls = {name: f"http://127.0.0.1:{9100 + i}" for i, name in enumerate(SERVICE_NAMES)}
    path = write_demo_config(tmp_path, urls, "http://127.0.0.1:9090", 8088)
    assert path == tmp_path / "statuspage.yaml"
    assert "generated by `statuspage demo`" in path.read_text().splitlines()[0]
    config = load_config(path)
    assert [(c.id, c.name) for c in config.components] == [
        ("api", "API"),
        ("payments", "Payments"),
        ("projects", "Projects"),
        ("providers", "Providers"),
        ("notifications", "Notifications"),
    ]
    assert config.prometheus is not None and config.prometheus.url == "http://127.0.0.1:9090"
    assert (config.server.port, config.site.url) == (8088, "http://127.0.0.1:8088")
    defaults = config.defaults
    assert (defaults.interval.total_seconds(), defaults.timeout.total_seconds()) == (5, 2)
    assert (defaults.confirm_down, defaults.confirm_up, defaults.stale_after) == (2, 2, 3)
    api = config.component("api")
    assert api is not None
    health, p95 = api.checks
    assert isinstance(health, HttpCheck) and health.url == "http://127.0.0.1:9100/healthz"
    assert health.expect.status == 200 and health.expect.json_paths == {"$.status": "ok"}
    assert health.latency is not None
    assert health.latency.degraded == timedelta(seconds=1)
    assert health.latency.outage == timedelta(milliseconds=1800)
    assert isinstance(p95, PrometheusCheck) and p95.query == P95_API
    assert (p95.degraded_above, p95.outage_above) == (1, 10)
    payments = config.component("payments")
    assert payments is not None
    payments_health, canary, payments_p95 = payments.checks
    assert isinstance(payments_health, HttpCheck) and payments_health.latency is None
    assert isinstance(canary, WorkflowCheck)
    assert [step.url.text for step in canary.steps] == [
        "http://127.0.0.1:9101/login",
        "http://127.0.0.1:9101/subscriptions/canary",
    ]
    assert isinstance(payments_p95, PrometheusCheck)
    assert payments_p95.query == P95_API.replace('"api"', '"payments"')
    projects = config.component("projects")
    assert projects is not None
    assert [type(c) for c in projects.checks] == [HttpCheck]


def test_demo_config_without_prometheus_has_http_checks_only(tmp_path: Path) -> None:
    urls = {name: f"http://127.0.0.1:{9100 + i}/" for i, name in enumerate(SERVICE_NAMES)}
    config = load_config(write_demo_config(tmp_path / "new", urls, None, 8080))
    assert config.prometheus is None
    assert {type(check) for _, check, _ in config.checks()} == {HttpCheck, WorkflowCheck}
    urls_checked = [check.url for _, check, _ in config.checks() if isinstance(check, HttpCheck)]
    assert urls_checked[-1] == "http://127.0.0.1:9104/healthz"


def test_demo_config_refuses_unknown_components(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not demo components: billing"):
        write_demo_config(tmp_path, {"billing": "http://127.0.0.1:1"}, None, 8080)


def test_demo_config_checks_pass_and_fail_against_the_services(
    sim: SimulatedServices, tmp_path: Path
) -> None:
    path = write_demo_config(tmp_path, sim.urls(), None, 8080, control_url=sim.control_url)
    assert f"curl -X POST {sim.control_url}/api/mode" in path.read_text()
    # The demo config takes the canary password from the environment.
    config = load_config(path, env={"DEMO_CANARY_PASSWORD": CANARY["password"]})
    context = CheckContext(now=utc_now)
    statuses = {
        check_id: run_check(check, context).status for _, check, check_id in config.checks()
    }
    assert set(statuses.values()) == {ComponentStatus.OPERATIONAL}
    sim.set_mode("api", "down")
    sim.set_mode("projects", "dead")
    results = {check_id: run_check(check, context) for _, check, check_id in config.checks()}
    assert results["api/health"].reason == "status (503) == 200"
    assert results["projects/health"].reason == "connection refused"
    assert results["payments/health"].status is ComponentStatus.OPERATIONAL
    sim.set_subscriptions_expired(True)
    canary = run_check(config.component("payments").checks[1], context)  # type: ignore[union-attr]
    assert canary.reason == 'step 2 "read subscription": json $.status ("expired") == "active"'


# --- Prometheus ------------------------------------------------------------------------


def test_prometheus_config_labels_every_target() -> None:
    config = yaml.safe_load(prometheus_config({"api": "127.0.0.1:1", "payments": "127.0.0.1:2"}))
    assert config["global"]["scrape_interval"] == "2s"
    (job,) = config["scrape_configs"]
    assert (job["job_name"], job["honor_labels"]) == ("services", True)
    assert job["static_configs"] == [
        {"targets": ["127.0.0.1:1"], "labels": {"service": "api"}},
        {"targets": ["127.0.0.1:2"], "labels": {"service": "payments"}},
    ]


def test_no_prometheus_binary_means_no_prometheus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert start_prometheus(tmp_path, {"api": "127.0.0.1:1"}) is None


def test_a_prometheus_that_exits_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    false = shutil.which("false")
    if false is None:
        pytest.skip("no `false` binary to stand in for a broken Prometheus")
    monkeypatch.setattr(shutil, "which", lambda name: false)
    with pytest.raises(PrometheusStartError, match="exited with code 1"):
        start_prometheus(tmp_path, {"api": "127.0.0.1:1"}, ready_timeout_s=5)


def query(http: httpx.Client, prometheus_url: str, promql: str) -> list[float]:
    response = http.get(f"{prometheus_url}/api/v1/query", params={"query": promql})
    return [float(series["value"][1]) for series in response.json()["data"]["result"]]


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus binary on PATH")
def test_prometheus_scrapes_the_services(
    sim: SimulatedServices, http: httpx.Client, tmp_path: Path
) -> None:
    prometheus = start_prometheus(tmp_path, sim.targets())
    assert prometheus is not None
    with prometheus:
        assert http.get(f"{prometheus.url}/-/ready").status_code == 200
        # Prometheus hands new targets to its scrapers after about 5 s.
        wait_for(lambda: query(http, prometheus.url, 'up{service="api"}') == [1.0], "api up", 30)
        p95 = wait_for(
            lambda: [v for v in query(http, prometheus.url, P95_API) if math.isfinite(v)],
            "a finite p95 for api",
            15,
        )
        assert p95[0] < 0.5
        sim.set_mode("payments", "metrics_dead")
        wait_for(
            lambda: query(http, prometheus.url, 'up{service="payments"}') == [0.0],
            "payments down",
            15,
        )
        assert query(http, prometheus.url, 'up{service="api"}') == [1.0]
    assert prometheus.process.poll() is not None
