"""`type: prometheus`: unit tests against a fake Prometheus on loopback that
answers crafted JSON, then integration tests against a real Prometheus 2.42
scraping a small exporter (see prometheus_server.py).

The rule throughout: no data, bad data or no answer is `unknown` with its
reason, never `operational` (REL-01..REL-04).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from statuspage.checks.base import CheckResult
from statuspage.checks.prometheus import (
    PrometheusCheck,
    describe_http_status,
    run_prometheus_check,
    vector_values,
)
from statuspage.domain import ComponentStatus
from tests.loopback import Reply, ScriptedServer, Seen, closed_port_url, scripted_server
from tests.loopback import silent_listener as silent_listener_url
from tests.prometheus_server import PrometheusServer

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
EVAL_AT = 1789448400.0  # the evaluation time the fake Prometheus reports

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN

RATE = 'sum(rate(http_requests_total{job="api"}[5m]))'
RATE_LIVENESS = 'max(timestamp(http_requests_total{job="api"}))'


def prom_check(query: str = RATE, /, **fields: Any) -> PrometheusCheck:
    data: dict[str, Any] = {"type": "prometheus", "name": "API", "query": query}
    data |= {"timeout": "2s", "interval": "30s"} | fields
    return PrometheusCheck.model_validate(data)


def show(value: float) -> str:
    """A sample value as Prometheus writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def success(result_type: str, result: Any, warnings: list[str] | None = None) -> Reply:
    payload: dict[str, Any] = {
        "status": "success",
        "data": {"resultType": result_type, "result": result},
    }
    if warnings:
        payload["warnings"] = warnings
    return Reply(200, json.dumps(payload), content_type="application/json")


def vector(*values: float, at: float = EVAL_AT, warnings: list[str] | None = None) -> Reply:
    series = [
        {"metric": {"instance": f"api-{i}:9100"}, "value": [at, show(v)]}
        for i, v in enumerate(values)
    ]
    return success("vector", series, warnings)


def scalar(value: float, at: float = EVAL_AT) -> Reply:
    return success("scalar", [at, show(value)])


def api_error(status: int, error_type: str, message: str) -> Reply:
    body = json.dumps({"status": "error", "errorType": error_type, "error": message})
    return Reply(status, body, content_type="application/json")


class FakePrometheus:
    """Answers /api/v1/query from a table of exact queries. A liveness query
    (`max(timestamp(...))`) not in the table gets a sample 5 s old: fresh."""

    def __init__(self, server: ScriptedServer, prefix: str = "") -> None:
        self.server = server
        self.url = server.url + prefix
        self.answers: dict[str, Reply] = {}
        self.queries: list[str] = []
        self.seen: list[Seen] = []
        server.route(prefix + "/api/v1/query", self._answer)

    def answer(self, query: str, reply: Reply) -> None:
        self.answers[query] = reply

    def _answer(self, seen: Seen) -> Reply:
        query = seen.query["query"][0]
        self.queries.append(query)
        self.seen.append(seen)
        if query in self.answers:
            return self.answers[query]
        if query.startswith("max(timestamp("):
            return vector(EVAL_AT - 5)
        return api_error(400, "bad_data", f"the fake has no answer for {query}")


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    with scripted_server() as server:
        yield FakePrometheus(server)


def run(spec: PrometheusCheck, url: str, headers: dict[str, str] | None = None) -> CheckResult:
    return run_prometheus_check(spec, url, now=lambda: FIXED, headers=headers)


def outcome(result: CheckResult) -> tuple[ComponentStatus, str]:
    return result.status, result.reason


# --- a value, and live data behind it --------------------------------------------


def test_healthy_value_is_operational(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(12.5))
    result = run(prom_check(degraded_above=50), prometheus.url)
    assert outcome(result) == (OPERATIONAL, "value 12.5")
    assert result.value == 12.5
    assert result.at == FIXED
    # The liveness question is asked of the query's own selector.
    assert prometheus.queries == [RATE, RATE_LIVENESS]


