"""`type: http`: one request, assertions on status, body and JSON, latency."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, Literal

import httpx
from pydantic import Field, PrivateAttr, field_validator, model_validator

from statuspage.checks.assertions import (
    JsonAssertion,
    StatusExpectation,
    compile_json_assertions,
    compile_regex,
)
from statuspage.checks.base import CheckResult, CheckSpec, StrictModel, describe_seconds
from statuspage.checks.network import (
    METADATA_HOSTS,
    MetadataAddressRefused,
    deadline,
    is_metadata_address,
    probe_client,
)
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus
from statuspage.durations import Duration

# A health endpoint has no business sending more; reading more is a risk.
MAX_BODY_BYTES = 1_000_000
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class HttpExpect(StrictModel):
    status: int | str | list[int | str] = 200
    body_contains: str | list[str] | None = None
    body_not_contains: str | list[str] | None = None
    body_regex: str | None = None
    json_paths: dict[str, Any] | None = Field(default=None, alias="json")

    _status: StatusExpectation = PrivateAttr()
    _regex: Any = PrivateAttr(default=None)
    _json: list[JsonAssertion] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _compile(self) -> HttpExpect:
        self._status = StatusExpectation(self.status)
        if self.body_regex is not None:
            self._regex = compile_regex(self.body_regex)
        if self.json_paths:
            self._json = compile_json_assertions(self.json_paths)
        return self

    def failure(self, status: int, body: str) -> str | None:
        """The first assertion that fails, as a reason; None when all hold."""
        if reason := self._status.failure(status):
            return reason
        for needle in _as_list(self.body_contains):
            if needle not in body:
                return f"body contains {json.dumps(needle)}"
        for needle in _as_list(self.body_not_contains):
            if needle in body:
                return f"body does not contain {json.dumps(needle)}"
        if self._regex is not None and not self._regex.search(body):
            return f"body matches /{self._regex.pattern}/"
        if self._json:
            try:
                document = json.loads(body)
            except ValueError:
                return "body is JSON (it did not parse)"
            for assertion in self._json:
                if reason := assertion.failure(document):
                    return reason
        return None


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


class LatencyThresholds(StrictModel):
    """Slow is a state: past `degraded` the check reports degraded
    performance, past `outage` a major outage."""

    degraded: Duration | None = None
    outage: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LatencyThresholds:
        if self.degraded and self.outage and self.outage <= self.degraded:
            raise ValueError("outage must be longer than degraded")
        return self

    def status_for(self, latency: timedelta) -> ComponentStatus | None:
        if self.outage is not None and latency >= self.outage:
            return ComponentStatus.MAJOR_OUTAGE
        if self.degraded is not None and latency >= self.degraded:
            return ComponentStatus.DEGRADED_PERFORMANCE
        return None


class HttpCheck(CheckSpec):
    type: Literal["http"]
    url: str
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")
    expect: HttpExpect = Field(default_factory=HttpExpect)
    latency: LatencyThresholds | None = None
    follow_redirects: bool = False
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        host = parsed.host.lower().rstrip(".")
        if host in METADATA_HOSTS or is_metadata_address(host):
            raise ValueError(f"{host} is a cloud metadata address; a check may not target it")
        return url

    @field_validator("method")
    @classmethod
    def _method(cls, method: str) -> str:
        if method.upper() not in HTTP_METHODS:
            raise ValueError(f"must be one of {', '.join(HTTP_METHODS)}")
        return method.upper()

    @model_validator(mode="after")
    def _one_body(self) -> HttpCheck:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either body or json, not both")
        return self


def run_http_check(spec: HttpCheck, now: Clock, client: httpx.Client | None = None) -> CheckResult:
    """Run one request and judge it. Never raises.

    The timeout is one deadline for the whole run (connect, TLS, headers,
    body), not per read: a server that drips a byte at a time is cut when
    it passes. A `client` should come from `probe_client` to keep that and
    the metadata guard.
    """
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    start = time.monotonic()
    try:
        with deadline(timeout):
            status, body = _fetch(spec, timeout, client)
    except httpx.TimeoutException:
        return CheckResult(
            at=started_at,
            status=ComponentStatus(spec.failure_status),
            reason=f"timed out after {describe_seconds(timeout)}",
            latency_ms=(time.monotonic() - start) * 1000,
        )
    except httpx.HTTPError as exc:
        return CheckResult(
            at=started_at,
            status=ComponentStatus(spec.failure_status),
            reason=describe_http_error(exc),
        )
    except httpx.InvalidURL as exc:  # not an HTTPError; a URL the config let through
        invalid = f"invalid URL ({_first_line(str(exc))})"
        return CheckResult(started_at, ComponentStatus(spec.failure_status), invalid)
    elapsed = time.monotonic() - start
    latency_ms = elapsed * 1000
    if reason := spec.expect.failure(status, body):
        return CheckResult(started_at, ComponentStatus(spec.failure_status), reason, latency_ms)
    if spec.latency is not None:
        slow = spec.latency.status_for(timedelta(seconds=elapsed))
        if slow is not None:
            if slow is ComponentStatus.MAJOR_OUTAGE:
                limit, slow = spec.latency.outage, ComponentStatus(spec.failure_status)
            else:
                limit = spec.latency.degraded
            assert limit is not None
            reason = (
                f"latency ({describe_seconds(elapsed)}) < {describe_seconds(limit.total_seconds())}"
            )
            return CheckResult(started_at, slow, reason, latency_ms)
    return CheckResult(started_at, ComponentStatus.OPERATIONAL, f"status {status}", latency_ms)


def _fetch(spec: HttpCheck, timeout: float, client: httpx.Client | None) -> tuple[int, str]:
    own_client = client is None
    http = client or probe_client(spec.verify_tls, spec.follow_redirects)
    try:
        ends_at = time.monotonic() + timeout
        with http.stream(
            spec.method,
            spec.url,
            headers=spec.headers,
            content=spec.body,
            json=spec.json_body,
            timeout=timeout,
            follow_redirects=spec.follow_redirects,
        ) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                chunks.append(chunk)
                if size >= MAX_BODY_BYTES:
                    break
                # For a client not made by probe_client, whose reads do not
                # know the deadline: at least stop between chunks.
                if time.monotonic() > ends_at:
                    raise httpx.ReadTimeout("total deadline passed", request=response.request)
            body = b"".join(chunks)[:MAX_BODY_BYTES]
            return response.status_code, body.decode(response.encoding or "utf-8", "replace")
    finally:
        if own_client:
            http.close()


def describe_http_error(exc: httpx.HTTPError) -> str:
    """A short reason for a transport failure, without the URL (it may hold secrets)."""
    if isinstance(exc, httpx.ConnectError):
        if isinstance(exc.__cause__, MetadataAddressRefused):
            return f"refused: {exc.__cause__}"
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        if "name or service not known" in text or "nodename nor servname" in text:
            return "host name not found"
        if "certificate" in text or "ssl" in text:
            return "TLS error: " + _first_line(str(exc))
        return "could not connect: " + _first_line(str(exc))
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        if "complete message body" in text:
            return "connection closed in the middle of the body"
        if "disconnected" in text or "closed" in text:
            return "connection closed without a valid response"
        return "not a valid HTTP response"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(exc).__name__}: {_first_line(str(exc))}"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return line[:120]
