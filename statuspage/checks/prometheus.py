"""`type: prometheus`: a PromQL instant query with thresholds, that knows
when it is blind.

A rule over a range (`rate(x[5m])`) keeps returning the last healthy value
for minutes after every target stopped answering, so a value is not proof of
live data. Besides the query itself, the check asks how old the newest raw
sample behind it is (`timestamp()` of the query's own selectors, or the
selectors given under `liveness`). An empty result, `NaN`, `±Inf`, an error,
a timeout, a Prometheus that is down or answers HTML: each gives `unknown`
with its reason, never `operational`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from pydantic import Field, model_validator
from urllib3.util.retry import Retry

from statuspage.checks.base import CheckResult, CheckSpec, StrictModel, describe_seconds
from statuspage.checks.promql import metric_selectors
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus
from statuspage.durations import Duration, parse_duration


class Liveness(StrictModel):
    """Which raw series prove the data is live, and how old they may be."""

    # Default: the selectors found in the query. An empty list turns it off.
    selectors: list[str] | None = None
    max_age: Duration = Field(default_factory=lambda: parse_duration("2m"))


class PrometheusCheck(CheckSpec):
    type: Literal["prometheus"]
    query: str = Field(min_length=1)
    degraded_above: float | None = None
    outage_above: float | None = None
    degraded_below: float | None = None
    outage_below: float | None = None
    liveness: Liveness = Field(default_factory=Liveness)

    @model_validator(mode="after")
    def _thresholds(self) -> PrometheusCheck:
        if self.degraded_above is not None and self.outage_above is not None:
            if self.outage_above <= self.degraded_above:
                raise ValueError("outage_above must be greater than degraded_above")
        if self.degraded_below is not None and self.outage_below is not None:
            if self.outage_below >= self.degraded_below:
                raise ValueError("outage_below must be less than degraded_below")
        return self

    def liveness_selectors(self) -> list[str]:
        if self.liveness.selectors is not None:
            return self.liveness.selectors
        return metric_selectors(self.query)

    def status_for(self, value: float) -> tuple[ComponentStatus, str]:
        shown = _show(value)
        if self.outage_above is not None and value > self.outage_above:
            return ComponentStatus.MAJOR_OUTAGE, f"value ({shown}) <= {_show(self.outage_above)}"
        if self.outage_below is not None and value < self.outage_below:
            return ComponentStatus.MAJOR_OUTAGE, f"value ({shown}) >= {_show(self.outage_below)}"
        if self.degraded_above is not None and value > self.degraded_above:
            return (
                ComponentStatus.DEGRADED_PERFORMANCE,
                f"value ({shown}) <= {_show(self.degraded_above)}",
            )
        if self.degraded_below is not None and value < self.degraded_below:
            return (
                ComponentStatus.DEGRADED_PERFORMANCE,
                f"value ({shown}) >= {_show(self.degraded_below)}",
            )
        return ComponentStatus.OPERATIONAL, f"value {shown}"

    def worst_value(self, values: Sequence[float]) -> float:
        """Of several series, the one that matters: the highest when the
        thresholds are upper bounds, the lowest when they are lower bounds."""
        if self.degraded_above is None and self.outage_above is None and (
            self.degraded_below is not None or self.outage_below is not None
        ):
            return min(values)
        return max(values)


class PrometheusUnusable(Exception):
    """Prometheus could not give a usable answer; the message says why."""


def run_prometheus_check(
    spec: PrometheusCheck, prometheus_url: str, now: Clock, headers: dict[str, str] | None = None
) -> CheckResult:
    """Query, judge the value, and confirm the data behind it is live. Never raises."""
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    client = PrometheusClient(prometheus_url, timeout, headers)
    try:
        result = client.query(spec.query)
        values, evaluated_at = vector_values(result)
        if not values:
            return _no_data(started_at, "query returned no data")
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return _no_data(started_at, f"query returned {_show(values[0])} (no data)")
        if stale := client.stale_selector(spec.liveness_selectors(), spec.liveness.max_age.total_seconds(), evaluated_at):
            return _no_data(started_at, stale)
    except PrometheusUnusable as exc:
        return _no_data(started_at, str(exc))
    value = spec.worst_value(finite)
    status, reason = spec.status_for(value)
    if status is not ComponentStatus.OPERATIONAL:
        status = ComponentStatus(spec.failure_status) if status is ComponentStatus.MAJOR_OUTAGE else status
    if client.warnings:
        # Partial data may hide the failing half: never upgrade on it.
        if status is ComponentStatus.OPERATIONAL:
            return _no_data(started_at, "partial data: " + "; ".join(client.warnings)[:200])
        reason += " (partial data)"
    return CheckResult(at=started_at, status=status, reason=reason, value=value)


def _no_data(at: datetime, reason: str) -> CheckResult:
    return CheckResult(at=at, status=ComponentStatus.UNKNOWN, reason="Prometheus: " + reason)


class PrometheusClient:
    """prometheus-api-client, with retries off (the check has one deadline)
    and every failure mapped to one exception carrying a short reason."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.warnings: list[str] = []
        session = requests.Session()
        # The library keeps only data.result; the hook keeps the warnings.
        session.hooks["response"].append(self._keep_warnings)
        self._prom = PrometheusConnect(
            url=url.rstrip("/"),
            headers=headers or None,
            retry=Retry(total=0, raise_on_status=False),
            session=session,
            timeout=timeout,  # type: ignore[arg-type]
        )

    def _keep_warnings(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                warnings = response.json().get("warnings") or []
            except ValueError:
                return
            self.warnings.extend(str(w) for w in warnings)

    def query(self, promql: str) -> Any:
        try:
            return self._prom.custom_query(promql, timeout=self.timeout)  # type: ignore[arg-type]
        except requests.Timeout as exc:
            raise PrometheusUnusable(f"timed out after {describe_seconds(self.timeout)}") from exc
        except requests.ConnectionError as exc:
            text = str(exc).lower()
            reason = "connection refused" if "refused" in text else "could not connect"
            raise PrometheusUnusable(f"unreachable ({reason})") from exc
        except PrometheusApiClientException as exc:
            raise PrometheusUnusable(describe_api_error(str(exc))) from exc
        except ValueError as exc:  # 200 with a body that is not JSON (an auth proxy's login page)
            raise PrometheusUnusable("answered with something that is not JSON") from exc
        except (KeyError, TypeError) as exc:
            raise PrometheusUnusable("answered JSON without data.result") from exc
        except requests.RequestException as exc:
            raise PrometheusUnusable(f"request failed ({type(exc).__name__})") from exc

    def stale_selector(
        self, selectors: Sequence[str], max_age_s: float, evaluated_at: float | None
    ) -> str | None:
        """The reason the data is not live, or None when every selector has a
        fresh raw sample."""
        for selector in selectors:
            result = self.query(f"max(timestamp({selector}))")
            values, at = vector_values(result)
            if not values or not math.isfinite(values[0]):
                return f"no live samples for {selector}"
            reference = evaluated_at if evaluated_at is not None else at
            if reference is not None and reference - values[0] > max_age_s:
                age = describe_seconds(reference - values[0])
                return f"newest sample of {selector} is {age} old"
        return None


def vector_values(result: Any) -> tuple[list[float], float | None]:
    """Values of an instant-vector or scalar result, and the evaluation time."""
    if not isinstance(result, list):
        # A scalar result: [time, "value"]
        raise PrometheusUnusable("query must return an instant vector or a scalar")
    if len(result) == 2 and not isinstance(result[0], dict):
        return [_as_float(result[1])], float(result[0])
    values: list[float] = []
    at: float | None = None
    for series in result:
        if not isinstance(series, dict) or "value" not in series:
            raise PrometheusUnusable("query must return an instant vector (it returned a range)")
        at = float(series["value"][0])
        values.append(_as_float(series["value"][1]))
    return values, at


def _as_float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError) as exc:
        raise PrometheusUnusable(f"returned a value that is not a number: {text!r}") from exc


def describe_api_error(message: str) -> str:
    # The library's message: HTTP Status Code 422 (b'{"status":"error",...}')
    lowered = message.lower()
    for code, meaning in (("503", "unavailable"), ("422", "query error"), ("400", "bad query")):
        if f"code {code}" in lowered:
            detail = _error_detail(message)
            return f"HTTP {code} ({meaning}{': ' + detail if detail else ''})"
    return message[:160]


def _error_detail(message: str) -> str:
    marker = '"error":"'
    start = message.find(marker)
    if start < 0:
        return ""
    end = message.find('"', start + len(marker))
    return message[start + len(marker) : end][:120]


def _show(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}"
