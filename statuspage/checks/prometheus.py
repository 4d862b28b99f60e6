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
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from pydantic import Field, field_validator, model_validator
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

    @field_validator("selectors")
    @classmethod
    def _raw_series(cls, selectors: list[str] | None) -> list[str] | None:
        # timestamp() of anything but a plain selector (`up == 1`, `rate(x[1m])`)
        # is the evaluation time: such a "liveness" check would always pass.
        for selector in selectors or []:
            if metric_selectors(selector) != [selector.strip()]:
                raise ValueError(
                    f"{selector!r} is not a plain series selector such as"
                    ' http_requests_total{job="api"}'
                )
        return None if selectors is None else [s.strip() for s in selectors]


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
        degraded, outage = self.degraded_above, self.outage_above
        if degraded is not None and outage is not None and outage <= degraded:
            raise ValueError("outage_above must be greater than degraded_above")
        degraded, outage = self.degraded_below, self.outage_below
        if degraded is not None and outage is not None and outage >= degraded:
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
        thresholds are upper bounds, the lowest when they are lower bounds,
        and with both, the one whose status is worst."""
        upper = self.degraded_above is not None or self.outage_above is not None
        lower = self.degraded_below is not None or self.outage_below is not None
        if lower and not upper:
            return min(values)
        if lower and upper:
            return max(values, key=lambda value: self.status_for(value)[0].severity)
        return max(values)


class PrometheusUnusable(Exception):
    """Prometheus could not give a usable answer; the message says why."""


def run_prometheus_check(
    spec: PrometheusCheck, prometheus_url: str, now: Clock, headers: dict[str, str] | None = None
) -> CheckResult:
    """Query, judge the value, and confirm the data behind it is live. Never raises."""
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    with PrometheusClient(prometheus_url, timeout, headers) as client:
        try:
            result = client.query(spec.query)
            values, evaluated_at = vector_values(result)
            if not values:
                return _no_data(started_at, "query returned no data")
            finite = [v for v in values if math.isfinite(v)]
            if not finite:
                return _no_data(started_at, f"query returned {_show(values[0])} (no data)")
            max_age_s = spec.liveness.max_age.total_seconds()
            if stale := client.stale_selector(spec.liveness_selectors(), max_age_s, evaluated_at):
                return _no_data(started_at, stale)
        except PrometheusUnusable as exc:
            return _no_data(started_at, str(exc))
        warnings = client.warnings
    value = spec.worst_value(finite)
    status, reason = spec.status_for(value)
    if status is ComponentStatus.MAJOR_OUTAGE:
        status = ComponentStatus(spec.failure_status)
    if warnings:
        # Partial data may hide the failing half: never upgrade on it.
        if status is ComponentStatus.OPERATIONAL:
            return _no_data(started_at, ("partial data: " + "; ".join(warnings))[:200])
        reason += " (partial data)"
    return CheckResult(at=started_at, status=status, reason=reason, value=value)


def _no_data(at: datetime, reason: str) -> CheckResult:
    return CheckResult(at=at, status=ComponentStatus.UNKNOWN, reason="Prometheus: " + reason)


class PrometheusClient:
    """prometheus-api-client, with retries off, one deadline for all the
    queries of a run, and every failure mapped to one exception carrying a
    short reason."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.warnings: list[str] = []
        self._last: requests.Response | None = None
        session = requests.Session()
        # The library keeps only data.result; the hook keeps the warnings and
        # the response, to say why a query failed.
        session.hooks["response"].append(self._keep_response)
        self._prom = PrometheusConnect(
            url=url.rstrip("/"),
            headers=headers or None,
            # read=False: a read timeout must stay a timeout, not turn into
            # "max retries exceeded" (a ConnectionError) on the first try.
            retry=Retry(total=0, read=False, raise_on_status=False),
            session=session,
            timeout=timeout,
        )

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._prom.close()

    def _keep_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response
        if _is_json(response):
            try:
                warnings = response.json().get("warnings") or []
            except (ValueError, AttributeError):
                return
            for warning in map(str, warnings):
                if warning not in self.warnings:
                    self.warnings.append(warning)

    def query(self, promql: str) -> Any:
        remaining = self.deadline - time.monotonic()
        timed_out = f"timed out after {describe_seconds(self.timeout)}"
        if remaining <= 0:
            raise PrometheusUnusable(timed_out)
        self._last = None
        try:
            return self._prom.custom_query(promql, timeout=remaining)
        except requests.Timeout as exc:
            raise PrometheusUnusable(timed_out) from exc
        except requests.ConnectionError as exc:
            text = str(exc).lower()
            if "timed out" in text:  # a read timeout in the body comes as a ConnectionError
                raise PrometheusUnusable(timed_out) from exc
            reason = "connection refused" if "refused" in text else "could not connect"
            raise PrometheusUnusable(f"unreachable ({reason})") from exc
        except PrometheusApiClientException as exc:
            raise PrometheusUnusable(self._describe_failure()) from exc
        except ValueError as exc:  # 200 with a body that is not JSON (an auth proxy's login page)
            kind = _content_type(self._last) or "a body"
            raise PrometheusUnusable(f"answered with {kind}, not JSON") from exc
        except (KeyError, TypeError, AttributeError) as exc:
            raise PrometheusUnusable("answered JSON without data.result") from exc
        except requests.RequestException as exc:
            raise PrometheusUnusable(f"request failed ({type(exc).__name__})") from exc

    def _describe_failure(self) -> str:
        response = self._last
        if response is None:
            return "request failed"
        detail = ""
        if _is_json(response):
            try:
                detail = str(response.json().get("error") or "")
            except (ValueError, AttributeError):
                detail = ""
        return describe_http_status(response.status_code, detail)

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


def _content_type(response: requests.Response | None) -> str:
    if response is None:
        return ""
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(response: requests.Response) -> bool:
    return _content_type(response) == "application/json"


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


HTTP_MEANINGS = {
    400: "bad query",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    422: "query error",
    500: "internal error",
    502: "bad gateway",
    503: "unavailable",
    504: "gateway timeout",
}


def describe_http_status(status_code: int, detail: str = "") -> str:
    """`HTTP 422 (query error: ...)`, from the status and Prometheus' `error` field."""
    meaning = HTTP_MEANINGS.get(status_code, "")
    detail = detail.strip().splitlines()[0][:120] if detail.strip() else ""
    inside = ": ".join(part for part in (meaning, detail) if part)
    return f"HTTP {status_code} ({inside})" if inside else f"HTTP {status_code}"


def _show(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:g}"
