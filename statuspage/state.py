"""The state engine: recent results + policy + now -> status. Pure, no I/O.

Rules, in the words the page uses:

* A check's status changes for the worse only after `confirm_down`
  consecutive results at least that bad, and for the better only after
  `confirm_up` consecutive results at least that good. The new status is the
  mildest of the confirming run, and it took effect at the run's first result.
* A check with no confirmed status yet (after a restart, or after it lost its
  data) adopts its newest result at once: any data beats none.
* A check is stale (`unknown`) when no result with data arrived for
  `stale_after` intervals, or when its latest `confirm_down` results all
  carried no data (Prometheus down or returning nothing). Staleness starts
  when the rule says: the deadline, or the first result without data.
* A component's status is the worst of its checks that have fresh data; it
  is `unknown` only when none has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from statuspage.checks.base import CheckResult
from statuspage.domain import ComponentStatus

UNKNOWN = ComponentStatus.UNKNOWN
RESTART_REASON = "waiting for the first check result"


@dataclass(frozen=True)
class Policy:
    interval: timedelta
    confirm_down: int = 2
    confirm_up: int = 2
    stale_after: int = 3

    @property
    def stale_window(self) -> timedelta:
        return self.interval * self.stale_after

    @property
    def window(self) -> int:
        """How many recent results the engine needs to see."""
        return max(self.confirm_down, self.confirm_up)


@dataclass(frozen=True)
class CheckState:
    """A check's confirmed status, and what it is based on."""

    status: ComponentStatus
    since: datetime
    reason: str
    # The newest result that carried data; None when there has been none.
    last_data_at: datetime | None = None
    # When the check will go stale if no result arrives: the time at which
    # the engine must look again even if nothing happens.
    next_change_at: datetime | None = None

    @property
    def fresh(self) -> bool:
        return self.status is not UNKNOWN


def initial_state(now: datetime, reason: str = RESTART_REASON) -> CheckState:
    """The state of every check after a (re)start: no data yet."""
    return CheckState(status=UNKNOWN, since=now, reason=reason)


def derive_check_state(
    previous: CheckState, recent: Sequence[CheckResult], policy: Policy, now: datetime
) -> CheckState:
    """The check's state given its previous state and its recent results
    (oldest first; at least the last `policy.window` of them, more is fine).
    """
    recent = [r for r in recent if r.at <= now]
    with_data = [r for r in recent if r.has_data]
    last_data_at = _latest(previous.last_data_at, with_data[-1].at if with_data else None)

    lost = _lost_data(recent, policy)
    if lost is not None:
        return _unknown(previous, lost.at, lost.reason, last_data_at)
    if last_data_at is None:
        return replace(previous, last_data_at=None, next_change_at=None)
    stale_at = last_data_at + policy.stale_window
    if now >= stale_at:
        reason = stale_reason(last_data_at)
        return _unknown(previous, stale_at, reason, last_data_at)

    newest = with_data[-1] if with_data else None
    status, since, reason = previous.status, previous.since, previous.reason
    if newest is not None:
        if previous.status is UNKNOWN:
            status, since, reason = newest.status, newest.at, newest.reason
        else:
            status, since, reason = _confirmed(previous, with_data, policy)
    return CheckState(status, since, reason, last_data_at, next_change_at=stale_at)


def _confirmed(
    previous: CheckState, with_data: Sequence[CheckResult], policy: Policy
) -> tuple[ComponentStatus, datetime, str]:
    newest = with_data[-1]
    current = previous.status.severity
    if newest.status.severity > current:
        run = with_data[-policy.confirm_down :]
        if len(run) == policy.confirm_down and all(r.status.severity > current for r in run):
            mildest = min(run, key=lambda r: r.status.severity)
            return mildest.status, run[0].at, newest.reason
    elif newest.status.severity < current:
        run = with_data[-policy.confirm_up :]
        if len(run) == policy.confirm_up and all(r.status.severity < current for r in run):
            worst = max(run, key=lambda r: r.status.severity)
            return worst.status, run[0].at, newest.reason
    elif newest.status is previous.status:
        # Same status: keep when it began, show the newest reason.
        return previous.status, previous.since, newest.reason
    return previous.status, previous.since, previous.reason


def stale_reason(last_data_at: datetime | None) -> str:
    return f"no result since {last_data_at:%H:%M:%S} UTC" if last_data_at else "no result"


def as_of(state: CheckState, now: datetime) -> CheckState:
    """The state as time alone leaves it: stale once its deadline passed.

    For readers (the web process) that must not trust a scheduler to have
    written the change: never green while blind."""
    due = state.next_change_at
    if state.status is UNKNOWN or due is None or now < due:
        return state
    return CheckState(UNKNOWN, due, stale_reason(state.last_data_at), state.last_data_at, None)


def _lost_data(recent: Sequence[CheckResult], policy: Policy) -> CheckResult | None:
    """The first of the latest `confirm_down` results when all of them
    carried no data, else None."""
    run = list(recent[-policy.confirm_down :])
    if len(run) < policy.confirm_down or any(r.has_data for r in run):
        return None
    # Walk back to where the run of no-data results began.
    first = run[0]
    for result in reversed(recent[: len(recent) - len(run)]):
        if result.has_data:
            break
        first = result
    return CheckResult(at=first.at, status=UNKNOWN, reason=run[-1].reason)


def _unknown(
    previous: CheckState, since: datetime, reason: str, last_data_at: datetime | None
) -> CheckState:
    if previous.status is UNKNOWN and previous.last_data_at == last_data_at:
        since = previous.since
    return CheckState(UNKNOWN, since, reason, last_data_at, next_change_at=None)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(frozen=True)
class ComponentState:
    status: ComponentStatus
    reason: str


def derive_component_state(checks: Sequence[tuple[str, CheckState]]) -> ComponentState:
    """The worst of the checks that have fresh data; `unknown` when none has.

    `checks` pairs each check's name with its state. A component without
    checks is operational: its status is set by people, not probes.
    """
    if not checks:
        return ComponentState(ComponentStatus.OPERATIONAL, "no automated checks")
    fresh = [(name, state) for name, state in checks if state.fresh]
    if not fresh:
        reasons = "; ".join(f"{name}: {state.reason}" for name, state in checks)
        return ComponentState(UNKNOWN, f"no fresh data ({reasons})")
    name, worst = max(fresh, key=lambda item: item[1].status.severity)
    if worst.status is ComponentStatus.OPERATIONAL:
        return ComponentState(ComponentStatus.OPERATIONAL, "all checks pass")
    return ComponentState(worst.status, f"{name}: {worst.reason}")


def component_change_time(
    changed: Sequence[CheckState], fallback: datetime, not_before: datetime | None
) -> datetime:
    """When a component's change took effect: the latest `since` among the
    checks that changed, never before the component's previous change."""
    at = max((state.since for state in changed), default=fallback)
    if not_before is not None and at < not_before:
        return not_before
    return at


def effective_component_state(
    automated: ComponentState,
    override: tuple[ComponentStatus, str] | None = None,
    maintenance: str | None = None,
) -> ComponentState:
    """What the page shows: a status a person set wins over the checks
    until released (REL-08); a maintenance window covers the checks; the
    checks decide otherwise."""
    if override is not None:
        status, reason = override
        return ComponentState(status, f"set by staff: {reason}" if reason else "set by staff")
    if maintenance is not None:
        return ComponentState(
            ComponentStatus.UNDER_MAINTENANCE, f"scheduled maintenance: {maintenance}"
        )
    return automated
