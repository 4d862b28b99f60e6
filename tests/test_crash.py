"""kill -9 of `statuspage run` on SQLite in the middle of writes, repeated:
the database passes `PRAGMA integrity_check` after every crash, and every
incident update the admin acknowledged (a redirect after the POST, so its
transaction committed) is there at the end.

While staff post updates as fast as the server takes them, the scheduler
writes results of three checks every second, so the kill lands among
writes of both kinds.
"""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from statuspage.cli import main
from tests.loopback import Reply, ScriptedServer, scripted_server
from tests.processes import Process, spawn
from tests.support import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS = 3


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        s.route("/broken", Reply(503, "down"))
        yield s


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: httpx.Client, password: str) -> None:
    token = csrf_token(client.get("/admin/login").text)
    answer = client.post(
        "/admin/login", data={"username": "erin", "password": password, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.text


def open_incident(client: httpx.Client) -> str:
    token = csrf_token(client.get("/admin/incidents/new").text)
    answer = client.post(
        "/admin/incidents/new",
        data={
            "title": "Payments outage",
            "status": "investigating",
            "impact": "major",
            "body": "We are investigating failed payments.",
            "display_at": "",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 302, answer.text
    found = re.fullmatch(r"/admin/incidents/([a-z0-9]{12})", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def integrity(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def stored_bodies(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT body FROM incident_updates")}


def test_kill_9_in_the_middle_of_writes_loses_nothing_acknowledged(
    tmp_path: Path, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "statuspage.yaml"
    config.write_text(
        f"site: {{title: Crash Test, url: '{base}'}}\n"
        "defaults: {interval: 1s, timeout: 900ms, confirm_down: 1, confirm_up: 1}\n"
        "components:\n"
        f"  - {{id: api, name: API, checks: [{{name: health, type: http, url: '{server.url}/ok'}}]}}\n"
        f"  - {{id: web, name: Web, checks: [{{name: home, type: http, url: '{server.url}/ok'}}]}}\n"
        f"  - {{id: payments, name: Payments, checks: [{{name: canary, type: http, url: '{server.url}/broken'}}]}}\n"
    )
    db = tmp_path / "statuspage.db"
    made = CliRunner().invoke(
        main, ["user", "add", "--config", str(config), "erin", "--role", "editor", "--generate"]
    )
    assert made.exit_code == 0, made.output
    password = made.output.strip().splitlines()[-1]

    acknowledged: list[str] = []
    incident_id: str | None = None
    rng = random.Random(8)
    for round_ in range(ROUNDS):
        run = spawn(["run", "--config", str(config), "--port", str(port)], tmp_path, f"run{round_}")
        try:
            assert run.wait_log("statuspage is serving", 30), run.log()
            with httpx.Client(base_url=base, timeout=5) as client:
                log_in(client, password)
                if incident_id is None:
                    incident_id = open_incident(client)
                page = f"/admin/incidents/{incident_id}"
                token = csrf_token(client.get(page).text)
                posted = post_until_killed(client, page, token, round_, acknowledged, run, rng)
            assert posted >= 5, run.log()
        finally:
            if run.alive():
                run.popen.kill()
            run.popen.wait(10)
        assert run.popen.returncode == -signal.SIGKILL
        assert integrity(db) == ["ok"], f"after crash {round_ + 1}"
        missing = set(acknowledged) - stored_bodies(db)
        assert not missing, f"after crash {round_ + 1}: {sorted(missing)[:5]}"

    # A last start after the crashes: it runs, and stops cleanly.
    last = spawn(["run", "--config", str(config), "--port", str(port)], tmp_path, "last")
    assert last.wait_log("statuspage is serving", 30), last.log()
    assert wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 15), last.log()
    assert last.stop() == 0, last.log()
    assert integrity(db) == ["ok"]
    assert set(acknowledged) <= stored_bodies(db)
    assert len(acknowledged) >= 3 * 5
    with sqlite3.connect(db) as conn:
        results = conn.execute("SELECT count(*) FROM check_results").fetchone()[0]
    assert results >= 3 * ROUNDS  # the scheduler was writing too


def post_until_killed(
    client: httpx.Client,
    page: str,
    token: str,
    round_: int,
    acknowledged: list[str],
    run: Process,
    rng: random.Random,
) -> int:
    """Post updates as fast as they are taken; kill the process with
    SIGKILL at a random moment meanwhile. Returns how many were taken."""
    killer = threading.Timer(rng.uniform(1.0, 2.5), lambda: run.popen.send_signal(signal.SIGKILL))
    killer.start()
    taken = 0
    try:
        for n in range(100_000):
            body = f"round {round_} update {n}"
            try:
                answer = client.post(
                    f"{page}/updates",
                    data={
                        "status": "identified",
                        "body": body,
                        "display_at": "",
                        "csrf_token": token,
                    },
                )
            except httpx.HTTPError:
                break  # killed: this one may or may not have committed
            assert answer.status_code == 302, answer.text
            acknowledged.append(body)
            taken += 1
    finally:
        killer.join()
    return taken
