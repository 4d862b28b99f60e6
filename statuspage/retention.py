"""Data that stays small: the retention job.

Raw check results are kept for `retention.results` (7 days by default),
missed runs for `retention.missed_runs` (30 days) and daily rollups for
`retention.rollups` (400 days, never less). Transitions, incidents,
maintenance and the audit log are the history and are never deleted.

The scheduler that holds the lease runs `prune` every hour. It deletes in
small batches, each its own short transaction, walking each check's rows
through the `(check_id, at)` index that already exists:

    SELECT id FROM check_results
    WHERE check_id = :check AND at < :cutoff ORDER BY at LIMIT 5000;
    DELETE FROM check_results WHERE id IN (<those ids>);

so no statement scans the table, no lock is held for long, and a writer
(SQLite has one at a time) waits at most one batch. Rendering never reads
raw results older than a day, so deleting them changes nothing on the page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Select, Table, bindparam, delete, select

from statuspage.ops_settings import RetentionSettings
from statuspage.store import Store
from statuspage.store import tables as t

log = logging.getLogger(__name__)

BATCH_ROWS = 5000
# Between two batches: room for the writers, which SQLite serializes.
PAUSE_BETWEEN_BATCHES = timedelta(milliseconds=20)


@dataclass(frozen=True)
class PruneReport:
    results: int
    missed_runs: int
    rollups: int
    batches: int
    seconds: float


def prune(
    store: Store,
    settings: RetentionSettings,
    now: datetime,
    batch: int = BATCH_ROWS,
    pause: timedelta = PAUSE_BETWEEN_BATCHES,
    keep_going: Callable[[], bool] = lambda: True,
) -> PruneReport:
    """Delete what is past its retention, in batches of at most `batch`
    rows. `keep_going` is asked between batches (a scheduler that lost its
    lease, or is stopping, stops here)."""
    started = time.monotonic()
    pruner = _Pruner(store, batch, pause.total_seconds(), keep_going)
    with store.transaction() as conn:
        check_ids = [row[0] for row in conn.execute(select(t.checks.c.id).order_by(t.checks.c.id))]
        missed_ids = [row[0] for row in conn.execute(select(t.missed_runs.c.check_id).distinct())]
        component_ids = [row[0] for row in conn.execute(select(t.components.c.id))]
    results = pruner.by_key(
        t.check_results,
        t.check_results.c.check_id,
        t.check_results.c.at,
        check_ids,
        now - settings.results,
    )
    missed = pruner.by_key(
        t.missed_runs,
        t.missed_runs.c.check_id,
        t.missed_runs.c.scheduled_at,
        missed_ids,
        now - settings.missed_runs,
    )
    rollups = pruner.rollups(component_ids, (now - settings.rollups).date())
    report = PruneReport(results, missed, rollups, pruner.batches, time.monotonic() - started)
    if results or missed or rollups:
        log.info(
            "retention: deleted %d check results, %d missed runs and %d daily rollups "
            "in %d batches (%.1fs)",
            results,
            missed,
            rollups,
            report.batches,
            report.seconds,
        )
    return report


class _Pruner:
    def __init__(
        self, store: Store, batch: int, pause_s: float, keep_going: Callable[[], bool]
    ) -> None:
        self.store = store
        self.batch = batch
        self.pause_s = pause_s
        self.keep_going = keep_going
        self.batches = 0

    def by_key(
        self, table: Table, key: Column, at: Column, keys: list[str], cutoff: datetime
    ) -> int:
        """Delete rows older than `cutoff`, key by key, batch by batch."""
        deleted = 0
        for value in keys:
            while self.keep_going():
                oldest = (
                    select(table.c.id)
                    .where(key == value, at < cutoff)
                    .order_by(at)
                    .limit(self.batch)
                )
                count = self._delete_ids(table, oldest)
                deleted += count
                if count < self.batch:
                    break
        return deleted

    def _delete_ids(self, table: Table, ids_query: Select[Any]) -> int:
        """Find a batch through the index, then delete it by primary key.
        (`DELETE ... WHERE id IN (subquery)` lets PostgreSQL choose a hash
        join over the whole table: a full scan per batch.)"""
        with self.store.transaction() as conn:
            ids = list(conn.execute(ids_query).scalars())
            if ids:
                # Inlined integers: no limit on bound parameters (SQLite).
                conn.execute(
                    delete(table).where(
                        table.c.id.in_(bindparam("ids", expanding=True, literal_execute=True))
                    ),
                    {"ids": ids},
                )
        self.batches += 1
        if ids and self.pause_s:
            time.sleep(self.pause_s)
        return len(ids)

    def rollups(self, component_ids: list[str], first_kept: date) -> int:
        r = t.daily_rollups
        deleted = 0
        for component_id in component_ids:
            if not self.keep_going():
                break
            deleted += self._delete(
                delete(r).where(r.c.component_id == component_id, r.c.day < first_kept)
            )
        return deleted

    def _delete(self, statement: Any) -> int:
        with self.store.transaction() as conn:
            count = conn.execute(statement).rowcount
        self.batches += 1
        if count and self.pause_s:
            time.sleep(self.pause_s)
        return int(count or 0)
