"""The scheduler lease: one scheduler runs the checks, a standby takes over.

Unit tests of the two leases (PostgreSQL advisory lock, SQLite file lock),
of the leadership loop with a lease the test controls, and the failover
with real processes against the real PostgreSQL: two `statuspage
scheduler`, SIGKILL the leader, the standby takes over in time, and the
results have no duplicates and no gap longer than the takeover.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from statuspage.config import Config, parse_config
from statuspage.leadership import Leadership
from statuspage.lease import FileLease, PostgresLease, lease_for, lock_key
from statuspage.store import Store
from statuspage.store import tables as t
from tests.conftest import _postgres_schema_url
from tests.loopback import Reply, ScriptedServer, scripted_server
from tests.processes import running, spawn
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        s.route("/broken", Reply(500, "down"))
        yield s


# --- SQLite: a file lock, and a second scheduler is refused ------------------


def test_a_file_lease_is_held_by_one_and_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "statuspage.db.scheduler.lock"
    first, second = FileLease(path), FileLease(path)
    assert first.try_acquire()
    assert first.still_held()
    assert not second.try_acquire()
    assert f"pid {__import__('os').getpid()}" in second.holder()
    first.release()
    assert not first.still_held()
    assert second.try_acquire()
    second.release()


def test_the_kernel_frees_a_file_lease_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "db.scheduler.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from statuspage.lease import FileLease;"
            f"lease = FileLease(Path({str(path)!r})); assert lease.try_acquire();"
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        lease = FileLease(path)
        assert not lease.try_acquire()
        assert f"pid {holder.pid}" in lease.holder()
        holder.send_signal(signal.SIGKILL)
        holder.wait(5)
        assert lease.try_acquire()
        lease.release()
    finally:
        holder.kill()
        holder.wait(5)


def test_sqlite_gets_a_file_lease_beside_the_database(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'status.db'}")
    lease = lease_for(store)
    assert isinstance(lease, FileLease)
    assert lease.path == tmp_path / "status.db.scheduler.lock"
    assert not lease.waits
    store.close()


# --- PostgreSQL: an advisory lock on its own connection ----------------------


def test_one_postgres_lease_at_a_time_per_schema(postgres_url: str) -> None:
    first, second = PostgresLease(postgres_url), PostgresLease(postgres_url)
    try:
        assert first.try_acquire()
        assert first.still_held()
        assert not second.try_acquire()
        assert "statuspage scheduler" in second.holder()
        first.release()
        assert not first.still_held()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.close()
        second.close()


def test_leases_of_two_schemas_do_not_meet(postgres_url: str) -> None:
    other = next(_postgres_schema_url())
    a, b = PostgresLease(postgres_url), PostgresLease(other)
    try:
        assert a.try_acquire()
        assert b.try_acquire()
    finally:
        a.close()
        b.close()
    assert lock_key("x", "test", "s1") != lock_key("x", "test", "s2")


def test_a_holder_whose_session_is_cut_knows_it_lost_the_lease(postgres_url: str) -> None:
    holder, standby = PostgresLease(postgres_url), PostgresLease(postgres_url)
    admin = create_engine(postgres_url)
    try:
        assert holder.try_acquire()
        assert holder._conn is not None
        pid = holder._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert wait_for(standby.try_acquire, timeout=5)
        assert not holder.still_held()
        assert not holder.try_acquire()
    finally:
        holder.close()
        standby.close()
        admin.dispose()


# --- the leadership loop, with a lease the test controls ---------------------


class SwitchLease:
    """A lease that is free, taken or lost when the test says so."""

    waits = True
    handover_pause = timedelta(0)

    def __init__(self) -> None:
        self.free = True
        self.mine = False
        self.released = 0

    def try_acquire(self) -> bool:
        if self.free:
            self.free, self.mine = False, True
        return self.mine

    def still_held(self) -> bool:
        return self.mine

    def release(self) -> None:
        if self.mine:
            self.mine, self.free = False, True
        self.released += 1

    def holder(self) -> str:
        return "the test"


def loopback_config(
    server: ScriptedServer, path: str = "/ok", interval: str = "1s", timeout: str = "900ms"
) -> Config:
    return parse_config(
        {
            "scheduler": {"jitter": "0s"},
            "defaults": {"interval": interval, "timeout": timeout},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [{"name": "health", "type": "http", "url": server.url + path}],
                }
            ],
        },
        env={},
    )


def result_count(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(t.check_results)).scalar() or 0)


def test_a_standby_does_nothing_and_a_leader_that_loses_the_lease_stops_at_once(
    server: ScriptedServer, sqlite_store: Store
) -> None:
    lease = SwitchLease()
    lease.free = False  # someone else holds it
    leadership = Leadership(loopback_config(server), sqlite_store, lambda: datetime.now(UTC), lease)
    leadership.start()
    try:
        assert not wait_for(lambda: leadership.leading, timeout=1.5)
        assert server.seen == [] and result_count(sqlite_store) == 0

        lease.free = True  # the other holder died
        assert wait_for(lambda: result_count(sqlite_store) >= 2, timeout=8)
        assert leadership.leading

        lease.mine = False  # the lease is gone (its session was cut)
        assert wait_for(lambda: not leadership.leading, timeout=3)
        requests, results = len(server.seen), result_count(sqlite_store)
        threading.Event().wait(2.5)
        assert len(server.seen) == requests
        assert result_count(sqlite_store) == results
    finally:
        leadership.stop(timedelta(seconds=2))


def test_a_run_that_finishes_after_the_lease_was_lost_writes_nothing(
    server: ScriptedServer, sqlite_store: Store
) -> None:
    # Slower than the leader takes to notice the loss (it verifies every second).
    server.route("/slow", Reply(200, "ok", delay=2.5))
    lease = SwitchLease()
    config = loopback_config(server, "/slow", interval="10s", timeout="5s")
    leadership = Leadership(config, sqlite_store, lambda: datetime.now(UTC), lease)
    leadership.start()
    try:
        # The first run is on its way to the slow endpoint; the lease goes.
        assert wait_for(lambda: len(server.seen) == 1, timeout=5)
        lease.mine = False
        assert wait_for(lambda: not leadership.leading, timeout=3)
        threading.Event().wait(2.5)  # the slow answer arrives meanwhile
        assert result_count(sqlite_store) == 0
    finally:
        leadership.stop(timedelta(seconds=2))


# --- real processes -------------------------------------------------------------

INTERVAL_S = 4.0


def write_config(tmp_path: Path, server: ScriptedServer) -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        "site: {title: Failover}\n"
        "scheduler: {jitter: 0s}\n"
        f"defaults: {{interval: {INTERVAL_S:g}s, timeout: 1s, confirm_down: 1, confirm_up: 1}}\n"
        "components:\n"
        f"  - {{id: api, name: API, checks: [{{name: health, type: http, url: '{server.url}/ok'}}]}}\n"
        f"  - {{id: web, name: Web, checks: [{{name: home, type: http, url: '{server.url}/ok'}}]}}\n"
        f"  - {{id: pay, name: Payments, checks: [{{name: canary, type: http, url: '{server.url}/broken'}}]}}\n"
    )
    return path


def results_by_check(store: Store) -> dict[str, list[datetime]]:
    r = t.check_results
    found: dict[str, list[datetime]] = {}
    with store.transaction() as conn:
        for check_id, at in conn.execute(select(r.c.check_id, r.c.at).order_by(r.c.at)):
            found.setdefault(check_id, []).append(at)
    return found


@pytest.mark.slow
def test_the_standby_takes_over_when_the_leader_is_killed(
    tmp_path: Path, server: ScriptedServer, postgres_url: str
) -> None:
    config = write_config(tmp_path, server)
    env = {"DATABASE_URL": postgres_url}
    args = ["scheduler", "--config", str(config)]
    with running(args, tmp_path, "a", env) as a:
        assert a.wait_log("running 3 checks as the scheduler", timeout=30), a.log()
        with running(args, tmp_path, "b", env) as b:
            assert b.wait_log("standing by", timeout=30), b.log()
            both_since = datetime.now(UTC)
            threading.Event().wait(3 * INTERVAL_S)
            a.popen.send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            a.popen.wait(5)
            assert b.wait_log("running 3 checks as the scheduler", timeout=3 * INTERVAL_S), b.log()
            threading.Event().wait(3 * INTERVAL_S)
            assert b.stop() == 0, b.log()

    store = Store(postgres_url)
    try:
        results = results_by_check(store)
        with store.transaction() as conn:
            incidents = conn.execute(select(func.count()).select_from(t.incidents)).scalar()
            beats = conn.execute(select(t.heartbeats.c.at)).scalars().all()
            events = conn.execute(
                select(t.outbox_events.c.kind, t.outbox_events.c.payload)
            ).all()
    finally:
        store.close()

    assert set(results) == {"api/health", "web/home", "pay/canary"}
    takeover = timedelta(0)
    for check_id, times in results.items():
        after = [at for at in times if at > killed_at]
        assert after, f"{check_id} has no result after the failover"
        takeover = max(takeover, after[0] - killed_at)
        # While both ran, only one of them ran checks: one result an interval.
        window = [at for at in times if both_since <= at <= killed_at]
        window_s = (killed_at - both_since).total_seconds()
        assert len(window) <= window_s // INTERVAL_S + 1, (check_id, window)
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        # No duplicate: never two results of one check closer than the
        # handover pause (checks run an interval apart, jitter off).
        assert min(gaps) >= 1.5, (check_id, gaps)
        assert max(gaps) <= takeover.total_seconds() + INTERVAL_S + 0.5, (check_id, gaps)
    assert takeover <= timedelta(seconds=2 * INTERVAL_S), takeover
    # The payments outage opened one incident, not one per scheduler, and
    # subscribers are told of it once: no notification is written twice.
    assert incidents == 1
    assert [kind for kind, _ in events].count("incident.created") == 1
    assert len(events) == len(set(events)), events
    assert beats and max(beats) > killed_at


def test_a_second_scheduler_on_one_sqlite_database_is_refused(
    tmp_path: Path, server: ScriptedServer
) -> None:
    config = write_config(tmp_path, server)
    env = {"DATABASE_URL": ""}
    with running(["scheduler", "--config", str(config)], tmp_path, "first", env) as first:
        assert first.wait_log("running 3 checks as the scheduler", timeout=30), first.log()
        second = spawn(["scheduler", "--config", str(config)], tmp_path, "second", env)
        assert second.popen.wait(30) == 1
        assert f"pid {first.pid}" in second.log()
        assert "another scheduler is running on this database" in second.log()
        # `run` is refused the same way, before it serves anything.
        third = spawn(
            ["run", "--config", str(config), "--port", str(free_port())], tmp_path, "third", env
        )
        assert third.popen.wait(30) == 1
        assert f"pid {first.pid}" in third.log()
        assert "serving" not in third.log()
        assert first.alive()
        assert first.stop() == 0
