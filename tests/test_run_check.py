"""run_check: any check type through one door, which never raises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from statuspage import checks
from statuspage.checks import CheckContext, CheckResult, run_check
from statuspage.checks.http import HttpCheck
from statuspage.checks.prometheus import PrometheusCheck
from statuspage.domain import ComponentStatus
from tests.loopback import ScriptedServer, closed_port_url, scripted_server

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
UNKNOWN = ComponentStatus.UNKNOWN


def ctx(prometheus_url: str | None = None, **kwargs: Any) -> CheckContext:
    return CheckContext(now=lambda: FIXED, prometheus_url=prometheus_url, **kwargs)


def http_spec(url: str) -> HttpCheck:
    return HttpCheck.model_validate(
        {"type": "http", "name": "API", "url": url, "timeout": "2s", "interval": "30s"}
    )


def prom_spec(query: str = "up") -> PrometheusCheck:
    return PrometheusCheck.model_validate(
        {"type": "prometheus", "name": "P", "query": query, "timeout": "2s", "interval": "30s"}
    )


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        yield s


def test_http_check_runs(server: ScriptedServer) -> None:
    result = run_check(http_spec(server.route("/health", body="ok")), ctx())
    assert (result.status, result.reason, result.at) == (
        ComponentStatus.OPERATIONAL,
        "status 200",
        FIXED,
    )


def test_failures_are_results_not_exceptions() -> None:
    result = run_check(http_spec(closed_port_url()), ctx())
    assert (result.status, result.reason) == (ComponentStatus.MAJOR_OUTAGE, "connection refused")


def test_prometheus_check_without_a_prometheus_url_is_unknown() -> None:
    result = run_check(prom_spec(), ctx(prometheus_url=None))
    assert (result.status, result.reason, result.at) == (
        UNKNOWN,
        "Prometheus: no prometheus.url set",
        FIXED,
    )


def test_prometheus_check_uses_the_context_url_and_headers(server: ScriptedServer) -> None:
    server.route(
        "/api/v1/query",
        body='{"status":"success","data":{"resultType":"vector","result":[]}}',
        content_type="application/json",
    )
    result = run_check(prom_spec(), ctx(server.url, prometheus_headers={"X-Scope-OrgID": "acme"}))
    assert (result.status, result.reason) == (UNKNOWN, "Prometheus: query returned no data")
    assert server.seen[0].headers["x-scope-orgid"] == "acme"


def test_a_runner_that_raises_gives_unknown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(spec: Any, context: CheckContext) -> CheckResult:
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(checks.RUNNERS, "http", broken)
    result = run_check(http_spec("http://127.0.0.1/health"), ctx())
    assert (result.status, result.reason, result.at) == (
        UNKNOWN,
        "internal error: ZeroDivisionError",
        FIXED,
    )
    assert [r.getMessage() for r in caplog.records] == ["check runner failed"]
    assert caplog.records[0].exc_info is not None


def test_a_runner_that_returns_nothing_gives_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(checks.RUNNERS, "http", lambda spec, context: None)
    result = run_check(http_spec("http://127.0.0.1/health"), ctx())
    assert (result.status, result.reason) == (UNKNOWN, "internal error: no result")


def test_an_unknown_check_type_gives_unknown() -> None:
    spec = http_spec("http://127.0.0.1/health").model_copy(update={"type": "smtp"})
    result = run_check(spec, ctx())
    assert (result.status, result.reason, result.at) == (
        UNKNOWN,
        "unknown check type 'smtp'",
        FIXED,
    )


def test_every_check_type_has_a_runner() -> None:
    assert set(checks.RUNNERS) == set(checks.CHECK_TYPES)


def test_secrets_from_the_environment_never_reach_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from statuspage.config import parse_config

    config = parse_config(
        {
            "components": [
                {
                    "id": "x",
                    "name": "X",
                    "checks": [{"name": "c", "type": "http", "url": "http://x/?key=${KEY}"}],
                }
            ]
        },
        env={"KEY": "hunter2-long-secret"},
    )
    spec = config.components[0].checks[0]
    monkeypatch.setitem(
        checks.RUNNERS,
        "http",
        lambda spec, ctx: CheckResult(
            ctx.now(), ComponentStatus.MAJOR_OUTAGE, f"failed for {spec.url}"
        ),
    )
    result = run_check(spec, CheckContext(now=lambda: FIXED, secrets=config.secrets))
    assert result.reason == "failed for http://x/?key=[secret]"
