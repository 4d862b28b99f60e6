"""APScheduler jobs: every check on its interval, in a bounded pool.

A check that hangs is cut at its deadline and never delays the others: each
run happens in its own daemon thread, and the pool worker waits for it only
until the check's timeout (plus a little grace). A run that could not start
on time (the previous one still running, or the process was too busy) is
recorded as a missed run, not silently dropped.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from statuspage.backlog import ResultBacklog
from statuspage.checks import CheckContext, CheckResult, run_check
from statuspage.checks.base import describe_seconds
from statuspage.clock import Clock
from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.metrics import SchedulerMetrics
from statuspage.monitor import Monitor, WatchedCheck
from statuspage.store import Store

log = logging.getLogger(__name__)

# Extra time past a check's own timeout before the scheduler gives up on it.
DEADLINE_GRACE = timedelta(seconds=1)
TICK = timedelta(seconds=1)
HEARTBEAT_EVERY = timedelta(seconds=5)
ROLLUP_EVERY = timedelta(seconds=60)
INCIDENT_TICK = timedelta(seconds=15)
MAINTENANCE_TICK = timedelta(seconds=5)
# A run that waits longer than this for a worker is recorded as late.
LATE_START = timedelta(seconds=1)
# How many checks may start a second when the scheduler starts.
FIRST_RUNS_PER_S = 50
# Results kept while the database was unavailable are retried this often.
BACKLOG_FLUSH_EVERY = timedelta(seconds=2)


def check_context(config: Config, clock: Clock, store: Store | None = None) -> CheckContext:
    return CheckContext(
        now=clock,
        prometheus_url=config.prometheus.url if config.prometheus else None,
        prometheus_headers=dict(config.prometheus.headers) if config.prometheus else {},
        secrets=config.secrets,
        pings=store.pings if store is not None else None,
    )


def run_with_deadline(watched: WatchedCheck, ctx: CheckContext, deadline: timedelta) -> CheckResult:
    """Run a check in its own thread; past the deadline, abandon it and
    report the timeout. The abandoned thread ends on its socket timeouts."""
    started_at = ctx.now()
    box: list[CheckResult] = []
    thread = threading.Thread(
        target=lambda: box.append(run_check(watched.spec, ctx)),
        name=f"check:{watched.id}",
        daemon=True,
    )
    thread.start()
    thread.join(deadline.total_seconds())
    if box:
        return box[0]
    timeout = watched.spec.effective_timeout().total_seconds()
    # A Prometheus check that hangs has no data; an endpoint that hangs is down.
    status = (
        ComponentStatus.UNKNOWN
        if watched.spec.type == "prometheus"  # type: ignore[attr-defined]
        else ComponentStatus(watched.spec.failure_status)
    )
    return CheckResult(started_at, status, f"timed out after {describe_seconds(timeout)}")


class CheckScheduler:
    """Schedules every check of the config, plus the monitor's own ticks."""

    def __init__(
        self,
        config: Config,
        monitor: Monitor,
        clock: Clock,
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.config = config
        self.monitor = monitor
        self.clock = clock
        self.ctx = check_context(config, clock, monitor.store)
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(config.scheduler.workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        # When each check's current run was handed to the pool: a run that
        # waits too long for a free worker is recorded as late.
        self._submitted: dict[str, datetime] = {}
        self.on_result: Callable[[str, CheckResult], None] | None = None
        self.metrics = metrics or SchedulerMetrics(monitor.checks)
        # False once this process lost the scheduler lease: nothing more is
        # written, not even by a run that was already going.
        self.may_write: Callable[[], bool] = lambda: True
        self.backlog = ResultBacklog(monitor.record, allowed=lambda: self.may_write())

    def start(self) -> None:
        now = datetime.now(UTC)
        jitter = self.config.scheduler.jitter.total_seconds()
        # Spread the first runs so they don't all fire at once: over 2 s, or
        # longer with many checks (at most FIRST_RUNS_PER_S a second, within
        # an interval). Checks keep their phase, so a burst at the start
        # would come back every interval.
        spread = max(2.0, len(self.monitor.checks) / FIRST_RUNS_PER_S)
        for watched in self.monitor.checks.values():
            interval = watched.policy.interval.total_seconds()
            first = now + timedelta(seconds=random.uniform(0, min(interval, spread)))
            self._scheduler.add_job(
                self.run_once,
                IntervalTrigger(
                    seconds=interval, jitter=min(jitter, interval / 4) or None, timezone=UTC
                ),
                args=[watched.id],
                id=watched.id,
                name=watched.id,
                next_run_time=first,
                # A run that cannot start within half an interval is missed
                # (recorded), and the next one goes ahead on time.
                misfire_grace_time=max(1, int(interval / 2)),
            )
        self._scheduler.add_job(
            self._tick, IntervalTrigger(seconds=TICK.total_seconds()), id="tick"
        )
        self._scheduler.add_job(
            self.monitor.beat,
            IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
            id="heartbeat",
            next_run_time=now,
        )
        self._scheduler.add_job(
            self._guarded(self.monitor.apply_maintenance),
            IntervalTrigger(seconds=MAINTENANCE_TICK.total_seconds()),
            id="maintenance",
            next_run_time=now,
        )
        self._scheduler.add_job(
            self._guarded(self.monitor.tick_incidents),
            IntervalTrigger(seconds=INCIDENT_TICK.total_seconds()),
            id="incidents",
        )
        self._scheduler.add_job(
            self.monitor.refresh_rollups,
            IntervalTrigger(seconds=ROLLUP_EVERY.total_seconds()),
            id="rollups",
        )
        self._scheduler.add_job(
            self.backlog.flush,
            IntervalTrigger(seconds=BACKLOG_FLUSH_EVERY.total_seconds()),
            id="backlog",
        )
        self._scheduler.start()
        log.info("scheduler started with %d checks", len(self.monitor.checks))

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def add_periodic(
        self, job: Callable[[], None], every: timedelta, job_id: str, first_in: timedelta
    ) -> None:
        """Run `job` every `every` (first after `first_in`), its failures logged."""
        self._scheduler.add_job(
            self._guarded(job),
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            id=job_id,
            next_run_time=datetime.now(UTC) + first_in,
        )

    def run_once(self, check_id: str) -> CheckResult:
        watched = self.monitor.checks[check_id]
        self._note_late_start(watched)
        deadline = watched.spec.effective_timeout() + DEADLINE_GRACE
        started = time.perf_counter()
        result = run_with_deadline(watched, self.ctx, deadline)
        self.metrics.observe_run(check_id, result, time.perf_counter() - started)
        # Written now, or kept in memory while the database is unavailable.
        self.backlog.record(check_id, result)
        if self.on_result is not None:
            self.on_result(check_id, result)
        return result

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        if event.job_id in self.monitor.checks:
            self._submitted[event.job_id] = datetime.now(UTC)

    def _note_late_start(self, watched: WatchedCheck) -> None:
        submitted = self._submitted.pop(watched.id, None)
        if submitted is None:
            return
        late = datetime.now(UTC) - submitted
        self.metrics.observe_lag(late.total_seconds())
        if late > max(LATE_START, watched.policy.interval / 2):
            reason = f"started {describe_seconds(late.total_seconds())} late: all workers were busy"
            log.warning("%s %s", watched.id, reason, extra={"check": watched.id})
            if self.may_write():
                try:
                    self.monitor.store.record_missed_run(
                        watched.id, submitted, self.clock(), reason
                    )
                except Exception:
                    log.exception("could not record a missed run", extra={"check": watched.id})

    @staticmethod
    def _guarded(job: Callable[[], None]) -> Callable[[], None]:
        """A periodic job that logs its failure instead of dying silently."""

        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("%s failed", getattr(job, "__name__", "job"))

        return run

    def _tick(self) -> None:
        try:
            self.monitor.reevaluate()
        except Exception:
            log.exception("re-evaluation failed")

    def _on_missed(self, event: JobExecutionEvent | Any) -> None:
        job_id = event.job_id
        if job_id not in self.monitor.checks:
            return
        reason = (
            "previous run still going"
            if event.code == EVENT_JOB_MAX_INSTANCES
            else "started too late"
        )
        scheduled = getattr(event, "scheduled_run_time", None)
        if scheduled is None:  # a submission event carries a list of them
            scheduled = (getattr(event, "scheduled_run_times", None) or [datetime.now(UTC)])[0]
        log.warning("missed run of %s: %s", job_id, reason, extra={"check": job_id})
        if not self.may_write():
            return
        try:
            self.monitor.store.record_missed_run(job_id, scheduled, self.clock(), reason)
        except Exception:
            log.exception("could not record a missed run")
