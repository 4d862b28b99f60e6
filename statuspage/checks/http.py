"""`type: http`: one request, assertions on status, body and JSON, latency."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
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

    def judge(
        self, seconds: float, outage_status: ComponentStatus
    ) -> tuple[ComponentStatus, str] | None:
        """The status and reason (`latency (1.2s) < 1s`) for an answer that
        took `seconds`, or None when it was fast enough. Past `outage` the
        status is the check's `outage_status` (its failure_status)."""
        slow = self.status_for(timedelta(seconds=seconds))
        if slow is None:
            return None
        limit = self.outage if slow is ComponentStatus.MAJOR_OUTAGE else self.degraded
        status = outage_status if slow is ComponentStatus.MAJOR_OUTAGE else slow
        assert limit is not None
        limit_text = describe_seconds(limit.total_seconds())
        return status, f"latency ({describe_seconds(seconds)}) < {limit_text}"


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

    _url = field_validator("url")(lambda cls, url: check_target_url(url))

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


def check_target_url(url: str) -> str:
    """A URL a check may fetch: http(s), with a host, and not a cloud
    metadata address. Raises ValueError with a reason for the config."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:  # not a ValueError: pydantic would let it escape
        raise ValueError(f"is not a valid URL ({_first_line(str(exc))})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("must be an http:// or https:// URL with a host")
    host = parsed.host.lower().rstrip(".")
    if host in METADATA_HOSTS or is_metadata_address(host):
        raise ValueError(f"{host} is a cloud metadata address; a check may not target it")
    return url


def run_http_check(spec: HttpCheck, now: Clock, client: httpx.Client | None = None) -> CheckResult:
    """Run one request and judge it. Never raises.

    A `client` should come from `probe_client`, to keep the run's deadline
    and the metadata guard (see `send_request`).
    """
    started_at = now()
    failed = ComponentStatus(spec.failure_status)
    http = client or probe_client(spec.verify_tls, spec.follow_redirects)
    try:
        answer = send_request(
            http,
            spec.method,
            spec.url,
            spec.effective_timeout().total_seconds(),
            headers=spec.headers,
            content=spec.body,
            json_body=spec.json_body,
            follow_redirects=spec.follow_redirects,
        )
    finally:
        if client is None:
            http.close()
    if answer.failure is not None:
        return CheckResult(started_at, failed, answer.failure, answer.latency_ms)
    if reason := spec.expect.failure(answer.status, answer.body):
        return CheckResult(started_at, failed, reason, answer.latency_ms)
    if spec.latency is not None and (slow := spec.latency.judge(answer.seconds, failed)):
        return CheckResult(started_at, slow[0], slow[1], answer.latency_ms)
    return CheckResult(
        started_at, ComponentStatus.OPERATIONAL, f"status {answer.status}", answer.latency_ms
    )


@dataclass(frozen=True)
class Answer:
    """What one request came to: the response, with its body read up to
    `MAX_BODY_BYTES`, or `failure`, a short reason why there was none."""

    seconds: float
    status: int = 0
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: str = ""
    failure: str | None = None
    timed_out: bool = False

    @property
    def latency_ms(self) -> float | None:
        """How long it took; none for a request that failed before an
        answer could come (a refused connection is not fast)."""
        if self.failure is not None and not self.timed_out:
            return None
        return self.seconds * 1000


def send_request(
    client: httpx.Client,
    method: str,
    url: str,
    timeout: float,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    content: str | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
    follow_redirects: bool = False,
) -> Answer:
    """Send one request and read its answer, all of it (connect, TLS,
    headers, body) within `timeout` seconds. Never raises.

    The timeout is one deadline, not per read: a server that drips a byte
    at a time is cut when it passes. Reasons say what went wrong, not the
    URL, headers or body sent (they may hold secrets).
    """
    start = time.monotonic()
    try:
        with deadline(timeout):
            status, response_headers, body = _exchange(
                client,
                method,
                url,
                timeout,
                follow_redirects,
                params,
                headers=headers,
                content=content,
                json=json_body,
                data=form,
            )
    except httpx.TimeoutException:
        reason = f"timed out after {describe_seconds(timeout)}"
        return Answer(time.monotonic() - start, failure=reason, timed_out=True)
    except httpx.HTTPError as exc:
        return Answer(time.monotonic() - start, failure=describe_http_error(exc))
    except httpx.InvalidURL as exc:  # not an HTTPError; a URL the config let through
        return Answer(time.monotonic() - start, failure=f"invalid URL ({_first_line(str(exc))})")
    return Answer(time.monotonic() - start, status, response_headers, body)


def _exchange(
    client: httpx.Client,
    method: str,
    url: str,
    timeout: float,
    follow_redirects: bool,
    params: Mapping[str, str] | None = None,
    **request: Any,
) -> tuple[int, httpx.Headers, str]:
    ends_at = time.monotonic() + timeout
    target: httpx.URL | str = url
    if params:  # added to the URL's own query (httpx's `params=` would replace it)
        target = httpx.URL(url).copy_merge_params(dict(params))
    with client.stream(
        method, target, timeout=timeout, follow_redirects=follow_redirects, **request
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
        text = body.decode(response.encoding or "utf-8", "replace")
        return response.status_code, response.headers, text


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
