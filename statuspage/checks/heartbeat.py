"""`type: heartbeat`: the watched job calls us; silence past its deadline is
an outage.

A cron job or a service calls `POST /api/v1/heartbeat/<token>` (or GET, for
curl from cron) every `period`. The check, run on its own `interval` like
any other, compares the newest ping with the clock: later than `period +
grace` is a failure. A job can also say it failed, with `/fail` appended.
The token is random, shown once and stored only as a hash.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from statuspage.checks.base import CheckResult, CheckSpec
from statuspage.domain import ComponentStatus
from statuspage.durations import Duration, format_duration, parse_duration

TOKEN_BYTES = 24


class HeartbeatCheck(CheckSpec):
    type: Literal["heartbeat"]
    # How often the job pings.
    period: Duration
    # How late a ping may be before the job counts as down.
    grace: Duration = Field(default_factory=lambda: parse_duration("1m"))
    # Optional: the token, e.g. "${BACKUP_HEARTBEAT_TOKEN}"; without it,
    # `statuspage heartbeat-token` makes one. Only its hash is stored.
    token: str | None = Field(default=None, min_length=16, max_length=200)


@dataclass(frozen=True)
class Pings:
    """What the store knows of a heartbeat check's pings."""

    last_ping_at: datetime | None
    last_fail_at: datetime | None
    watching_since: datetime


def judge_heartbeat(spec: HeartbeatCheck, pings: Pings, now: datetime) -> CheckResult:
    """Pure: the ping times and the clock -> a result."""
    deadline_after = spec.period + spec.grace
    expected = f"expected every {format_duration(spec.period)}, grace {format_duration(spec.grace)}"
    last_ok, last_fail = pings.last_ping_at, pings.last_fail_at
    if last_fail is not None and (last_ok is None or last_fail >= last_ok):
        return CheckResult(
            now,
            ComponentStatus(spec.failure_status),
            f"the job reported a failure at {_hm(last_fail)}",
        )
    if last_ok is None:
        if now - pings.watching_since < deadline_after:
            return CheckResult(now, ComponentStatus.UNKNOWN, "waiting for the first heartbeat")
        return CheckResult(
            now, ComponentStatus(spec.failure_status), f"no heartbeat received ({expected})"
        )
    late = now - last_ok
    if late >= deadline_after:
        return CheckResult(
            now,
            ComponentStatus(spec.failure_status),
            f"no heartbeat since {_hm(last_ok)} ({expected})",
        )
    return CheckResult(now, ComponentStatus.OPERATIONAL, f"last heartbeat {_ago(late)} ago")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are long random strings: a plain SHA-256 is enough to make a
    leaked table useless, and lets the ping look the hash up directly."""
    return hashlib.sha256(token.encode()).hexdigest()


def _hm(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"
