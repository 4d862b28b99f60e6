"""`statuspage backup`: a consistent copy of the database, taken live.

SQLite: the online backup API (`sqlite3.Connection.backup`), in one step.
With WAL the copy is a snapshot of the last commit when it started, and
writers are not blocked while it runs. The copy is written beside the
target, checked with `PRAGMA integrity_check`, switched to a plain journal
(one self-contained file) and renamed into place, so `--out` is either the
whole backup or absent. The live file is never opened as a file (DATA-05).

PostgreSQL: `pg_dump --format=custom` when `pg_dump` is on the PATH (its
major version must be at least the server's), restricted to the schema in
the URL's `search_path` if there is one; the password travels in
PGPASSWORD, never on the command line. Without pg_dump the command prints
what to run instead and exits 1. For point-in-time recovery, use WAL
archiving (pgBackRest, Barman) or the provider's snapshots; a dump is a
daily safety net, not a replica.

Restore: SQLite, stop the processes and copy the backup over the database
file (remove any `-wal` and `-shm` beside it); or point `storage.url` at the
backup. PostgreSQL: `pg_restore --no-owner --dbname URL FILE` into an empty
database.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_S = 30.0
PG_DUMP_TIMEOUT_S = 3600


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    method: str


def backup(database_url: str, out: Path) -> BackupReport:
    """Back up the database at `database_url` into the file `out`."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory database cannot be backed up")
        return backup_sqlite(Path(url.database), out)
    if backend == "postgresql":
        return backup_postgres(database_url, out)
    raise BackupError(f"no backup method for {backend}")


def _partial(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial-{os.getpid()}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_sqlite(db_path: Path, out: Path) -> BackupReport:
    if not db_path.exists():
        raise BackupError(f"there is no database at {db_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(out)
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(db_path, timeout=SQLITE_BUSY_TIMEOUT_S)
        try:
            target = sqlite3.connect(partial)
            try:
                # One step: the copy is one snapshot; in steps, a write
                # between two of them would restart the copy.
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")
                problems = [row[0] for row in target.execute("PRAGMA integrity_check")]
                if problems != ["ok"]:
                    raise BackupError(
                        "the copy failed its integrity check: " + "; ".join(problems[:5])
                    )
            finally:
                target.close()
        finally:
            source.close()
        with open(partial, "rb") as copy:
            os.fsync(copy.fileno())
        os.replace(partial, out)
        _fsync_dir(out.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {db_path}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(out, out.stat().st_size, "sqlite online backup")


def _search_path_schema(options: str) -> str | None:
    found = re.search(r"search_path\s*=\s*([^\s,]+)", unquote(options))
    return found.group(1).strip('"') if found else None


def pg_dump_command(database_url: str, out: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump command line (no password in it) and its environment."""
    url = make_url(database_url)
    password = url.password
    # `URL.set(password=None)` keeps the password; `_replace` drops it.
    libpq = url.set(drivername="postgresql")._replace(password=None)
    options = url.query.get("options")
    schema = _search_path_schema(options if isinstance(options, str) else "") if options else None
    command = [
        shutil.which("pg_dump") or "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={out}",
    ]
    if schema:
        command.append(f"--schema={schema}")
    command.append(f"--dbname={libpq.render_as_string(hide_password=False)}")
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return command, env


def postgres_guidance(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")._replace(password=None)
    target = url.render_as_string(hide_password=True)
    return (
        "Back up PostgreSQL with its own tools:\n"
        f"  pg_dump --format=custom --no-owner --file=statuspage.dump '{target}'\n"
        "  (restore into an empty database: pg_restore --no-owner --dbname URL statuspage.dump)\n"
        "For point-in-time recovery use WAL archiving (pgBackRest, Barman) or your "
        "provider's snapshots."
    )


def backup_postgres(database_url: str, out: Path) -> BackupReport:
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed here (apt-get install postgresql-client).\n"
            + postgres_guidance(database_url)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(out)
    command, env = pg_dump_command(database_url, partial)
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_S
        )
        if done.returncode != 0:
            raise BackupError(
                f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()}\n"
                + postgres_guidance(database_url)
            )
        with open(partial, "rb") as copy:
            os.fsync(copy.fileno())
        os.replace(partial, out)
        _fsync_dir(out.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(out, out.stat().st_size, "pg_dump --format=custom")