def test_scalar_result(prometheus: FakePrometheus) -> None:
    query = 'scalar(sum(up{job="api"}))'
    prometheus.answer(query, scalar(3))
    result = run(prom_check(query, outage_below=1), prometheus.url)
    assert outcome(result) == (OPERATIONAL, "value 3")
    assert prometheus.queries == [query, 'max(timestamp(up{job="api"}))']


@pytest.mark.parametrize(
    ("thresholds", "value", "expected"),
    [
        ({"degraded_above": 0.25, "outage_above": 1}, 0.25, (OPERATIONAL, "value 0.25")),
        ({"degraded_above": 0.25, "outage_above": 1}, 0.3, (DEGRADED, "value (0.3) <= 0.25")),
        ({"degraded_above": 0.25, "outage_above": 1}, 1, (DEGRADED, "value (1) <= 0.25")),
        ({"degraded_above": 0.25, "outage_above": 1}, 2, (MAJOR, "value (2) <= 1")),
        ({"outage_above": 0.05}, 0.0501, (MAJOR, "value (0.0501) <= 0.05")),
        ({"degraded_below": 0.999, "outage_below": 0.99}, 0.999, (OPERATIONAL, "value 0.999")),
        (
            {"degraded_below": 0.999, "outage_below": 0.99},
            0.995,
            (DEGRADED, "value (0.995) >= 0.999"),
        ),
        ({"degraded_below": 0.999, "outage_below": 0.99}, 0.5, (MAJOR, "value (0.5) >= 0.99")),
        ({}, -3, (OPERATIONAL, "value -3")),
        ({"degraded_above": 1e6}, 2.5e6, (DEGRADED, "value (2.5e+06) <= 1e+06")),
    ],
)
def test_thresholds(
    prometheus: FakePrometheus, thresholds: dict[str, float], value: float, expected: Any
) -> None:
    prometheus.answer(RATE, vector(value))
    result = run(prom_check(**thresholds), prometheus.url)
    assert outcome(result) == expected
    assert result.value == value


def test_failure_status_caps_an_outage(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(5))
    spec = prom_check(degraded_above=1, outage_above=2, failure_status="partial_outage")
    assert outcome(run(spec, prometheus.url)) == (PARTIAL, "value (5) <= 2")
    prometheus.answer(RATE, vector(1.5))
    assert outcome(run(spec, prometheus.url)) == (DEGRADED, "value (1.5) <= 1")


@pytest.mark.parametrize(
    ("thresholds", "values", "expected"),
    [
        # Upper bounds: the highest series counts.
        ({"degraded_above": 1}, (0.2, 3.0, 0.5), (DEGRADED, "value (3) <= 1")),
        # Lower bounds: the lowest.
        ({"outage_below": 0.9}, (0.99, 0.5, 1.0), (MAJOR, "value (0.5) >= 0.9")),
        # Both: the series in the worst state, here the one that fell silent.
        ({"degraded_above": 1000, "outage_below": 1}, (500.0, 0.0), (MAJOR, "value (0) >= 1")),
        (
            {"degraded_above": 1000, "outage_below": 1},
            (1500.0, 5.0),
            (DEGRADED, "value (1500) <= 1000"),
        ),
        # A series with no traffic (NaN) is left out; the others still count.
        ({"degraded_above": 1}, (math.nan, 2.0), (DEGRADED, "value (2) <= 1")),
    ],
)
def test_several_series_the_worst_counts(
    prometheus: FakePrometheus,
    thresholds: dict[str, float],
    values: tuple[float, ...],
    expected: Any,
) -> None:
    prometheus.answer(RATE, vector(*values))
    assert outcome(run(prom_check(**thresholds), prometheus.url)) == expected


# --- REL-01 / REL-04: no data is not health ------------------------------------------


def test_empty_vector_is_unknown(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector())
    result = run(prom_check(degraded_above=1), prometheus.url)
    assert outcome(result) == (UNKNOWN, "Prometheus: query returned no data")
    assert result.value is None
    assert not result.has_data
    assert prometheus.queries == [RATE]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ((math.nan,), "NaN"),
        ((math.inf,), "+Inf"),
        ((-math.inf,), "-Inf"),
        ((math.nan, math.inf), "NaN"),
    ],
)
def test_nan_and_infinities_are_unknown(
    prometheus: FakePrometheus, values: tuple[float, ...], shown: str
) -> None:
    prometheus.answer(RATE, vector(*values))
    result = run(prom_check(degraded_above=1), prometheus.url)
    assert outcome(result) == (UNKNOWN, f"Prometheus: query returned {shown} (no data)")
    assert result.value is None


