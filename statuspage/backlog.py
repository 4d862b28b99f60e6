"""Check results kept in memory while the database is briefly unavailable.

A scheduler must not crash, nor forget what it saw, because the database
blinked (a PostgreSQL failover, a SQLite file locked past its busy
timeout). A result that cannot be written is kept, in order, and written
when the database answers again: on the next result, or on the periodic
`flush`. The backlog is bounded: past `limit` results the oldest are
dropped, counted and logged, so an outage of hours cannot eat the memory.

Only connection-level errors are waited out. Any other error is a bug in
this program; the result is logged and dropped, as before, so one bad row
cannot block every other.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from sqlalchemy.exc import InterfaceError, OperationalError

from statuspage.checks.base import CheckResult

log = logging.getLogger(__name__)

# Errors that say "the database is not there right now", not "this is wrong".
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
# About ten minutes of 1,000 checks a minute, a few MB.
DEFAULT_LIMIT = 10_000

Record = Callable[[str, CheckResult], object]


class ResultBacklog:
    """Writes results through `record`, keeping those it cannot write yet.

    `allowed` says whether this process may write at all (it holds the
    scheduler lease); when it may not, kept results are discarded: the
    scheduler that took over writes its own.
    """

    def __init__(
        self,
        record: Record,
        allowed: Callable[[], bool] = lambda: True,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self._record = record
        self._allowed = allowed
        self.limit = limit
        self._pending: deque[tuple[str, CheckResult]] = deque()
        self._lock = threading.Lock()  # guards _pending
        self._flushing = threading.Lock()  # one writer of kept results at a time
        self.dropped = 0
        self.written_late = 0

    def __len__(self) -> int:
        return len(self._pending)

    def record(self, check_id: str, result: CheckResult) -> None:
        """Write `result` now, or keep it behind the results kept before it."""
        if not self._allowed():
            return
        if not self._pending:
            try:
                self._record(check_id, result)
                return
            except TRANSIENT_ERRORS as exc:
                log.warning(
                    "the database is unavailable (%s): keeping results in memory until it is back",
                    type(exc).__name__,
                    extra={"check": check_id},
                )
            except Exception:
                log.exception(
                    "could not record the result of %s", check_id, extra={"check": check_id}
                )
                return
            self._keep(check_id, result)
            return
        self._keep(check_id, result)
        self.flush()

    def _keep(self, check_id: str, result: CheckResult) -> None:
        with self._lock:
            self._pending.append((check_id, result))
            over = len(self._pending) - self.limit
            for _ in range(max(0, over)):
                self._pending.popleft()
            if over > 0:
                first_drop = self.dropped == 0
                self.dropped += over
                if first_drop or self.dropped % 1000 < over:
                    log.error(
                        "the database has been unavailable too long: dropped %d results so far "
                        "(the backlog holds %d)",
                        self.dropped,
                        self.limit,
                    )

    def flush(self) -> int:
        """Write kept results in order until one fails; returns how many
        were written. Another thread already flushing: returns 0 at once."""
        if not self._pending or not self._flushing.acquire(blocking=False):
            return 0
        written = 0
        try:
            if not self._allowed():
                with self._lock:
                    discarded = len(self._pending)
                    self._pending.clear()
                if discarded:
                    log.warning("no longer the scheduler: discarded %d kept results", discarded)
                return 0
            while True:
                with self._lock:
                    if not self._pending:
                        break
                    item = self._pending[0]
                check_id, result = item
                try:
                    self._record(check_id, result)
                except TRANSIENT_ERRORS:
                    break
                except Exception:
                    log.exception(
                        "could not record the result of %s", check_id, extra={"check": check_id}
                    )
                with self._lock:
                    if self._pending and self._pending[0] is item:
                        self._pending.popleft()
                written += 1
        finally:
            self._flushing.release()
        if written:
            self.written_late += written
            log.info(
                "the database is back: wrote %d kept results (%d still kept)",
                written,
                len(self._pending),
            )
        return written
