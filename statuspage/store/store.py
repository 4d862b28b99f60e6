"""The store: one object, handed around by the app factory, that owns the
database engine and the queries. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from statuspage.checks.base import CheckResult
from statuspage.checks.heartbeat import Pings
from statuspage.domain import ComponentStatus
from statuspage.state import RESTART_REASON, CheckState
from statuspage.store import tables as t
from statuspage.store.outbox import EventKind, enqueue
from statuspage.uptime import BAR_DAYS, DayRollup, Transition, UptimeBar, uptime_bar

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
UNKNOWN = ComponentStatus.UNKNOWN.value
ROLLUP_COLUMNS = {status: f"{status.value}_s" for status in ComponentStatus}


@dataclass(frozen=True)
class ComponentRow:
    id: str
    name: str
    description: str
    group_name: str | None
    position: int
    status: ComponentStatus
    status_since: datetime
    status_reason: str


@dataclass(frozen=True)
class CheckRow:
    id: str
    component_id: str
    name: str
    type: str
    interval_s: float
    state: CheckState
    last_result_at: datetime | None
    last_result_status: ComponentStatus | None
    last_result_reason: str | None
    last_latency_ms: float | None
    last_value: float | None


PG_CONNECT_TIMEOUT_S = 5


def create_db_engine(url: str) -> Engine:
    """An engine with the settings each backend needs to be safe.

    SQLite: WAL (readers do not block the writer), foreign keys on, a busy
    timeout so a brief lock waits instead of failing, synchronous=NORMAL
    (safe with WAL: a power cut may lose the last commits, never corrupt).
    """
    parsed = make_url(url)
    if parsed.drivername.startswith("postgresql") and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database host that stops answering must not hang a request (or
    # /readyz) for the kernel's TCP timeout: give up on a connection after
    # a few seconds, unless the URL says otherwise.
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """Queries and writes. Methods that write take a connection from
    `transaction()` so one change (a result, the state it moved, the
    transition it caused) commits together or not at all."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- schema --------------------------------------------------------

    def _alembic(self, conn: Connection) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg

    def upgrade(self) -> None:
        """Apply pending migrations (forward only)."""
        with self.engine.begin() as conn:
            command.upgrade(self._alembic(conn), "head")

    def pending_migrations(self) -> bool:
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            head = ScriptDirectory.from_config(self._alembic(conn)).get_current_head()
        return current != head

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # --- components and checks -----------------------------------------

    def sync_components(
        self, conn: Connection, components: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        """Make the components and checks tables match the config.

        `components` holds dicts with id, name, description, group_name and
        checks (dicts with id, name, type, interval_s). New rows start
        `unknown`; removed ones are kept (their history stays) but inactive.
        """
        conn.execute(update(t.components).values(active=False))
        conn.execute(update(t.checks).values(active=False))
        waiting = {
            "reason": "waiting for the first check result",
            "status": ComponentStatus.UNKNOWN.value,
        }
        for position, c in enumerate(components):
            _upsert(
                conn,
                t.components,
                key={"id": c["id"]},
                values={
                    "name": c["name"],
                    "description": c["description"],
                    "group_name": c["group_name"],
                    "position": position,
                    "active": True,
                },
                on_insert={"status": UNKNOWN, "status_since": now, "status_reason": RESTART_REASON},
            )
            for check_position, k in enumerate(c["checks"]):
                _upsert(
                    conn,
                    t.checks,
                    key={"id": k["id"]},
                    values={
                        "component_id": c["id"],
                        "name": k["name"],
                        "type": k["type"],
                        "interval_s": k["interval_s"],
                        "position": check_position,
                        "active": True,
                    },
                    on_insert={
                        "status": waiting["status"],
                        "since": now,
                        "reason": waiting["reason"],
                    },
                )

    def components(self, conn: Connection | None = None) -> list[ComponentRow]:
        query = select(t.components).where(t.components.c.active).order_by(t.components.c.position)
        with self._reader(conn) as c:
            return [_component_row(r) for r in c.execute(query)]

    def component(self, component_id: str, conn: Connection | None = None) -> ComponentRow | None:
        query = select(t.components).where(t.components.c.active, t.components.c.id == component_id)
        with self._reader(conn) as c:
            row = c.execute(query).first()
        return _component_row(row) if row else None

    def checks(
        self, component_id: str | None = None, conn: Connection | None = None
    ) -> list[CheckRow]:
        query = select(t.checks).where(t.checks.c.active)
        if component_id is not None:
            query = query.where(t.checks.c.component_id == component_id)
        query = query.order_by(t.checks.c.component_id, t.checks.c.position)
        with self._reader(conn) as c:
            return [_check_row(r) for r in c.execute(query)]

    def set_component_status(
        self,
        conn: Connection,
        component_id: str,
        status: ComponentStatus,
        since: datetime,
        reason: str,
    ) -> None:
        conn.execute(
            update(t.components)
            .where(t.components.c.id == component_id)
            .values(status=status.value, status_since=since, status_reason=reason)
        )

    def set_check_state(self, conn: Connection, check_id: str, state: CheckState) -> None:
        conn.execute(
            update(t.checks)
            .where(t.checks.c.id == check_id)
            .values(
                status=state.status.value,
                since=state.since,
                reason=state.reason,
                last_data_at=state.last_data_at,
                next_change_at=state.next_change_at,
            )
        )

    # --- results -------------------------------------------------------

    def insert_result(self, conn: Connection, check_id: str, result: CheckResult) -> None:
        conn.execute(
            insert(t.check_results).values(
                check_id=check_id,
                at=result.at,
                status=result.status.value,
                reason=result.reason,
                latency_ms=result.latency_ms,
                value=result.value,
            )
        )
        conn.execute(
            update(t.checks)
            .where(t.checks.c.id == check_id)
            .values(
                last_result_at=result.at,
                last_result_status=result.status.value,
                last_result_reason=result.reason,
                last_latency_ms=result.latency_ms,
                last_value=result.value,
            )
        )

    def recent_results(
        self, conn: Connection, check_id: str, limit: int, since: datetime | None = None
    ) -> list[CheckResult]:
        """The newest `limit` results of a check, oldest first."""
        query = select(t.check_results).where(t.check_results.c.check_id == check_id)
        if since is not None:
            query = query.where(t.check_results.c.at >= since)
        query = query.order_by(t.check_results.c.at.desc(), t.check_results.c.id.desc()).limit(
            limit
        )
        rows = list(conn.execute(query))
        return [_result(r) for r in reversed(rows)]

    def results_for_state(
        self,
        conn: Connection,
        check_id: str,
        with_data: int,
        since: datetime | None,
        cap: int = 500,
    ) -> list[CheckResult]:
        """The results the state engine needs, oldest first: everything from
        the `with_data`-th newest result that carried data onwards. Results
        without data are transparent to confirmation, so a fixed count of
        the newest rows could cut a confirming run short."""
        r = t.check_results
        where = [r.c.check_id == check_id]
        if since is not None:
            where.append(r.c.at >= since)
        cutoff = conn.execute(
            select(r.c.at)
            .where(*where, r.c.status != ComponentStatus.UNKNOWN.value)
            .order_by(r.c.at.desc(), r.c.id.desc())
            .offset(with_data - 1)
            .limit(1)
        ).scalar()
        if cutoff is not None:
            where.append(r.c.at >= cutoff)
        query = select(r).where(*where).order_by(r.c.at.desc(), r.c.id.desc()).limit(cap)
        return [_result(row) for row in reversed(list(conn.execute(query)))]

    def results_between(self, check_id: str, start: datetime, end: datetime) -> list[CheckResult]:
        query = (
            select(t.check_results)
            .where(
                t.check_results.c.check_id == check_id,
                t.check_results.c.at >= start,
                t.check_results.c.at < end,
            )
            .order_by(t.check_results.c.at)
        )
        with self._reader(None) as c:
            return [_result(r) for r in c.execute(query)]

    # --- transitions and rollups --------------------------------------

    def insert_transition(
        self, conn: Connection, component_id: str, transition: Transition, recorded_at: datetime
    ) -> None:
        """Store a status change and, for subscribers who asked for
        component updates, its outbox event (same transaction). Changes to
        or from `unknown` are monitoring's own trouble, not the service's:
        the page's banner shows them, subscribers are not told."""
        result = conn.execute(
            insert(t.transitions).values(
                component_id=component_id,
                at=transition.at,
                old_status=transition.old.value if transition.old else None,
                new_status=transition.new.value,
                reason=transition.reason,
                recorded_at=recorded_at,
            )
        )
        old, new = transition.old, transition.new
        if old is None or ComponentStatus.UNKNOWN in (old, new):
            return
        key = result.inserted_primary_key
        payload = {
            "component_id": component_id,
            "transition_id": key[0] if key else None,
            "old_status": old.value,
            "new_status": new.value,
            "at": transition.at.isoformat(),
        }
        enqueue(conn, EventKind.COMPONENT_UPDATED, payload, recorded_at, [component_id])

    def transitions(
        self,
        component_id: str,
        since: datetime | None = None,
        limit: int | None = None,
        conn: Connection | None = None,
        newest_first: bool = False,
    ) -> list[Transition]:
        """Transitions of a component; with `since`, also the last one before
        it (it gives the status at `since`)."""
        tr = t.transitions
        query = select(tr).where(tr.c.component_id == component_id)
        with self._reader(conn) as c:
            if since is not None:
                before = c.execute(
                    query.where(tr.c.at < since).order_by(tr.c.at.desc(), tr.c.id.desc()).limit(1)
                ).first()
                rows = list(c.execute(query.where(tr.c.at >= since).order_by(tr.c.at, tr.c.id)))
                if before is not None:
                    rows.insert(0, before)
            else:
                order = (tr.c.at.desc(), tr.c.id.desc()) if newest_first else (tr.c.at, tr.c.id)
                q = query.order_by(*order)
                if limit:
                    q = q.limit(limit)
                rows = list(c.execute(q))
        return [_transition(r) for r in rows]

    def upsert_rollups(
        self, conn: Connection, component_id: str, rollups: Sequence[DayRollup], now: datetime
    ) -> None:
        """Write daily rollups, and the component's uptime bar of the
        `BAR_DAYS` days up to the newest day written (today, for every
        writer), in the caller's transaction."""
        for rollup in rollups:
            values = {
                col: rollup.seconds.get(status, 0.0) for status, col in ROLLUP_COLUMNS.items()
            }
            _upsert(
                conn,
                t.daily_rollups,
                key={"component_id": component_id, "day": rollup.day},
                values={"updated_at": now, **values},
            )
        if not rollups:
            return
        last_day = max(r.day for r in rollups)
        first_day = last_day - timedelta(days=BAR_DAYS - 1)
        days = self.rollups([component_id], first_day, last_day, conn)[component_id]
        bar = uptime_bar(days, last_day)
        _upsert(
            conn,
            t.uptime_bars,
            key={"component_id": component_id},
            values={
                "last_day": bar.last_day,
                "cells": ",".join(bar.cells),
                "uptime": bar.uptime,
                "no_data_s": bar.no_data_seconds,
                "updated_at": now,
            },
        )

    def uptime_bars(self, component_ids: Sequence[str]) -> dict[str, UptimeBar]:
        """The stored bars of these components (one row each); a component
        whose rollups were never written since the bars exist is absent."""
        b = t.uptime_bars
        query = select(b.c.component_id, b.c.last_day, b.c.cells, b.c.uptime, b.c.no_data_s).where(
            b.c.component_id.in_(component_ids)
        )
        with self._reader(None) as c:
            return {
                component_id: UptimeBar(last_day, tuple(cells.split(",")), uptime, no_data)
                for component_id, last_day, cells, uptime, no_data in c.execute(query)
            }

    def rollups(
        self,
        component_ids: Sequence[str],
        first_day: date,
        last_day: date,
        conn: Connection | None = None,
    ) -> dict[str, list[DayRollup]]:
        r = t.daily_rollups
        statuses = list(ROLLUP_COLUMNS)
        columns = [r.c[ROLLUP_COLUMNS[s]] for s in statuses]
        query = (
            select(r.c.component_id, r.c.day, *columns)
            .where(r.c.component_id.in_(component_ids), r.c.day >= first_day, r.c.day <= last_day)
            .order_by(r.c.day)
        )
        result: dict[str, list[DayRollup]] = {cid: [] for cid in component_ids}
        with self._reader(conn) as c:
            # Plain tuples: this runs for every component and day of the bars.
            for component_id, day, *values in c.execute(query):
                seconds = {s: v for s, v in zip(statuses, values, strict=True) if v}
                result[component_id].append(DayRollup(day, seconds))
        return result

    # --- scheduler bookkeeping -----------------------------------------

    def beat(self, name: str, at: datetime, detail: str = "") -> None:
        with self.engine.begin() as conn:
            _upsert(conn, t.heartbeats, key={"name": name}, values={"at": at, "detail": detail})

    def heartbeat(self, name: str) -> datetime | None:
        with self._reader(None) as c:
            return c.execute(select(t.heartbeats.c.at).where(t.heartbeats.c.name == name)).scalar()

    def record_missed_run(
        self, check_id: str, scheduled_at: datetime, recorded_at: datetime, reason: str
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.missed_runs).values(
                    check_id=check_id,
                    scheduled_at=scheduled_at,
                    recorded_at=recorded_at,
                    reason=reason,
                )
            )

    def missed_runs(self, check_id: str | None = None) -> int:
        query = select(func.count()).select_from(t.missed_runs)
        if check_id is not None:
            query = query.where(t.missed_runs.c.check_id == check_id)
        with self._reader(None) as c:
            return int(c.execute(query).scalar() or 0)

    # --- heartbeat checks -------------------------------------------------

    def set_heartbeat_token(self, check_id: str, token_hash: str, now: datetime) -> None:
        """Give a heartbeat check a (new) token; the old one stops working."""
        with self.engine.begin() as conn:
            _upsert(
                conn,
                t.heartbeat_checks,
                key={"check_id": check_id},
                values={"token_hash": token_hash, "token_created_at": now},
                on_insert={"pings": 0},
            )

    def has_heartbeat_token(self, check_id: str, token_hash: str | None = None) -> bool:
        h = t.heartbeat_checks
        query = select(h.c.check_id).where(h.c.check_id == check_id)
        if token_hash is not None:
            query = query.where(h.c.token_hash == token_hash)
        with self._reader(None) as c:
            return c.execute(query).first() is not None

    def record_ping(self, token_hash: str, at: datetime, failed: bool = False) -> str | None:
        """Note a ping; returns the check id, or None for an unknown token."""
        h = t.heartbeat_checks
        column = "last_fail_at" if failed else "last_ping_at"
        with self.engine.begin() as conn:
            row = conn.execute(
                update(h)
                .where(h.c.token_hash == token_hash)
                .values({column: at, "pings": h.c.pings + 1})
                .returning(h.c.check_id)
            ).first()
        return row.check_id if row else None

    def pings(self, check_id: str) -> Pings | None:
        h = t.heartbeat_checks
        with self._reader(None) as c:
            row = c.execute(select(h).where(h.c.check_id == check_id)).first()
        if row is None:
            return None
        return Pings(row.last_ping_at, row.last_fail_at, watching_since=row.token_created_at)

    @contextlib.contextmanager
    def _reader(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.connect() as c:
                yield c


def _upsert(
    conn: Connection,
    table: Table,
    key: dict[str, Any],
    values: dict[str, Any],
    on_insert: dict[str, Any] | None = None,
) -> None:
    """Insert a row or update the existing one, in one statement (no race
    between two writers that both see no row). `on_insert` values are set
    only on a new row."""
    dialect = conn.dialect.name
    module = sqlite if dialect == "sqlite" else postgresql
    statement = module.insert(table).values(**key, **values, **(on_insert or {}))
    conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


def _component_row(r: Any) -> ComponentRow:
    return ComponentRow(
        id=r.id,
        name=r.name,
        description=r.description,
        group_name=r.group_name,
        position=r.position,
        status=ComponentStatus(r.status),
        status_since=r.status_since,
        status_reason=r.status_reason,
    )


def _check_row(r: Any) -> CheckRow:
    return CheckRow(
        id=r.id,
        component_id=r.component_id,
        name=r.name,
        type=r.type,
        interval_s=r.interval_s,
        state=CheckState(
            status=ComponentStatus(r.status),
            since=r.since,
            reason=r.reason,
            last_data_at=r.last_data_at,
            next_change_at=r.next_change_at,
        ),
        last_result_at=r.last_result_at,
        last_result_status=ComponentStatus(r.last_result_status) if r.last_result_status else None,
        last_result_reason=r.last_result_reason,
        last_latency_ms=r.last_latency_ms,
        last_value=r.last_value,
    )


def _result(r: Any) -> CheckResult:
    return CheckResult(
        at=r.at,
        status=ComponentStatus(r.status),
        reason=r.reason,
        latency_ms=r.latency_ms,
        value=r.value,
    )


def _transition(r: Any) -> Transition:
    return Transition(
        at=r.at,
        old=ComponentStatus(r.old_status) if r.old_status else None,
        new=ComponentStatus(r.new_status),
        reason=r.reason,
    )