def test_scalar_nan_is_unknown(prometheus: FakePrometheus) -> None:
    prometheus.answer("scalar(x)", scalar(math.nan))
    result = run(prom_check("scalar(x)"), prometheus.url)
    assert outcome(result) == (UNKNOWN, "Prometheus: query returned NaN (no data)")


def test_stale_sample_is_unknown_even_with_a_healthy_value(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(12.5))
    prometheus.answer(RATE_LIVENESS, vector(EVAL_AT - 300))
    result = run(prom_check(degraded_above=50), prometheus.url)
    assert outcome(result) == (
        UNKNOWN,
        'Prometheus: newest sample of http_requests_total{job="api"} is 300s old',
    )


def test_sample_age_is_judged_against_max_age(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(12.5))
    prometheus.answer(RATE_LIVENESS, vector(EVAL_AT - 120))
    at_the_limit = run(prom_check(liveness={"max_age": "2m"}), prometheus.url)
    assert outcome(at_the_limit) == (OPERATIONAL, "value 12.5")
    prometheus.answer(RATE_LIVENESS, vector(EVAL_AT - 120.5))
    past_it = run(prom_check(liveness={"max_age": "2m"}), prometheus.url)
    assert outcome(past_it) == (
        UNKNOWN,
        'Prometheus: newest sample of http_requests_total{job="api"} is 120.5s old',
    )


def test_no_live_samples_is_unknown(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(12.5))
    prometheus.answer(RATE_LIVENESS, vector())
    result = run(prom_check(), prometheus.url)
    assert outcome(result) == (
        UNKNOWN,
        'Prometheus: no live samples for http_requests_total{job="api"}',
    )


def test_every_selector_of_the_query_must_be_live(prometheus: FakePrometheus) -> None:
    query = 'sum(rate(errors_total{job="api"}[5m])) / sum(rate(requests_total{job="api"}[5m]))'
    prometheus.answer(query, vector(0.01))
    prometheus.answer('max(timestamp(requests_total{job="api"}))', vector())
    result = run(prom_check(query, degraded_above=0.05), prometheus.url)
    assert outcome(result) == (UNKNOWN, 'Prometheus: no live samples for requests_total{job="api"}')
    assert prometheus.queries == [
        query,
        'max(timestamp(errors_total{job="api"}))',
        'max(timestamp(requests_total{job="api"}))',
    ]


def test_liveness_selectors_from_the_config(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(1))
    prometheus.answer('max(timestamp(node_load1{job="api"}))', vector())
    spec = prom_check(liveness={"selectors": [' node_load1{job="api"} ']})
    assert outcome(run(spec, prometheus.url)) == (
        UNKNOWN,
        'Prometheus: no live samples for node_load1{job="api"}',
    )
    assert prometheus.queries[1:] == ['max(timestamp(node_load1{job="api"}))']


def test_liveness_can_be_turned_off(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(1))
    assert outcome(run(prom_check(liveness={"selectors": []}), prometheus.url)) == (
        OPERATIONAL,
        "value 1",
    )
    assert prometheus.queries == [RATE]


# --- REL-03: warnings mean partial data --------------------------------------------


def test_warnings_with_a_healthy_value_are_not_operational(prometheus: FakePrometheus) -> None:
    warning = "PromQL info: store eu-1 unavailable, results may be partial"
    prometheus.answer(RATE, vector(1, warnings=[warning]))
    result = run(prom_check(degraded_above=5), prometheus.url)
    assert outcome(result) == (UNKNOWN, f"Prometheus: partial data: {warning}")


