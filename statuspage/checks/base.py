"""The check interface: a check is run under a timeout and returns a result.

A check never raises. Whatever goes wrong (a refused connection, a timeout,
a body that does not parse, a Prometheus that answers HTML) becomes a
`CheckResult` with a short human reason, so one broken check cannot take the
scheduler or another check down with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from statuspage.domain import ComponentStatus
from statuspage.durations import Duration


@dataclass(frozen=True)
class CheckResult:
    """One run of one check, as observed.

    `status` is what this single run saw; the state engine turns a series of
    them into the check's confirmed status. `unknown` means the run produced
    no data (Prometheus returned nothing, NaN, or was unreachable): silence,
    not health.
    """

    at: datetime
    status: ComponentStatus
    reason: str = ""
    latency_ms: float | None = None
    value: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is ComponentStatus.OPERATIONAL

    @property
    def has_data(self) -> bool:
        return self.status is not ComponentStatus.UNKNOWN


# A check that needs longer than this is a hung check, whatever it watches.
MAX_TIMEOUT = timedelta(seconds=60)

FailureStatus = Literal["degraded_performance", "partial_outage", "major_outage"]


class StrictModel(BaseModel):
    """Config models refuse unknown keys: a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CheckSpec(StrictModel):
    """Fields every check type shares. Unset timing fields take `defaults`."""

    name: str = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    interval: Duration | None = None
    timeout: Duration | None = None
    confirm_down: int | None = Field(default=None, ge=1, le=100)
    confirm_up: int | None = Field(default=None, ge=1, le=100)
    stale_after: int | None = Field(default=None, ge=1, le=100)
    # What a failed run means for the component: a check of a side feature
    # may say partial_outage instead of the default major_outage.
    failure_status: FailureStatus = "major_outage"

    @field_validator("timeout")
    @classmethod
    def _bounded_timeout(cls, timeout: timedelta | None) -> timedelta | None:
        if timeout is not None and timeout > MAX_TIMEOUT:
            raise ValueError(f"must be at most {int(MAX_TIMEOUT.total_seconds())}s")
        return timeout

    # "component/check", set when the config loads.
    _check_id: str = PrivateAttr(default="")

    @property
    def check_id(self) -> str:
        return self._check_id

    @property
    def slug(self) -> str:
        return self.id or slugify(self.name)

    def effective_interval(self) -> timedelta:
        assert self.interval is not None, "defaults are applied when the config loads"
        return self.interval

    def effective_timeout(self) -> timedelta:
        assert self.timeout is not None, "defaults are applied when the config loads"
        return self.timeout


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:64] or "check"


def describe_seconds(seconds: float) -> str:
    """`10s`, `1.5s`, `250ms` for reasons like `timed out after 10s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{seconds:.1f}s"
