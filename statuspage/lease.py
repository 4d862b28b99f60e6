"""The scheduler lease: exactly one process runs the checks.

PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) held on a
connection of its own. The server frees it the moment that session ends:
when the process dies (the kernel closes its socket) or when the server
stops hearing from it (TCP keepalives and `tcp_user_timeout`, set to a few
seconds on both ends). Standbys try to take it every `POLL_EVERY`. The
holder asks the server every `VERIFY_EVERY` whether it still holds it, and
stops its checks at once when the answer is no, or does not come.

The key is derived from the database and schema, so several status pages
can share one PostgreSQL server in schemas of their own.

SQLite: an OS file lock (`flock`) on `<database>.scheduler.lock`. SQLite is
for one machine, where a standby gains nothing: a second scheduler on the
same database is refused, naming the process that holds the lock. The
kernel releases the lock when that process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from statuspage.store import Store

log = logging.getLogger(__name__)

# How often a standby tries to take a free lease.
POLL_EVERY = timedelta(seconds=1)
# How often the holder makes sure it still holds it.
VERIFY_EVERY = timedelta(seconds=1)
# A new holder waits this long before its first check, so that a holder that
# lost the lease without noticing at once (its session was cut) has seen it
# at its next verification and stopped: the two never run checks together.
HANDOVER_PAUSE = 2 * VERIFY_EVERY
# Client and server give up on a silent peer after this long.
PEER_TIMEOUT = timedelta(seconds=5)

SCHEDULER_LOCK = "statuspage-scheduler"
MIGRATION_LOCK = "statuspage-migrations"


class SchedulerAlreadyRunning(Exception):
    """Another scheduler holds the lease of a database that has no standbys."""


class Lease(Protocol):
    """What the leadership loop needs from a lease."""

    # True: a standby waits for the lease (PostgreSQL); False: a second
    # scheduler is refused (SQLite).
    waits: bool
    # How long a new holder waits before it starts its checks.
    handover_pause: timedelta

    def try_acquire(self) -> bool:
        """Take the lease if it is free; True when this process holds it."""
        ...

    def still_held(self) -> bool:
        """Whether this process still holds the lease (False on any doubt)."""
        ...

    def release(self) -> None:
        """Give the lease up (a no-op when not held)."""
        ...

    def holder(self) -> str:
        """Who holds the lease, for a person: a pid, host or client name."""
        ...


def lease_for(store: Store) -> Lease:
    """The lease that fits the store's database."""
    url = make_url(store.url)
    if url.get_backend_name() == "postgresql":
        return PostgresLease(store.url)
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return LocalLease()
    return FileLease(Path(f"{url.database}.scheduler.lock"))


def lock_key(name: str, database: str, schema: str) -> int:
    """A signed 64-bit advisory lock key for `name` in one database schema."""
    digest = hashlib.blake2b(f"{name}:{database}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def whoami() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class LocalLease:
    """An in-memory database has one process by definition."""

    waits = False
    handover_pause = timedelta(0)

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def holder(self) -> str:
        return whoami()


class FileLease:
    """`flock` on a file beside the SQLite database."""

    waits = False
    handover_pause = timedelta(0)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held while leading)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(whoami() + "\n")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        # A flock lasts as long as the open file: nothing can take it away.
        return self._file is not None

    def release(self) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.seek(0)
            self._file.truncate()
            self._file.flush()
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def holder(self) -> str:
        try:
            who = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            who = ""
        return who or "another process"


def _keepalive_connect_args() -> dict[str, object]:
    """libpq options: give up on a silent server after `PEER_TIMEOUT`."""
    seconds = int(PEER_TIMEOUT.total_seconds())
    return {
        "connect_timeout": seconds,
        "keepalives": 1,
        "keepalives_idle": max(1, seconds // 2),
        "keepalives_interval": 1,
        "keepalives_count": 2,
        "tcp_user_timeout": seconds * 1000,
        "application_name": f"statuspage scheduler {whoami()}"[:63],
    }


def _lease_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args=_keepalive_connect_args(),
    )


class PostgresLease:
    """A session advisory lock on a dedicated connection."""

    waits = True
    handover_pause = HANDOVER_PAUSE

    def __init__(self, url: str) -> None:
        self.engine = _lease_engine(url)
        self._conn: Connection | None = None
        self._key: int | None = None
        self._held = False

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.engine.connect()
            try:
                database, schema = conn.execute(
                    text("SELECT current_database(), current_schema()")
                ).one()
                # The server's side of the same bargain: a session whose
                # client went silent ends within seconds, freeing the lock.
                seconds = int(PEER_TIMEOUT.total_seconds())
                for setting, value in (
                    ("tcp_keepalives_idle", max(1, seconds // 2)),
                    ("tcp_keepalives_interval", 1),
                    ("tcp_keepalives_count", 2),
                    ("tcp_user_timeout", seconds * 1000),
                ):
                    conn.execute(text(f"SET {setting} = {int(value)}"))
            except Exception:
                conn.close()
                raise
            self._conn = conn
            self._key = lock_key(SCHEDULER_LOCK, database, schema or "public")
        return self._conn

    def _drop_connection(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def try_acquire(self) -> bool:
        if self._held and self.still_held():
            return True
        try:
            conn = self._connection()
            self._held = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
        except Exception as exc:
            log.warning("cannot reach the database for the scheduler lease: %s", _short(exc))
            self._drop_connection()
            return False
        return self._held

    def still_held(self) -> bool:
        if not self._held or self._conn is None or self._key is None:
            return False
        hi, lo = (self._key >> 32) & 0xFFFFFFFF, self._key & 0xFFFFFFFF
        try:
            found = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND granted"
                    " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
                ),
                {"hi": hi, "lo": lo},
            ).scalar()
        except Exception as exc:
            log.error("lost the lease connection: %s", _short(exc))
            self._drop_connection()
            return False
        if found != 1:
            self._drop_connection()
            return False
        return True

    def release(self) -> None:
        if self._held and self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        # Closing the session frees the lock even if the unlock failed.
        self._drop_connection()

    def holder(self) -> str:
        try:
            conn = self._connection()
            assert self._key is not None
            hi, lo = (self._key >> 32) & 0xFFFFFFFF, self._key & 0xFFFFFFFF
            row = conn.execute(
                text(
                    "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1"
                ),
                {"hi": hi, "lo": lo},
            ).first()
        except Exception:
            return "unknown (the database cannot be reached)"
        if row is None:
            return "nobody"
        name, addr, pid = row
        return f"{name or 'a client'} (server pid {pid}{f', from {addr}' if addr else ''})"

    def close(self) -> None:
        self.release()
        self.engine.dispose()


@contextlib.contextmanager
def migration_lock(store: Store) -> Iterator[None]:
    """Hold a lock while migrating, so that processes starting together
    (two schedulers, a web server) do not run the same migration twice.
    PostgreSQL: an advisory lock; SQLite serializes writers on its own."""
    if store.backend != "postgresql":
        yield
        return
    engine = _lease_engine(store.url)
    try:
        with engine.connect() as conn:
            database, schema = conn.execute(
                text("SELECT current_database(), current_schema()")
            ).one()
            key = lock_key(MIGRATION_LOCK, database, schema or "public")
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def migrate(store: Store) -> None:
    """Apply pending migrations under the migration lock."""
    with migration_lock(store):
        store.upgrade()


def _short(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
