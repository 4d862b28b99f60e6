"""Deploy markers through the token-guarded API and the CLI: tokens, roles,
validation (4xx, never 500), audit rows, and `deploy-mark` against a real
server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from statuspage import audit, auth
from statuspage.cli import main
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.users import UserRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.test_admin_auth import make_config


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    app = create_app(make_config(), sqlite_store, clock)
    app.testing = True
    from statuspage.monitor import Monitor

    Monitor(make_config(), sqlite_store, clock).start()  # components into the store
    return app


def new_token(store: Store, role: str, name: str = "ci") -> str:
    token = auth.new_api_token()
    UserRepository(store).create_token(
        name, role, auth.hash_api_token(token), None, actor="test", at=FakeClock()()
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


GOOD = {"component": "api", "version": "v2.14", "who": "ci", "link": "https://ci.example/1"}


def test_missing_wrong_and_weak_tokens_are_refused(app: Flask, sqlite_store: Store) -> None:
    client = app.test_client()
    for headers in ({}, bearer("sp_wrong"), {"Authorization": "Basic eDp5"}):
        answer = client.post("/api/v1/deployments", json=GOOD, headers=headers)
        assert answer.status_code == 401 and "error" in (answer.json or {})
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    viewer = new_token(sqlite_store, "viewer", "reader")
    answer = client.post("/api/v1/deployments", json=GOOD, headers=bearer(viewer))
    assert answer.status_code == 403 and "editor" in answer.json["error"]  # type: ignore[index]
    assert client.get("/api/v1/deployments", headers=bearer(viewer)).status_code == 200
    revoked = new_token(sqlite_store, "admin", "old")
    token_id = UserRepository(sqlite_store).tokens()[0].id
    UserRepository(sqlite_store).revoke_token(token_id, actor="test", at=FakeClock()())
    answer = client.get("/api/v1/deployments", headers=bearer(revoked))
    assert answer.status_code == 401
    assert IncidentRepository(sqlite_store).recent_deployments() == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"", 400, None),
        (b"[1, 2]", 422, ""),
        (b'"api"', 422, ""),
        (b'{"component": "api"}', 422, "version"),
        (b'{"component": ["api"], "version": "v1"}', 422, "component"),
        (b'{"component": "api", "version": 14}', 422, "version"),
        (b'{"component": "api", "version": "v1", "extra": 1}', 422, "extra"),
        (b'{"component": "api", "version": "v1", "link": "javascript:alert(1)"}', 422, "link"),
        (b'{"component": "api", "version": "v1", "at": "yesterday"}', 422, "at"),
        (b'{"component": "api", "version": "v1", "at": "2026-09-15T05:00:00"}', 422, "at"),
        (b'{"component": "api", "version": "' + b"v" * 300 + b'"}', 422, "version"),
        (b'{"component": "nope", "version": "v1"}', 404, "component"),
    ],
)
def test_bad_input_is_4xx_with_the_field(
    app: Flask, sqlite_store: Store, body: bytes, status: int, field: str | None
) -> None:
    token = new_token(sqlite_store, "editor")
    answer = app.test_client().post(
        "/api/v1/deployments",
        data=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.json
    assert answer.json is not None and answer.json["error"]
    if field is not None:
        assert answer.json["field"] == field
    assert IncidentRepository(sqlite_store).recent_deployments() == []


def test_a_deploy_is_recorded_audited_listed_and_never_public(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    token = new_token(sqlite_store, "editor")
    client = app.test_client()
    answer = client.post(
        "/api/v1/deployments",
        json={**GOOD, "at": "2026-09-15T06:58:00+02:00"},
        headers=bearer(token),
    )
    assert answer.status_code == 201
    assert answer.json == {
        "id": 1,
        "component": "api",
        "version": "v2.14",
        "who": "ci",
        "link": "https://ci.example/1",
        "at": "2026-09-15T04:58:00+00:00",
        "recorded_at": "2026-09-15T05:00:00+00:00",
    }
    (entry,) = [e for e in audit.recent(sqlite_store) if e.action == "deployment.create"]
    assert entry.actor == "token:ci" and entry.after == answer.json
    listed = client.get("/api/v1/deployments?component=api", headers=bearer(token))
    assert listed.json == {"deployments": [answer.json]}
    assert client.get("/api/v1/deployments?component=x", headers=bearer(token)).status_code == 404
    (used,) = UserRepository(sqlite_store).tokens()
    assert used.last_used_at == clock()
    for path in ("/", "/components/api"):
        assert "v2.14" not in client.get(path).get_data(as_text=True)


@pytest.fixture
def config_file(tmp_path: Path, sqlite_url: str) -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "site": {"title": "Acme"},
                "storage": {"url": sqlite_url},
                "components": [{"id": "api", "name": "API"}],
            }
        )
    )
    return path


@pytest.fixture
def server(sqlite_store: Store, clock: FakeClock, app: Flask) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        thread.join(5)


def test_token_create_then_deploy_mark_against_a_real_server(
    config_file: Path, sqlite_store: Store, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main, ["token", "create", "--config", str(config_file), "--role", "editor", "--name", "ci"]
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("sp_")
    (stored,) = UserRepository(sqlite_store).tokens()
    assert (stored.name, stored.role, stored.user_id) == ("ci", "editor", None)
    assert [e.actor for e in audit.recent(sqlite_store) if e.action == "token.create"] == ["cli"]

    monkeypatch.setenv("STATUSPAGE_URL", server)
    monkeypatch.setenv("STATUSPAGE_TOKEN", token)
    marked = runner.invoke(
        main,
        ["deploy-mark", "--component", "api", "--version", "v2.14", "--who", "ci",
         "--link", "https://ci.example/7"],
    )  # fmt: skip
    assert marked.exit_code == 0, marked.output
    assert "Recorded deploy v2.14 of api" in marked.output
    (deploy,) = IncidentRepository(sqlite_store).recent_deployments()
    assert (deploy.component_id, deploy.version, deploy.who, deploy.link) == (
        "api", "v2.14", "ci", "https://ci.example/7",
    )  # fmt: skip

    wrong = runner.invoke(
        main, ["deploy-mark", "--token", "sp_nope", "--component", "api", "--version", "v3"]
    )
    assert wrong.exit_code == 1 and "answered 401" in wrong.output
    unknown = runner.invoke(main, ["deploy-mark", "--component", "zzz", "--version", "v3"])
    assert unknown.exit_code == 1 and "answered 404" in unknown.output
    down = runner.invoke(
        main,
        ["deploy-mark", "--url", "http://127.0.0.1:9", "--component", "api", "--version", "v3"],
    )
    assert down.exit_code == 1 and "could not reach" in down.output
    assert len(IncidentRepository(sqlite_store).recent_deployments()) == 1