def test_warnings_with_a_failing_value_keep_the_failure(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(9, warnings=["store eu-1 unavailable"]))
    result = run(prom_check(degraded_above=5, outage_above=8), prometheus.url)
    assert outcome(result) == (MAJOR, "value (9) <= 8 (partial data)")


def test_warnings_on_a_liveness_query_count_too(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(1))
    prometheus.answer(RATE_LIVENESS, vector(EVAL_AT, warnings=["w1", "w2"]))
    result = run(prom_check(), prometheus.url)
    assert outcome(result) == (UNKNOWN, "Prometheus: partial data: w1; w2")


# --- REL-02: Prometheus fails ----------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            api_error(422, "execution", "query processing would load too many samples into memory"),
            "Prometheus: HTTP 422 (query error: query processing would load too many samples"
            " into memory)",
        ),
        (
            api_error(
                400, "bad_data", 'invalid parameter "query": 1:5: parse error: unexpected "}"'
            ),
            'Prometheus: HTTP 400 (bad query: invalid parameter "query": 1:5: parse error:'
            ' unexpected "}")',
        ),
        (Reply(503, "Service Unavailable"), "Prometheus: HTTP 503 (unavailable)"),
        (
            api_error(503, "unavailable", "too many concurrent queries"),
            "Prometheus: HTTP 503 (unavailable: too many concurrent queries)",
        ),
        (
            Reply(502, "<html>Bad Gateway</html>", content_type="text/html"),
            "Prometheus: HTTP 502 (bad gateway)",
        ),
        (Reply(401, "Unauthorized"), "Prometheus: HTTP 401 (unauthorized)"),
        (Reply(418, "teapot"), "Prometheus: HTTP 418"),
        (
            Reply(
                200,
                "<!doctype html><title>Sign in</title>",
                content_type="text/html; charset=utf-8",
            ),
            "Prometheus: answered with text/html, not JSON",
        ),
        (
            Reply(200, '{"login": "required"}', content_type="application/json"),
            "Prometheus: answered JSON without data.result",
        ),
        (
            Reply(200, '{"status": "success", "data": null}', content_type="application/json"),
            "Prometheus: answered JSON without data.result",
        ),
        (
            success("matrix", [{"metric": {}, "values": [[EVAL_AT, "1"]]}]),
            "Prometheus: query must return an instant vector (it returned a range)",
        ),
        (
            success("string", [EVAL_AT, "hello"]),
            "Prometheus: returned a value that is not a number: 'hello'",
        ),
    ],
)
def test_failures_are_unknown_with_a_specific_reason(
    prometheus: FakePrometheus, reply: Reply, reason: str
) -> None:
    prometheus.answer(RATE, reply)
    result = run(prom_check(degraded_above=1), prometheus.url)
    assert outcome(result) == (UNKNOWN, reason)
    assert result.at == FIXED
    assert len(prometheus.queries) == 1  # no retries, no liveness query


def test_auth_proxy_redirect_to_a_login_page(prometheus: FakePrometheus) -> None:
    prometheus.server.route("/login", body="<html>Sign in</html>", content_type="text/html")
    prometheus.answer(RATE, Reply(302, headers={"Location": "/login"}))
    result = run(prom_check(), prometheus.url)
    assert outcome(result) == (UNKNOWN, "Prometheus: answered with text/html, not JSON")


def test_a_failing_liveness_query_is_unknown(prometheus: FakePrometheus) -> None:
    prometheus.answer(RATE, vector(1))
    prometheus.answer(RATE_LIVENESS, Reply(503, "Service Unavailable"))
    assert outcome(run(prom_check(), prometheus.url)) == (
        UNKNOWN,
        "Prometheus: HTTP 503 (unavailable)",
    )


def test_connection_refused() -> None:
    result = run(prom_check(), closed_port_url().removesuffix("/health"))
    assert outcome(result) == (UNKNOWN, "Prometheus: unreachable (connection refused)")
    assert result.at == FIXED


def test_timeout_when_prometheus_never_answers() -> None:
    with silent_listener_url() as url:
        start = time.monotonic()
        result = run(prom_check(timeout="300ms"), url.removesuffix("/health"))
        elapsed = time.monotonic() - start
    assert outcome(result) == (UNKNOWN, "Prometheus: timed out after 300ms")
    assert 0.25 < elapsed < 1.5


