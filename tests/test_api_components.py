"""Component status through the token API: set (override + re-settle +
audit), release, list; roles and tokens; 4xx for bad input, never 500."""

from __future__ import annotations

import pytest
from flask import Flask

from statuspage import audit
from statuspage.config import Config, parse_config
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.test_api_deployments import bearer, new_token


def two_components(extra: dict[str, object] | None = None) -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status"},
            "components": [{"id": "api", "name": "API"}, {"id": "payments", "name": "Payments"}],
            **(extra or {}),
        },
        env={},
    )


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    Monitor(two_components(), sqlite_store, clock).start()  # components into the store
    app = create_app(two_components(), sqlite_store, clock)
    app.testing = True
    return app


SET = {"status": "major_outage", "reason": "database failover"}


def test_set_shows_at_once_is_audited_and_release_hands_back(
    app: Flask, sqlite_store: Store
) -> None:
    client = app.test_client()
    editor = bearer(new_token(sqlite_store, "editor", "ci"))
    answer = client.put("/api/v1/components/api/status", json=SET, headers=editor)
    assert answer.status_code == 200
    assert answer.json["status"] == "major_outage"  # type: ignore[index]
    assert answer.json["override"]["reason"] == "database failover"  # type: ignore[index]
    assert answer.json["override"]["set_by"] == "token:ci"  # type: ignore[index]
    assert sqlite_store.component("api").status.value == "major_outage"  # type: ignore[union-attr]
    listed = client.get("/api/v1/components", headers=editor).json["components"]  # type: ignore[index]
    assert [(c["id"], c["status"], c["override"] is not None) for c in listed] == [
        ("api", "major_outage", True),
        ("payments", "operational", False),
    ]
    # The same again changes nothing and leaves no second audit row.
    assert client.put("/api/v1/components/api/status", json=SET, headers=editor).status_code == 200
    released = client.delete("/api/v1/components/api/status", headers=editor)
    assert released.status_code == 200 and released.json["override"] is None  # type: ignore[index]
    assert sqlite_store.component("api").status.value == "operational"  # type: ignore[union-attr]
    again = client.delete("/api/v1/components/api/status", headers=editor)
    assert again.status_code == 409 and "no status set" in again.json["error"]  # type: ignore[index]
    assert [(e.actor, e.action, e.target_id) for e in audit.recent(sqlite_store)][:2] == [
        ("token:ci", "component.release", "api"),
        ("token:ci", "component.override", "api"),
    ]
    assert audit.count(sqlite_store) == 2 + 1  # + the token's creation


def test_tokens_and_roles(app: Flask, sqlite_store: Store) -> None:
    client = app.test_client()
    for headers in ({}, bearer("sp_wrong")):
        assert client.get("/api/v1/components", headers=headers).status_code == 401
        assert (
            client.put("/api/v1/components/api/status", json=SET, headers=headers).status_code
            == 401
        )
        assert client.delete("/api/v1/components/api/status", headers=headers).status_code == 401
    viewer = bearer(new_token(sqlite_store, "viewer", "reader"))
    assert client.get("/api/v1/components", headers=viewer).status_code == 200
    assert client.put("/api/v1/components/api/status", json=SET, headers=viewer).status_code == 403
    assert client.delete("/api/v1/components/api/status", headers=viewer).status_code == 403
    assert IncidentRepository(sqlite_store).overrides() == {}


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/components/nope/status", b'{"status": "major_outage", "reason": "x"}', 404, "id"),
        ("/api/v1/components/" + "x" * 5000 + "/status", b"{}", 404, "id"),
        ("/api/v1/components/api/status", b"{not json", 400, None),
        ("/api/v1/components/api/status", b"", 400, None),
        ("/api/v1/components/api/status", b"[1]", 422, ""),
        ("/api/v1/components/api/status", b'{"status": "broken", "reason": "x"}', 422, "status"),
        ("/api/v1/components/api/status", b'{"status": "unknown", "reason": "x"}', 422, "status"),
        (
            "/api/v1/components/api/status",
            b'{"status": ["major_outage"], "reason": "x"}',
            422,
            "status",
        ),
        ("/api/v1/components/api/status", b'{"status": 3, "reason": "x"}', 422, "status"),
        ("/api/v1/components/api/status", b'{"status": "major_outage"}', 422, "reason"),
        (
            "/api/v1/components/api/status",
            b'{"status": "major_outage", "reason": ""}',
            422,
            "reason",
        ),
        (
            "/api/v1/components/api/status",
            b'{"status": "major_outage", "reason": {"a": 1}}',
            422,
            "reason",
        ),
        (
            "/api/v1/components/api/status",
            b'{"status": "major_outage", "reason": "x", "impact": "minor"}',
            422,
            "impact",
        ),
        (
            "/api/v1/components/api/status",
            b'{"status": "major_outage", "reason": "' + b"x" * 501 + b'"}',
            422,
            "reason",
        ),
    ],
)
def test_bad_input_is_a_4xx_with_the_field(
    app: Flask, sqlite_store: Store, path: str, body: bytes, status: int, field: str | None
) -> None:
    editor = bearer(new_token(sqlite_store, "editor"))
    answer = app.test_client().put(
        path, data=body, headers={**editor, "Content-Type": "application/json"}
    )
    assert answer.status_code == status, answer.json
    assert "error" in answer.json  # type: ignore[operator]
    if field is not None:
        assert answer.json["field"] == field  # type: ignore[index]
    assert IncidentRepository(sqlite_store).overrides() == {}


def test_a_huge_body_is_413(app: Flask, sqlite_store: Store) -> None:
    editor = bearer(new_token(sqlite_store, "editor"))
    answer = app.test_client().put(
        "/api/v1/components/api/status", data=b"x" * 2_000_000, headers=editor
    )
    assert answer.status_code == 413
