"""The database briefly unavailable: the scheduler keeps results in memory
(up to a bound), retries, and does not crash.

Unit tests of the backlog with a recorder the test controls, and one with
a real scheduler whose PostgreSQL connections go through a TCP proxy that
the test cuts and restores.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from statuspage.backlog import ResultBacklog
from statuspage.checks.base import CheckResult
from statuspage.clock import utc_now
from statuspage.config import parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.scheduler import CheckScheduler
from statuspage.store import Store
from statuspage.store import tables as t
from tests.conftest import _postgres_schema_url
from tests.loopback import Reply, scripted_server
from tests.support import wait_for

T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)


def result(n: int) -> CheckResult:
    return CheckResult(T0 + timedelta(seconds=n), ComponentStatus.OPERATIONAL, f"run {n}")


class Database:
    """A recorder that is up or down as the test says."""

    def __init__(self) -> None:
        self.up = True
        self.rows: list[tuple[str, str]] = []

    def record(self, check_id: str, r: CheckResult) -> None:
        if not self.up:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        self.rows.append((check_id, r.reason))


def test_results_are_written_at_once_while_the_database_answers() -> None:
    db = Database()
    backlog = ResultBacklog(db.record)
    backlog.record("api/health", result(1))
    assert db.rows == [("api/health", "run 1")]
    assert len(backlog) == 0


def test_results_wait_in_order_and_are_written_when_the_database_is_back() -> None:
    db = Database()
    backlog = ResultBacklog(db.record)
    db.up = False
    for n in range(1, 4):
        backlog.record("api/health", result(n))
    backlog.record("web/home", result(4))
    assert db.rows == [] and len(backlog) == 4
    assert backlog.flush() == 0  # still down: nothing lost, nothing written
    assert len(backlog) == 4
    db.up = True
    backlog.record("api/health", result(5))  # behind the kept ones, not before
    assert db.rows == [
        ("api/health", "run 1"),
        ("api/health", "run 2"),
        ("api/health", "run 3"),
        ("web/home", "run 4"),
        ("api/health", "run 5"),
    ]
    assert len(backlog) == 0 and backlog.written_late == 5


def test_the_backlog_is_bounded_and_drops_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    db = Database()
    backlog = ResultBacklog(db.record, limit=3)
    db.up = False
    for n in range(1, 6):
        backlog.record("api/health", result(n))
    assert len(backlog) == 3 and backlog.dropped == 2
    assert "dropped 1 results so far" in caplog.text
    db.up = True
    backlog.flush()
    assert [reason for _, reason in db.rows] == ["run 3", "run 4", "run 5"]


def test_a_result_the_database_refuses_is_dropped_not_retried_forever() -> None:
    calls: list[str] = []

    def record(check_id: str, r: CheckResult) -> None:
        calls.append(r.reason)
        if r.reason == "run 1":
            raise IntegrityError("INSERT", {}, Exception("no such check"))

    backlog = ResultBacklog(record)
    backlog.record("gone/check", result(1))
    backlog.record("api/health", result(2))
    assert calls == ["run 1", "run 2"] and len(backlog) == 0


def test_a_scheduler_that_lost_its_lease_discards_what_it_kept() -> None:
    db = Database()
    allowed = [True]
    backlog = ResultBacklog(db.record, allowed=lambda: allowed[0])
    db.up = False
    backlog.record("api/health", result(1))
    allowed[0] = False
    db.up = True
    assert backlog.flush() == 0
    backlog.record("api/health", result(2))
    assert db.rows == [] and len(backlog) == 0


# --- a real scheduler, its database cut off by a proxy --------------------------


class CuttableProxy:
    """A TCP proxy on loopback to `target`; `cut()` drops every connection
    and refuses new ones, `restore()` lets them through again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._sock: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.restore()

    def restore(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(32)
        self._sock = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            for conn in self._conns:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                if sock is not self._sock:  # cut while this one was accepted
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with suppress(OSError):
            b.shutdown(socket.SHUT_WR)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.mark.integration
@pytest.mark.slow
def test_the_scheduler_keeps_results_while_postgres_is_unreachable(postgres_url: str) -> None:
    url = make_url(postgres_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    direct = Store(postgres_url)
    direct.upgrade()
    store = Store(through_proxy)
    with scripted_server() as server:
        server.route("/ok", Reply(200, "ok"))
        config = parse_config(
            {
                "scheduler": {"jitter": "0s"},
                "defaults": {"interval": "1s", "timeout": "900ms"},
                "components": [
                    {
                        "id": "api",
                        "name": "API",
                        "checks": [{"name": "health", "type": "http", "url": server.url + "/ok"}],
                    }
                ],
            },
            env={},
        )
        monitor = Monitor(config, store, utc_now)
        monitor.start()
        scheduler = CheckScheduler(config, monitor, utc_now)
        scheduler.start()
        try:
            assert wait_for(lambda: len(server.seen) >= 2, 10)
            proxy.cut()
            runs_at_cut = len(server.seen)
            # Checks go on; their results wait in memory.
            assert wait_for(lambda: len(scheduler.backlog) >= 3, 15)
            assert len(server.seen) >= runs_at_cut + 3
            proxy.restore()
            assert wait_for(lambda: len(scheduler.backlog) == 0, 15)
        finally:
            scheduler.shutdown(wait=True)
            store.close()
            proxy.cut()
        runs = len(server.seen)
    with direct.transaction() as conn:
        times = (
            conn.execute(select(t.check_results.c.at).order_by(t.check_results.c.id))
            .scalars()
            .all()
        )
    direct.close()
    # Every run that ran is there once, in the order it ran.
    assert len(times) == runs
    assert times == sorted(times) and len(set(times)) == len(times)
    assert scheduler.backlog.written_late >= 3 and scheduler.backlog.dropped == 0
