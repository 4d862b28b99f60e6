"""The roles apart: `web` under gunicorn, `scheduler`, `worker`, with real
processes against the real PostgreSQL (and SQLite where it is enough);
graceful shutdown; `/readyz` while migrations are pending.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select

from statuspage.config import parse_config
from statuspage.lease import FileLease
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.web import create_app
from statuspage.wsgi import CONFIG_ENV
from statuspage.wsgi import create_app as create_wsgi_app
from tests.conftest import _postgres_schema_url
from tests.loopback import Reply, ScriptedServer, scripted_server
from tests.processes import running
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        yield s


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text(body)
    return path


def count(store: Store, table: object) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


# --- web -------------------------------------------------------------------------


@pytest.mark.slow
def test_web_serves_under_gunicorn_and_never_runs_a_check(
    tmp_path: Path, server: ScriptedServer, postgres_url: str
) -> None:
    config = write_config(
        tmp_path,
        "site: {title: Roles Test}\n"
        "logging: {format: json}\n"
        "defaults: {interval: 1s, timeout: 900ms}\n"
        "components:\n"
        f"  - {{id: api, name: Public API, checks: [{{name: health, type: http, url: '{server.url}/ok'}}]}}\n",
    )
    env = {"DATABASE_URL": postgres_url}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_args = ["web", "--config", str(config), "--port", str(port), "--workers", "2"]
    with running(web_args, tmp_path, "web", env) as web:
        assert wait_for(
            lambda: (r := get(f"{base}/healthz")) is not None and r.status_code == 200, 30
        ), web.log()
        home = get(f"{base}/")
        assert home is not None and home.status_code == 200
        assert "gunicorn" in home.headers.get("server", "")
        # The components come into the database with the scheduler.
        assert "Roles Test" in home.text and "Public API" not in home.text

        # Two seconds of pages and no scheduler: not a single check ran.
        time.sleep(2)
        ready = get(f"{base}/readyz")
        assert ready is not None and ready.status_code == 503
        assert "the scheduler has not started" in ready.json()["problems"]
        assert server.seen == []
        store = Store(postgres_url)
        try:
            assert count(store, t.check_results) == 0

            with running(["scheduler", "--config", str(config)], tmp_path, "scheduler", env) as sch:
                assert wait_for(
                    lambda: (r := get(f"{base}/readyz")) is not None and r.status_code == 200, 30
                ), sch.log()
                assert wait_for(lambda: count(store, t.check_results) >= 2, 15)
                page = get(f"{base}/")
                assert page is not None and "Public API" in page.text
                assert sch.stop() == 0, sch.log()
        finally:
            store.close()
        assert web.stop() == 0, web.log()
    # Everything gunicorn and the app said is one JSON object per line.
    lines = [line for line in web.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert {r["role"] for r in records} == {"web"}
    assert any("Booting worker" in r["message"] for r in records)


def test_web_refuses_to_start_without_a_secret_key_on_postgres(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, "site: {title: No Key}\n")
    monkeypatch.delenv("STATUSPAGE_SECRET_KEY")
    env = {"DATABASE_URL": postgres_url}
    with running(
        ["web", "--config", str(config), "--port", str(free_port())], tmp_path, "web", env
    ) as web:
        assert web.popen.wait(30) == 1
    assert "STATUSPAGE_SECRET_KEY" in web.log()
    assert "Booting worker" not in web.log()


def test_the_wsgi_factory_reads_the_config_path_from_the_environment(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, f"site: {{title: Factory}}\nstorage: {{url: '{sqlite_url}'}}\n")
    store = Store(sqlite_url)
    store.upgrade()
    store.close()
    monkeypatch.setenv(CONFIG_ENV, str(config))
    app = create_wsgi_app()
    page = app.test_client().get("/")
    assert page.status_code == 200 and "Factory" in page.get_data(as_text=True)
    # Behind one proxy, the visitor's address is the one in X-Forwarded-For.
    proxied = create_wsgi_app(proxy_hops=1)
    seen: list[str | None] = []
    proxied.before_request(lambda: seen.append(__import__("flask").request.remote_addr))
    proxied.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7"]


def test_the_wsgi_factory_without_a_config_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(RuntimeError, match=CONFIG_ENV):
        create_wsgi_app()


# --- scheduler: graceful shutdown ----------------------------------------------


def scheduler_config(tmp_path: Path, url: str, timeout: str, interval: str = "30s") -> Path:
    return write_config(
        tmp_path,
        "site: {title: Shutdown}\n"
        "scheduler: {jitter: 0s}\n"
        f"defaults: {{interval: {interval}, timeout: {timeout}}}\n"
        "components:\n"
        f"  - {{id: api, name: API, checks: [{{name: health, type: http, url: '{url}'}}]}}\n",
    )


def test_sigterm_lets_the_running_check_finish_and_releases_the_lease(
    tmp_path: Path, server: ScriptedServer
) -> None:
    server.route("/slow", Reply(200, "ok", delay=2.0))
    config = scheduler_config(tmp_path, f"{server.url}/slow", timeout="10s")
    env = {"DATABASE_URL": ""}
    with running(["scheduler", "--config", str(config)], tmp_path, "scheduler", env) as sch:
        assert wait_for(lambda: len(server.seen) == 1, 30), sch.log()
        sch.signal(signal.SIGTERM)
        started = time.monotonic()
        assert sch.popen.wait(15) == 0, sch.log()
        took = time.monotonic() - started
    # It waited for the answer (2 s), and not much longer.
    assert 1.0 < took < 8, took
    store = Store(f"sqlite:///{tmp_path / 'statuspage.db'}")
    try:
        with store.transaction() as conn:
            rows = conn.execute(select(t.check_results.c.status)).scalars().all()
    finally:
        store.close()
    assert rows == ["operational"]
    assert "scheduler stopped" in sch.log()
    lease = FileLease(tmp_path / "statuspage.db.scheduler.lock")
    assert lease.try_acquire()
    lease.release()


def test_sigterm_gives_up_on_a_hanging_check_at_the_deadline(
    tmp_path: Path, server: ScriptedServer
) -> None:
    server.route("/hang", Reply(200, "late", delay=30))
    config = scheduler_config(tmp_path, f"{server.url}/hang", timeout="20s")
    args = ["scheduler", "--config", str(config), "--shutdown-deadline", "1"]
    with running(args, tmp_path, "scheduler", {"DATABASE_URL": ""}) as sch:
        assert wait_for(lambda: len(server.seen) == 1, 30), sch.log()
        sch.signal(signal.SIGTERM)
        # Gone well before the check's own 20 s timeout (`wait(15)`).
        assert sch.popen.wait(15) == 0, sch.log()
    assert "stopping without their results" in sch.log()
    store = Store(f"sqlite:///{tmp_path / 'statuspage.db'}")
    try:
        assert count(store, t.check_results) == 0
    finally:
        store.close()


# --- worker ------------------------------------------------------------------------


def test_the_worker_runs_until_sigterm(tmp_path: Path, postgres_url: str) -> None:
    config = write_config(tmp_path, "site: {title: Worker}\n")
    with running(
        ["worker", "--config", str(config)], tmp_path, "worker", {"DATABASE_URL": postgres_url}
    ) as worker:
        assert worker.wait_log("outbox worker", 30), worker.log()
        assert worker.stop() == 0, worker.log()
    assert "worker stopped" in worker.log()


# --- readiness while migrations are pending ------------------------------------


def test_readyz_is_false_while_migrations_are_pending(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.engine.begin() as conn:
            command.upgrade(store._alembic(conn), "0004")
        app = create_app(parse_config({}, env={}), store)
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 503
        assert any("not up to date" in p for p in answer.get_json()["problems"])
    finally:
        store.close()


def test_a_scheduler_can_serve_its_own_metrics(tmp_path: Path, server: ScriptedServer) -> None:
    """In a split deployment the check durations and results live in the
    scheduler process; `--metrics-port` lets Prometheus scrape them."""
    server.route("/ok", Reply(200, "ok"))
    config = scheduler_config(tmp_path, f"{server.url}/ok", timeout="1s", interval="2s")
    port = free_port()
    args = ["scheduler", "--config", str(config), "--metrics-port", str(port)]
    with running(args, tmp_path, "scheduler", {"DATABASE_URL": ""}) as sch:
        assert wait_for(lambda: len(server.seen) >= 1, 30), sch.log()

        def scraped() -> str:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                return ""

        assert wait_for(lambda: "statuspage_check_results_total{" in scraped(), 30), sch.log()
        text = scraped()
        assert 'status="operational"' in text
        assert "statuspage_check_duration_seconds_bucket" in text
        sch.signal(signal.SIGTERM)
        assert sch.popen.wait(15) == 0, sch.log()
