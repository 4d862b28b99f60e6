"""`statuspage backup`: a live copy that restores (DATA-05).

SQLite: backed up while another thread writes, restored by pointing a
config at the copy: every row committed before the backup began is there,
the copy is one consistent snapshot (no hole in the ids), and it passes
`PRAGMA integrity_check`. PostgreSQL: `pg_dump`, restored with
`pg_restore` into a fresh database.
"""

from __future__ import annotations

import builtins
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from statuspage.backup import pg_dump_command
from statuspage.cli import main
from statuspage.config import load_config
from statuspage.monitor import component_rows
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.web import create_app
from tests.conftest import POSTGRES_URL, _postgres_schema_url

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def write_config(path: Path, storage: str) -> Path:
    path.write_text(
        "site: {title: Backup Test}\n"
        f"storage: {storage}\n"
        "components:\n"
        "  - {id: api, name: Public API, checks: [{name: health, type: http, url: 'http://api.test/'}]}\n"
    )
    return path


def prepare(store: Store, config_path: Path) -> None:
    store.upgrade()
    with store.transaction() as conn:
        store.sync_components(conn, component_rows(load_config(config_path)), NOW)


def insert_results(store: Store, first: int, count: int) -> None:
    with store.transaction() as conn:
        conn.execute(
            insert(t.check_results),
            [
                {
                    "check_id": "api/health",
                    "at": NOW + timedelta(seconds=n),
                    "status": "operational",
                    "reason": f"result {n}",
                }
                for n in range(first, first + count)
            ],
        )


def integrity(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def test_a_sqlite_backup_taken_during_writes_restores(tmp_path: Path) -> None:
    live = tmp_path / "live" / "statuspage.db"
    config = write_config(tmp_path / "statuspage.yaml", f"{{path: '{live}'}}")
    store = Store(f"sqlite:///{live}")
    prepare(store, config)
    insert_results(store, 0, 20_000)  # a database of some size, so the copy takes a while

    written = [20_000]
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            insert_results(store, written[0], 50)
            written[0] += 50

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        threading.Event().wait(0.2)
        committed_before = written[0]
        out = tmp_path / "backups" / "statuspage-backup.db"
        answer = CliRunner().invoke(main, ["backup", "--config", str(config), "--out", str(out)])
        threading.Event().wait(0.2)
    finally:
        stop.set()
        writer.join(10)
    store.close()
    assert answer.exit_code == 0, answer.output
    assert "sqlite online backup" in answer.output
    assert written[0] > committed_before + 50  # the writer kept going throughout

    # One self-contained, sound file.
    assert integrity(out) == ["ok"]
    assert not Path(f"{out}-wal").exists()
    assert list(out.parent.iterdir()) == [out]

    # Restore: a config that points at the copy.
    restored_config = write_config(tmp_path / "restored.yaml", f"{{url: 'sqlite:///{out}'}}")
    restored = Store(load_config(restored_config).database_url())
    try:
        assert not restored.pending_migrations()
        with restored.transaction() as conn:
            ids = conn.execute(select(t.check_results.c.id).order_by(t.check_results.c.id))
            ids = list(ids.scalars())
        # Everything committed before the backup began, as one snapshot:
        # ids 1..n with no hole, whatever n the copy caught.
        assert len(ids) >= committed_before
        assert ids == list(range(1, len(ids) + 1))
        app = create_app(load_config(restored_config), restored)
        page = app.test_client().get("/")
        assert page.status_code == 200 and "Public API" in page.get_data(as_text=True)
    finally:
        restored.close()


def test_the_backup_never_opens_the_live_file_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "statuspage.db"
    config = write_config(tmp_path / "statuspage.yaml", f"{{path: '{live}'}}")
    store = Store(f"sqlite:///{live}")
    prepare(store, config)
    store.close()
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        assert Path(str(file)).resolve() != live.resolve(), "the live database was open()ed"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    out = tmp_path / "copy.db"
    answer = CliRunner().invoke(main, ["backup", "--config", str(config), "--out", str(out)])
    assert answer.exit_code == 0, answer.output
    assert integrity(out) == ["ok"]


def test_an_existing_backup_is_not_replaced_without_force(tmp_path: Path) -> None:
    live = tmp_path / "statuspage.db"
    config = write_config(tmp_path / "statuspage.yaml", f"{{path: '{live}'}}")
    store = Store(f"sqlite:///{live}")
    prepare(store, config)
    store.close()
    out = tmp_path / "copy.db"
    out.write_text("precious")
    refused = CliRunner().invoke(main, ["backup", "--config", str(config), "--out", str(out)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert out.read_text() == "precious"
    forced = CliRunner().invoke(
        main, ["backup", "--config", str(config), "--out", str(out), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert integrity(out) == ["ok"]


def test_a_missing_sqlite_database_is_named(tmp_path: Path) -> None:
    config = write_config(tmp_path / "statuspage.yaml", f"{{path: '{tmp_path / 'none.db'}'}}")
    answer = CliRunner().invoke(
        main, ["backup", "--config", str(config), "--out", str(tmp_path / "x.db")]
    )
    assert answer.exit_code == 1
    assert "there is no database at" in answer.output


# --- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database to restore into, dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_postgres_backup_restores_with_pg_restore(
    tmp_path: Path,
    postgres_url: str,
    scratch_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path / "statuspage.yaml", "{}")
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    store = Store(postgres_url)
    prepare(store, config)
    insert_results(store, 0, 500)
    store.close()
    out = tmp_path / "statuspage.dump"
    answer = CliRunner().invoke(main, ["backup", "--config", str(config), "--out", str(out)])
    assert answer.exit_code == 0, answer.output
    assert "pg_dump" in answer.output

    target = make_url(postgres_url).set(database=scratch_database)
    libpq = target.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    restored = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={libpq}", str(out)],
        capture_output=True,
        text=True,
    )
    assert restored.returncode == 0, restored.stderr
    # The dump holds the schema of the URL's search_path, by that name.
    store = Store(target.render_as_string(hide_password=False))
    try:
        assert not store.pending_migrations()
        with store.transaction() as conn:
            assert conn.execute(select(func.count()).select_from(t.check_results)).scalar() == 500
        assert [c.name for c in store.components()] == ["Public API"]
    finally:
        store.close()


def test_without_pg_dump_the_command_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "statuspage.yaml", "{}")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://status:s3cret@db.internal/status")
    monkeypatch.setattr("statuspage.backup.shutil.which", lambda name: None)
    answer = CliRunner().invoke(
        main, ["backup", "--config", str(config), "--out", str(tmp_path / "x.dump")]
    )
    assert answer.exit_code == 1
    assert "pg_dump --format=custom" in answer.output
    assert "pg_restore" in answer.output
    assert "s3cret" not in answer.output
    assert not (tmp_path / "x.dump").exists()


def test_the_password_travels_in_the_environment_not_the_command_line(tmp_path: Path) -> None:
    url = (
        "postgresql+psycopg://status:s3cret@db.internal:5433/status?options=-csearch_path%3Dtenant1"
    )
    command, env = pg_dump_command(url, tmp_path / "out.dump")
    assert not any("s3cret" in part for part in command)
    assert env["PGPASSWORD"] == "s3cret"
    assert "--schema=tenant1" in command
    assert any(
        part.startswith("--dbname=postgresql://status@db.internal:5433/status") for part in command
    )
