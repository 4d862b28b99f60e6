"""Runs the checks while this process holds the scheduler lease.

A `Leadership` takes the lease if it can, starts the monitor and the check
scheduler, and keeps verifying the lease; a standby keeps trying to take
it. A holder that loses the lease stops at once: its scheduler is shut down
without waiting and fenced, so a run that was already going writes nothing
(the new holder writes its own). On `stop` (SIGTERM) the running checks
get until a deadline to finish and be recorded, then the lease is released.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from statuspage.clock import Clock
from statuspage.config import Config
from statuspage.lease import POLL_EVERY, VERIFY_EVERY, Lease, SchedulerAlreadyRunning, whoami
from statuspage.metrics import SchedulerMetrics
from statuspage.monitor import Monitor, watched_checks
from statuspage.retention import prune
from statuspage.scheduler import CheckScheduler
from statuspage.store import Store

log = logging.getLogger(__name__)

# SIGTERM: running checks get this long to finish and be recorded.
SHUTDOWN_DEADLINE = timedelta(seconds=10)
# A holder that could not start (the database is down) tries again after this.
RETRY_START_AFTER = timedelta(seconds=5)
# The retention job: first a minute after taking the lease, then hourly.
RETENTION_EVERY = timedelta(hours=1)
RETENTION_FIRST_IN = timedelta(minutes=1)


@dataclass
class Term:
    """One stretch of holding the lease, with its own monitor and scheduler."""

    monitor: Monitor
    scheduler: CheckScheduler
    fenced: threading.Event = field(default_factory=threading.Event)


class Leadership:
    """The scheduler side of a process: leader or standby."""

    def __init__(self, config: Config, store: Store, clock: Clock, lease: Lease) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.lease = lease
        # One set of scheduler metrics for the life of the process, whatever
        # the terms: a web app registers it once.
        self.metrics = SchedulerMetrics(w.id for w in watched_checks(config))
        self.term: Term | None = None
        self.terms = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_holder: str | None = None
        # True when `stop` gave up on checks still running at its deadline:
        # their pool threads would hold the interpreter's exit until their
        # own deadline, so the process should end with os._exit.
        self.abandoned = False

    @property
    def leading(self) -> bool:
        return self.term is not None and not self.term.fenced.is_set()

    def start(self) -> None:
        """Take the lease now if it is free (and start the checks before
        returning), then keep watching it, or waiting for it, in a thread.

        Raises `SchedulerAlreadyRunning` when another process holds a lease
        that has no standbys (SQLite)."""
        if self.lease.try_acquire():
            log.info("took the scheduler lease (%s)", whoami())
            try:
                if not self._stopping.wait(self.lease.handover_pause.total_seconds()):
                    self._lead()
            except Exception:
                self._halt()
                self.lease.release()
                raise
        elif not self.lease.waits:
            raise SchedulerAlreadyRunning(
                f"another scheduler is running on this database ({self.lease.holder()}); "
                "stop it first. SQLite has one scheduler: for a standby use PostgreSQL"
            )
        else:
            self._note_standby()
        self._thread = threading.Thread(target=self._loop, name="leadership", daemon=True)
        self._thread.start()

    def _lead(self) -> None:
        monitor = Monitor(self.config, self.store, self.clock)
        monitor.start()
        scheduler = CheckScheduler(self.config, monitor, self.clock, metrics=self.metrics)
        term = Term(monitor, scheduler)
        scheduler.may_write = lambda: not term.fenced.is_set()
        # Set before starting: a failure from here on is halted by the caller.
        self.term = term
        scheduler.start()
        scheduler.add_periodic(
            lambda: self._prune(term), RETENTION_EVERY, "retention", first_in=RETENTION_FIRST_IN
        )
        self.terms += 1
        log.info("running %d checks as the scheduler", len(monitor.checks))

    def _prune(self, term: Term) -> None:
        if term.fenced.is_set():
            return
        prune(
            self.store,
            self.config.retention,
            self.clock(),
            keep_going=lambda: not term.fenced.is_set(),
        )

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self.term is not None:
                if self._stopping.wait(VERIFY_EVERY.total_seconds()):
                    return
                if not self.lease.still_held():
                    log.error("lost the scheduler lease: stopped the checks at once")
                    self._halt()
                    self.lease.release()
                continue
            if not self.lease.try_acquire():
                self._note_standby()
                self._stopping.wait(POLL_EVERY.total_seconds())
                continue
            log.info("took the scheduler lease (%s)", whoami())
            if self._stopping.wait(self.lease.handover_pause.total_seconds()):
                return
            try:
                self._lead()
            except Exception as exc:
                log.error(
                    "could not start the checks (%s); retrying in %ds",
                    type(exc).__name__,
                    RETRY_START_AFTER.total_seconds(),
                    exc_info=True,
                )
                self._halt()
                self.lease.release()
                self._stopping.wait(RETRY_START_AFTER.total_seconds())

    def _note_standby(self) -> None:
        holder = self.lease.holder()
        if holder != self._last_holder:
            log.info("standing by: the scheduler lease is held by %s", holder)
            self._last_holder = holder

    def _halt(self) -> None:
        """Stop at once: no new run starts, and no running one writes."""
        term, self.term = self.term, None
        if term is None:
            return
        term.fenced.set()
        term.scheduler.shutdown(wait=False)

    def stop(self, deadline: timedelta = SHUTDOWN_DEADLINE) -> None:
        """Let the running checks finish (up to `deadline`), then release
        the lease. Safe to call more than once."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=VERIFY_EVERY.total_seconds() + 5)
        term = self.term
        if term is not None:
            finisher = threading.Thread(target=term.scheduler.shutdown, kwargs={"wait": True})
            finisher.start()
            finisher.join(deadline.total_seconds())
            if finisher.is_alive():
                self.abandoned = True
                log.warning(
                    "checks still running after %ds: stopping without their results",
                    deadline.total_seconds(),
                )
            else:
                term.scheduler.backlog.flush()
            self._halt()
        self.lease.release()
        close = getattr(self.lease, "close", None)
        if close is not None:
            close()
