"""Check types, one module each, found through `RUNNERS`.

Every runner takes its spec and a `CheckContext` and returns a
`CheckResult`; none raises (see `run_check`, which also guards against a
runner that breaks that promise).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from pydantic import Field

from statuspage.checks.base import CheckResult, CheckSpec
from statuspage.checks.dns import DnsCheck, run_dns_check
from statuspage.checks.heartbeat import HeartbeatCheck, Pings, judge_heartbeat
from statuspage.checks.http import HttpCheck, run_http_check
from statuspage.checks.prometheus import PrometheusCheck, run_prometheus_check
from statuspage.checks.tcp import TcpCheck, run_tcp_check
from statuspage.checks.tls import TlsCheck, run_tls_check
from statuspage.checks.workflow import WorkflowCheck, run_workflow_check
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus

log = logging.getLogger(__name__)

# The union the config parses, told apart by `type`.
CheckConfig = Annotated[
    HttpCheck | WorkflowCheck | PrometheusCheck | TcpCheck | TlsCheck | DnsCheck | HeartbeatCheck,
    Field(discriminator="type"),
]
CHECK_TYPES = ("http", "workflow", "prometheus", "tcp", "tls", "dns", "heartbeat")


@dataclass(frozen=True)
class CheckContext:
    """What a running check may use besides its own spec."""

    now: Clock
    prometheus_url: str | None = None
    prometheus_headers: dict[str, str] = field(default_factory=dict)
    # Values that came from ${ENV}: never shown in a result's reason.
    secrets: frozenset[str] = frozenset()
    # The pings a heartbeat check has received, by check id.
    pings: Callable[[str], Pings | None] | None = None


def _run_http(spec: Any, ctx: CheckContext) -> CheckResult:
    return run_http_check(spec, ctx.now)


def _run_prometheus(spec: Any, ctx: CheckContext) -> CheckResult:
    if not ctx.prometheus_url:
        return CheckResult(ctx.now(), ComponentStatus.UNKNOWN, "Prometheus: no prometheus.url set")
    return run_prometheus_check(spec, ctx.prometheus_url, ctx.now, ctx.prometheus_headers)


def _run_workflow(spec: Any, ctx: CheckContext) -> CheckResult:
    return run_workflow_check(spec, ctx.now)


def _run_heartbeat(spec: Any, ctx: CheckContext) -> CheckResult:
    pings = ctx.pings(spec.check_id) if ctx.pings else None
    if pings is None:
        return CheckResult(
            ctx.now(),
            ComponentStatus.UNKNOWN,
            f"no token yet: run `statuspage heartbeat-token {spec.check_id}`",
        )
    return judge_heartbeat(spec, pings, ctx.now())


RUNNERS: dict[str, Callable[[Any, CheckContext], CheckResult]] = {
    "http": _run_http,
    "prometheus": _run_prometheus,
    "workflow": _run_workflow,
    "tcp": lambda spec, ctx: run_tcp_check(spec, ctx.now),
    "tls": lambda spec, ctx: run_tls_check(spec, ctx.now),
    "dns": lambda spec, ctx: run_dns_check(spec, ctx.now),
    "heartbeat": _run_heartbeat,
}


def run_check(spec: CheckSpec, ctx: CheckContext) -> CheckResult:
    """Run any check. A bug in a runner becomes an `unknown` result, not a crash."""
    check_type = getattr(spec, "type", None)
    try:
        runner = RUNNERS[check_type]  # type: ignore[index]
    except KeyError:
        return CheckResult(ctx.now(), ComponentStatus.UNKNOWN, f"unknown check type {check_type!r}")
    try:
        result = runner(spec, ctx)
    except Exception as exc:
        log.exception("check runner failed", extra={"check": spec.name})
        reason = f"internal error: {type(exc).__name__}"
        return CheckResult(ctx.now(), ComponentStatus.UNKNOWN, reason)
    if not isinstance(result, CheckResult):
        log.error("check runner returned %r, not a CheckResult", type(result).__name__)
        return CheckResult(ctx.now(), ComponentStatus.UNKNOWN, "internal error: no result")
    return redact_result(result, ctx.secrets)


def redact(text: str, secrets: frozenset[str]) -> str:
    """Replace every secret in `text` (longest first, so a secret that
    contains another is hidden whole)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and secret in text:
            text = text.replace(secret, "[secret]")
    return text


def redact_result(result: CheckResult, secrets: frozenset[str]) -> CheckResult:
    if not secrets:
        return result
    reason = redact(result.reason, secrets)
    return result if reason == result.reason else replace(result, reason=reason)


__all__ = ["CHECK_TYPES", "CheckConfig", "CheckContext", "CheckResult", "run_check"]