def test_timeout_is_one_deadline_for_all_the_queries_of_a_run(prometheus: FakePrometheus) -> None:
    # Each answer alone is within the timeout; the query and its liveness check together are not.
    prometheus.answer(RATE, replace(vector(1), delay=0.25))
    prometheus.answer(RATE_LIVENESS, replace(vector(EVAL_AT), delay=0.25))
    start = time.monotonic()
    result = run(prom_check(timeout="400ms"), prometheus.url)
    elapsed = time.monotonic() - start
    assert outcome(result) == (UNKNOWN, "Prometheus: timed out after 400ms")
    assert elapsed < 0.8


def test_headers_and_a_path_prefix_are_used() -> None:
    with scripted_server() as server:
        prometheus = FakePrometheus(server, prefix="/prometheus")
        prometheus.answer(RATE, vector(2))
        headers = {"Authorization": "Bearer s3cret-token"}
        result = run(prom_check(), prometheus.url + "/", headers=headers)
    assert outcome(result) == (OPERATIONAL, "value 2")
    assert [s.headers["authorization"] for s in prometheus.seen] == ["Bearer s3cret-token"] * 2


# --- pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "detail", "text"),
    [
        (422, "boom", "HTTP 422 (query error: boom)"),
        (503, "", "HTTP 503 (unavailable)"),
        (599, "", "HTTP 599"),
        (599, "odd\nsecond line", "HTTP 599 (odd)"),
        (404, "x" * 200, "HTTP 404 (not found: " + "x" * 120 + ")"),
    ],
)
def test_describe_http_status(status: int, detail: str, text: str) -> None:
    assert describe_http_status(status, detail) == text


def test_vector_values() -> None:
    assert vector_values([]) == ([], None)
    assert vector_values([EVAL_AT, "2"]) == ([2.0], EVAL_AT)
    values, at = vector_values([{"metric": {}, "value": [EVAL_AT, "NaN"]}])
    assert math.isnan(values[0]) and at == EVAL_AT


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"degraded_above": 2, "outage_above": 1},
            "outage_above must be greater than degraded_above",
        ),
        (
            {"degraded_above": 1, "outage_above": 1},
            "outage_above must be greater than degraded_above",
        ),
        ({"degraded_below": 1, "outage_below": 2}, "outage_below must be less than degraded_below"),
        ({"query": ""}, "String should have at least 1 character"),
        (
            {"liveness": {"max_age": "soon"}},
            "'soon' is not a duration (use e.g. 30s, 5m, 1h30m, 250ms)",
        ),
        ({"thresholds": 1}, "Extra inputs are not permitted"),
        # timestamp() of an expression is the query time: it would always look live.
        (
            {"liveness": {"selectors": ['up{job="api"} == 1']}},
            """'up{job="api"} == 1' is not a plain series selector such as"""
            """ http_requests_total{job="api"}""",
        ),
        (
            {"liveness": {"selectors": ["rate(x[5m])"]}},
            """'rate(x[5m])' is not a plain series selector such as http_requests_total{job="api"}""",
        ),
    ],
)
def test_spec_mistakes_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        prom_check(**fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]


# --- a real Prometheus ------------------------------------------------------------------

P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{service="api"}[5m])))'
)
P95_SELECTOR = 'http_request_duration_seconds_bucket{service="api"}'


def poll(probe: Any, done: Any, deadline_s: float = 20.0, every_s: float = 0.5) -> Any:
    """Call `probe` until `done(result)` or the deadline; returns the last result."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = probe()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(every_s)


def real_run(server: PrometheusServer, spec: PrometheusCheck) -> CheckResult:
    return run_prometheus_check(spec, server.url, now=lambda: FIXED)


@pytest.mark.integration
def test_real_p95_is_operational_with_its_value(shared_prometheus: PrometheusServer) -> None:
    # Every observation is 40 ms: in the (0.025, 0.05] bucket, p95 interpolates to 0.04875.
    result = poll(
        lambda: real_run(shared_prometheus, prom_check(P95, degraded_above=0.25)),
        lambda r: r.status is OPERATIONAL,
    )
    assert outcome(result) == (OPERATIONAL, "value 0.04875")
    assert result.value == pytest.approx(0.04875)
    assert result.at == FIXED


@pytest.mark.integration
@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        ({"degraded_above": 0.04, "outage_above": 0.1}, (DEGRADED, "value (0.04875) <= 0.04")),
        ({"degraded_above": 0.01, "outage_above": 0.045}, (MAJOR, "value (0.04875) <= 0.045")),
        ({"outage_below": 0.1}, (MAJOR, "value (0.04875) >= 0.1")),
    ],
)
def test_real_thresholds(
    shared_prometheus: PrometheusServer, thresholds: dict[str, float], expected: Any
) -> None:
    result = poll(
        lambda: real_run(shared_prometheus, prom_check(P95, **thresholds)),
        lambda r: r.status is not UNKNOWN,
    )
    assert outcome(result) == expected


@pytest.mark.integration
def test_real_empty_result_and_query_error(shared_prometheus: PrometheusServer) -> None:
    empty = real_run(
        shared_prometheus, prom_check('http_request_duration_seconds_count{service="nope"}')
    )
    assert outcome(empty) == (UNKNOWN, "Prometheus: query returned no data")
    broken = real_run(shared_prometheus, prom_check('sum(rate(x{a="b"}[5m])'))
    assert broken.status is UNKNOWN
    assert broken.reason.startswith('Prometheus: HTTP 400 (bad query: invalid parameter "query": ')


@pytest.mark.integration
def test_real_exporter_going_dark_turns_unknown_while_the_rule_still_answers(
    prometheus_server: PrometheusServer,
) -> None:
    spec = prom_check(P95, degraded_above=0.25)
    healthy = poll(lambda: real_run(prometheus_server, spec), lambda r: r.status is OPERATIONAL)
    assert outcome(healthy) == (OPERATIONAL, "value 0.04875")

    prometheus_server.exporter.stop_answering()
    result = poll(lambda: real_run(prometheus_server, spec), lambda r: r.status is UNKNOWN)
    assert outcome(result) == (UNKNOWN, f"Prometheus: no live samples for {P95_SELECTOR}")

    # The rule alone still returns the last healthy value over its 5m window:
    # only the liveness part of the check caught the blindness.
    without_liveness = real_run(prometheus_server, prom_check(P95, liveness={"selectors": []}))
    assert outcome(without_liveness) == (OPERATIONAL, "value 0.04875")
    assert prometheus_server.query(f"max(timestamp({P95_SELECTOR}))") == []

    prometheus_server.exporter.start_answering()
    back = poll(lambda: real_run(prometheus_server, spec), lambda r: r.status is OPERATIONAL)
    assert outcome(back) == (OPERATIONAL, "value 0.04875")


@pytest.mark.integration
def test_real_latency_change_shows_up(shared_prometheus: PrometheusServer) -> None:
    # A service of this test's own, so the shared server's "api" stays healthy.
    shared_prometheus.exporter.set_latency(0.8, service="checkout")
    query = P95.replace('service="api"', 'service="checkout"')
    spec = prom_check(query, degraded_above=0.25, outage_above=0.5)
    result = poll(lambda: real_run(shared_prometheus, spec), lambda r: r.status is MAJOR)
    assert result.status is MAJOR
    # All observations in the (0.75, 1] bucket: p95 interpolates to 0.9875.
    assert outcome(result) == (MAJOR, "value (0.9875) <= 0.5")


@pytest.mark.integration
def test_real_prometheus_stopped_is_unreachable(prometheus_server: PrometheusServer) -> None:
    spec = prom_check(P95)
    assert poll(lambda: real_run(prometheus_server, spec), lambda r: r.ok).ok
    prometheus_server.stop()
    result = real_run(prometheus_server, spec)
    assert outcome(result) == (UNKNOWN, "Prometheus: unreachable (connection refused)")
    prometheus_server.start()
    assert poll(lambda: real_run(prometheus_server, spec), lambda r: r.ok).ok
