"""The write API for incidents and maintenance, as a client would drive it
(Statuspage's wrapped bodies, bearer tokens): a whole incident and whole
maintenance windows on each backend, audit rows, the notification flag,
roles, and every class of bad input answered with the documented 4xx and
`{"error", "field"}`, never a 500."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from flask import Flask
from flask.testing import FlaskClient

from statuspage import audit
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.web import api_models, create_app
from tests.conftest import FakeClock
from tests.test_api_components import two_components
from tests.test_api_deployments import bearer, new_token


def api_app(store: Store, clock: FakeClock) -> Flask:
    """The app with two components, `api` and `payments`."""
    Monitor(two_components(), store, clock).start()  # components into the store
    app = create_app(two_components(), store, clock)
    app.testing = True
    return app


def open_incident_and_window(app: Flask, headers: dict[str, str]) -> dict[str, str]:
    """An open incident and an upcoming maintenance, by their ids."""
    client = app.test_client()
    incident = client.post("/api/v1/incidents", json=OPEN, headers=headers)
    maintenance = client.post("/api/v1/maintenances", json=window(), headers=headers)
    assert incident.status_code == maintenance.status_code == 201
    return {"incident": incident.json["id"], "maintenance": maintenance.json["id"]}  # type: ignore[index]


@pytest.fixture
def app(store: Store, clock: FakeClock) -> Flask:
    return api_app(store, clock)


@pytest.fixture
def editor(store: Store) -> dict[str, str]:
    return bearer(new_token(store, "editor", "ci"))


def status_of(store: Store, component_id: str) -> str:
    found = store.component(component_id)
    assert found is not None
    return found.status.value


OPEN = {
    "incident": {
        "name": "Payments failing",
        "status": "investigating",
        "impact": "major",
        "body": "Customers see a *renew your subscription* wall.",
        "components": {"payments": "major_outage"},
        "deliver_notifications": False,
    }
}


# --- a whole incident ------------------------------------------------------------


def test_an_incident_from_open_to_resolved(
    app: Flask, store: Store, clock: FakeClock, editor: dict[str, str]
) -> None:
    client = app.test_client()
    opened = client.post("/api/v1/incidents", json=OPEN, headers=editor)
    assert opened.status_code == 201, opened.json
    incident = opened.json
    assert incident is not None
    iid = incident["id"]
    assert (incident["name"], incident["status"], incident["impact"], incident["draft"]) == (
        "Payments failing", "investigating", "major", False,
    )  # fmt: skip
    assert [(c["id"], c["status"]) for c in incident["components"]] == [
        ("payments", "major_outage")
    ]
    (first,) = incident["incident_updates"]
    assert first["deliver_notifications"] is False
    assert first["affected_components"] == [
        {"code": "payments", "name": "Payments", "old_status": "operational",
         "new_status": "major_outage"}
    ]  # fmt: skip
    # The status given holds the component at once (an override, REL-08).
    assert status_of(store, "payments") == "major_outage"
    assert status_of(store, "api") == "operational"

    clock.advance(minutes=20)
    updated = client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={
            "incident_update": {
                "status": "identified",
                "body": "A payment-service deploy at 05:00 has a wrong config.",
                "components": {"payments": "partial_outage"},
            }
        },
        headers=editor,
    )
    assert updated.status_code == 201, updated.json
    assert [u["status"] for u in updated.json["incident_updates"]] == [  # type: ignore[index]
        "identified", "investigating",
    ]  # fmt: skip
    assert status_of(store, "payments") == "partial_outage"

    clock.advance(minutes=5)
    renamed = client.patch(
        f"/api/v1/incidents/{iid}",
        json={"incident": {"name": "Subscriptions shown as expired", "impact": "critical"}},
        headers=editor,
    )
    assert renamed.status_code == 200, renamed.json
    assert (renamed.json["name"], renamed.json["impact"]) == (  # type: ignore[index]
        "Subscriptions shown as expired", "critical",
    )  # fmt: skip
    assert len(renamed.json["incident_updates"]) == 2  # an edit posts no update  # type: ignore[index]

    clock.advance(minutes=30)
    monitoring = client.patch(
        f"/api/v1/incidents/{iid}",
        json={"incident": {"status": "monitoring", "body": "Rolled back; watching."}},
        headers=editor,
    )
    assert monitoring.status_code == 200
    assert monitoring.json["monitoring_at"] == "2026-09-15T05:55:00.000Z"  # type: ignore[index]

    clock.advance(hours=1)
    resolved = client.patch(
        f"/api/v1/incidents/{iid}", json={"incident": {"status": "resolved"}}, headers=editor
    )
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["status"] == "resolved"  # type: ignore[index]
    assert resolved.json["resolved_at"] == "2026-09-15T06:55:00.000Z"  # type: ignore[index]
    latest = resolved.json["incident_updates"][0]  # type: ignore[index]
    assert (latest["body"], latest["deliver_notifications"]) == (
        "This incident has been resolved.", True,
    )  # fmt: skip
    # Resolving hands the component back to its checks.
    assert status_of(store, "payments") == "operational"
    assert IncidentRepository(store).overrides() == {}

    # A resolved incident takes no more updates, by either route.
    again = client.post(
        f"/api/v1/incidents/{iid}/updates",
        json={"incident_update": {"status": "monitoring", "body": "Still here?"}},
        headers=editor,
    )
    assert again.status_code == 409
    assert again.json == {
        "error": "the incident is resolved; open a new one",
        "field": "incident_update.status",
    }
    reopened = client.patch(
        f"/api/v1/incidents/{iid}", json={"incident": {"status": "resolved"}}, headers=editor
    )
    assert reopened.status_code == 409

    stored = IncidentRepository(store).detail(iid)
    assert stored is not None
    assert [(u.status, u.author, u.deliver_notifications) for u in stored.updates] == [
        (IncidentStatus.RESOLVED, "token:ci", True),
        (IncidentStatus.MONITORING, "token:ci", True),
        (IncidentStatus.IDENTIFIED, "token:ci", True),
        (IncidentStatus.INVESTIGATING, "token:ci", False),
    ]
    assert [
        (e.actor, e.action, e.target_id) for e in reversed(audit.recent(store)) if e.actor != "test"
    ] == [
        ("token:ci", "incident.create", iid),
        ("token:ci", "override.set", "payments"),
        ("token:ci", "incident.update", iid),
        ("token:ci", "override.set", "payments"),
        ("token:ci", "incident.edit", iid),
        ("token:ci", "incident.update", iid),
        ("token:ci", "incident.resolve", iid),
        ("token:ci", "override.release", "payments"),
    ]

    # Read back, by a viewer, and on the public Statuspage API.
    viewer = bearer(new_token(store, "viewer", "reader"))
    listed = client.get("/api/v1/incidents", headers=viewer)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json["incidents"]] == [iid]  # type: ignore[index]
    assert client.get(f"/api/v1/incidents/{iid}", headers=viewer).json == resolved.json
    public = client.get("/api/v2/incidents.json").json
    assert [(i["id"], i["status"]) for i in public["incidents"]] == [(iid, "resolved")]  # type: ignore[index]


def test_incidents_are_listed_newest_first_a_page_at_a_time(
    app: Flask, store: Store, clock: FakeClock, editor: dict[str, str]
) -> None:
    client = app.test_client()
    ids = []
    for n in range(5):
        body = {"incident": {"name": f"Incident {n}", "body": "Looking into it."}}
        ids.append(client.post("/api/v1/incidents", json=body, headers=editor).json["id"])  # type: ignore[index]
        clock.advance(minutes=1)
    pages = [
        client.get(f"/api/v1/incidents?page={p}&per_page=2", headers=editor).json for p in (1, 2, 3)
    ]
    assert [[i["id"] for i in page["incidents"]] for page in pages] == [  # type: ignore[index]
        ids[4:2:-1], ids[2:0:-1], ids[:1],
    ]  # fmt: skip
    assert [page["pagination"]["next_page"] for page in pages] == [2, 3, None]  # type: ignore[index]
    empty = client.get("/api/v1/incidents?page=9", headers=editor).json
    assert empty == {"incidents": [], "pagination": {"page": 9, "per_page": 25, "next_page": None}}


def test_component_status_the_statuspage_way(
    app: Flask, store: Store, editor: dict[str, str]
) -> None:
    client = app.test_client()
    answer = client.patch(
        "/api/v1/components/api", json={"component": {"status": "degraded_performance"}},
        headers=editor,
    )  # fmt: skip
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "degraded_performance"  # type: ignore[index]
    assert answer.json["override"]["set_by"] == "token:ci"  # type: ignore[index]
    assert client.get("/api/v1/components/api", headers=editor).json == answer.json
    released = client.delete("/api/v1/components/api/status", headers=editor)
    assert released.status_code == 200 and status_of(store, "api") == "operational"


# --- maintenance --------------------------------------------------------------------


def window(**fields: Any) -> dict[str, Any]:
    return {
        "maintenance": {
            "name": "Database upgrade",
            "body": "The database moves to new hardware.",
            "scheduled_for": "2026-09-15T06:00:00Z",
            "scheduled_until": "2026-09-15T08:00:00+00:00",
            "component_ids": ["api"],
            **fields,
        }
    }


def test_a_maintenance_scheduled_run_and_completed_early(
    app: Flask, store: Store, clock: FakeClock, editor: dict[str, str]
) -> None:
    client = app.test_client()
    created = client.post("/api/v1/maintenances", json=window(), headers=editor)
    assert created.status_code == 201, created.json
    mid = created.json["id"]  # type: ignore[index]
    assert (created.json["status"], created.json["scheduled_for"], created.json["scheduled_until"]) == (  # type: ignore[index]
        "scheduled", "2026-09-15T06:00:00.000Z", "2026-09-15T08:00:00.000Z",
    )  # fmt: skip
    listed = client.get("/api/v1/maintenances", headers=editor).json
    assert [m["id"] for m in listed["maintenances"]] == [mid]  # type: ignore[index]
    early = client.post(f"/api/v1/maintenances/{mid}/complete", headers=editor)
    assert early.status_code == 409  # it has not begun

    clock.advance(minutes=90)
    assert client.get(f"/api/v1/maintenances/{mid}", headers=editor).json["status"] == "in_progress"  # type: ignore[index]
    done = client.post(
        f"/api/v1/maintenances/{mid}/complete",
        json={"maintenance": {"body": "Done ahead of time.", "deliver_notifications": False}},
        headers=editor,
    )
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["scheduled_until"]) == (  # type: ignore[index]
        "completed", "2026-09-15T06:30:00.000Z",
    )  # fmt: skip
    latest = done.json["incident_updates"][0]  # type: ignore[index]
    assert (latest["status"], latest["body"], latest["deliver_notifications"]) == (
        "completed", "Done ahead of time.", False,
    )  # fmt: skip
    assert client.post(f"/api/v1/maintenances/{mid}/cancel", headers=editor).status_code == 409
    assert [(e.actor, e.action) for e in audit.recent(store, limit=2)] == [
        ("token:ci", "maintenance.complete"),
        ("token:ci", "maintenance.create"),
    ]


def test_a_window_running_now_holds_its_components_until_cancelled(
    app: Flask, store: Store, editor: dict[str, str]
) -> None:
    client = app.test_client()
    running = window(scheduled_for="2026-09-15T04:50:00Z", component_ids=["api", "payments"])
    created = client.post("/api/v1/maintenances", json=running, headers=editor)
    assert created.status_code == 201, created.json
    assert created.json["status"] == "in_progress"  # type: ignore[index]
    assert status_of(store, "api") == status_of(store, "payments") == "under_maintenance"
    mid = created.json["id"]  # type: ignore[index]
    cancelled = client.post(f"/api/v1/maintenances/{mid}/cancel", headers=editor)
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "completed"  # type: ignore[index]
    assert status_of(store, "api") == status_of(store, "payments") == "operational"
    found = MaintenanceRepository(store).get(mid)
    assert found is not None and found.cancelled
    again = client.post(f"/api/v1/maintenances/{mid}/cancel", headers=editor)
    assert again.status_code == 409 and again.json["error"]  # type: ignore[index]


def test_a_repeating_window_is_cancelled_not_completed(
    app: Flask, store: Store, clock: FakeClock, editor: dict[str, str]
) -> None:
    client = app.test_client()
    weekly = window(
        recurrence="weekly", recurrence_until="2026-12-31T00:00:00Z", timezone="Europe/Berlin"
    )
    mid = client.post("/api/v1/maintenances", json=weekly, headers=editor).json["id"]  # type: ignore[index]
    clock.advance(hours=1, minutes=30)  # the first occurrence runs
    answer = client.post(f"/api/v1/maintenances/{mid}/complete", headers=editor)
    assert answer.status_code == 409 and "cancel" in answer.json["error"]  # type: ignore[index]
    found = MaintenanceRepository(store).get(mid)
    assert found is not None and (found.recurrence, found.timezone) == ("weekly", "Europe/Berlin")


# --- tokens and roles -------------------------------------------------------------

WRITES = [
    ("POST", "/api/v1/incidents", OPEN),
    ("PATCH", "/api/v1/incidents/{incident}", {"incident": {"name": "x"}}),
    ("POST", "/api/v1/incidents/{incident}/updates",
     {"incident_update": {"status": "identified", "body": "x"}}),
    ("POST", "/api/v1/maintenances", None),
    ("POST", "/api/v1/maintenances/{maintenance}/cancel", None),
    ("POST", "/api/v1/maintenances/{maintenance}/complete", None),
    ("PATCH", "/api/v1/components/api", {"component": {"status": "major_outage"}}),
]  # fmt: skip
READS = [
    "/api/v1/incidents",
    "/api/v1/incidents/{incident}",
    "/api/v1/maintenances",
    "/api/v1/maintenances/{maintenance}",
    "/api/v1/components",
    "/api/v1/components/api",
    "/api/v1/deployments",
]


@pytest.fixture
def ids(app: Flask, editor: dict[str, str]) -> dict[str, str]:
    return open_incident_and_window(app, editor)


def test_a_viewer_reads_an_editor_writes_and_nobody_else(
    app: Flask, store: Store, ids: dict[str, str]
) -> None:
    client = app.test_client()
    written = audit.count(store)
    viewer = bearer(new_token(store, "viewer", "reader"))
    for method, path, body in WRITES:
        url = path.format(**ids)
        for headers in ({}, bearer("sp_not-a-token"), {"Authorization": "Basic eDp5"}):
            answer = client.open(url, method=method, json=body or window(), headers=headers)
            assert answer.status_code == 401, (method, url)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert answer.json is not None and answer.json["error"]
        answer = client.open(url, method=method, json=body or window(), headers=viewer)
        assert answer.status_code == 403, (method, url)
        assert "editor" in answer.json["error"]  # type: ignore[index]
    for path in READS:
        url = path.format(**ids)
        assert client.get(url).status_code == 401, url
        assert client.get(url, headers=viewer).status_code == 200, url
    assert audit.count(store) == written + 1  # the viewer's token, nothing else


# --- bad input: always the documented 4xx, never a 500 ---------------------------------

UPDATE = "/api/v1/incidents/{incident}/updates"
PATCH = "/api/v1/incidents/{incident}"
MAINTENANCES = "/api/v1/maintenances"


def upd(**fields: Any) -> dict[str, Any]:
    return {"incident_update": {"status": "identified", "body": "Found it.", **fields}}


def new(**fields: Any) -> dict[str, Any]:
    return {"incident": {"name": "Slow API", "body": "Looking.", **fields}}


# (method, path, body: JSON or raw bytes, status, field; None: any field)
BAD: list[tuple[str, str, Any, int, str | None]] = [
    # not JSON, not sent as JSON, not an object
    ("POST", "/api/v1/incidents", b"{not json", 400, ""),
    ("POST", "/api/v1/incidents", b"", 400, ""),
    ("POST", "/api/v1/incidents", b"\xff\xfe{}", 400, ""),
    ("POST", "/api/v1/incidents", b'{"incident": {"name": "\\ud800", "body": "x"}}', 400, ""),
    ("POST", "/api/v1/incidents", b"[1, 2]", 422, ""),
    ("POST", "/api/v1/incidents", b"null", 422, ""),
    ("POST", "/api/v1/incidents", b'"incident"', 422, ""),
    # the wrapper, unknown fields, flat bodies
    ("POST", "/api/v1/incidents", {"name": "Slow API", "body": "x"}, 422, "incident"),
    ("POST", "/api/v1/incidents", {"incident": "Slow API"}, 422, "incident"),
    ("POST", "/api/v1/incidents", {"incident": ["x"]}, 422, "incident"),
    ("POST", "/api/v1/incidents", new(severity="high"), 422, "incident.severity"),
    ("POST", "/api/v1/incidents", {**new(), "extra": 1}, 422, "extra"),
    # wrong types, nulls, blanks, huge strings, NUL
    ("POST", "/api/v1/incidents", new(name=["Slow", "API"]), 422, "incident.name"),
    ("POST", "/api/v1/incidents", new(name=None), 422, "incident.name"),
    ("POST", "/api/v1/incidents", new(name=7), 422, "incident.name"),
    ("POST", "/api/v1/incidents", new(name="   "), 422, "incident.name"),
    ("POST", "/api/v1/incidents", new(name="x" * 301), 422, "incident.name"),
    ("POST", "/api/v1/incidents", new(body="x" * 20_001), 422, "incident.body"),
    ("POST", "/api/v1/incidents", new(body="a\u0000b"), 422, "incident.body"),
    ("POST", "/api/v1/incidents", new(deliver_notifications="yes"), 422, "incident.deliver_notifications"),
    ("POST", "/api/v1/incidents", new(deliver_notifications=None), 422, "incident.deliver_notifications"),
    # values outside the domain
    ("POST", "/api/v1/incidents", new(status="resolved"), 422, "incident.status"),
    ("POST", "/api/v1/incidents", new(status="broken"), 422, "incident.status"),
    ("POST", "/api/v1/incidents", new(impact=3), 422, "incident.impact"),
    ("POST", "/api/v1/incidents", new(impact="maintenance"), 422, "incident.impact"),
    ("POST", "/api/v1/incidents", new(components=["api"]), 422, "incident.components"),
    ("POST", "/api/v1/incidents", new(components={"api": "unknown"}), 422, "incident.components.api"),
    ("POST", "/api/v1/incidents", new(components={"api": "under_maintenance"}), 422, "incident.components.api"),
    ("POST", "/api/v1/incidents", new(components={"nope": "major_outage"}), 422, "incident.components.nope"),
    ("POST", "/api/v1/incidents", new(components={"a\u0000": "major_outage"}), 422, None),
    # updates and edits
    ("POST", UPDATE, upd(status="postmortem"), 422, "incident_update.status"),
    ("POST", UPDATE, upd(body=""), 422, "incident_update.body"),
    ("POST", UPDATE, {"incident_update": {"status": "identified"}}, 422, "incident_update.body"),
    ("POST", UPDATE, upd(display_at="yesterday"), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(display_at="2026-09-15T05:00:00"), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(display_at="0001-01-01T00:00:00+01:00"), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(display_at="9999-12-31T23:59:59-01:00"), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(display_at=1789000000), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(display_at="2026-09-16T05:00:00Z"), 422, "incident_update.display_at"),
    ("POST", UPDATE, upd(components={"ghost": "major_outage"}), 422, "incident_update.components.ghost"),
    ("POST", UPDATE, upd(status="resolved", components={"api": "major_outage"}), 422,
     "incident_update.components.api"),
    ("PATCH", PATCH, {"incident": {"components": {"api": "partial_outage"}}}, 422, "incident.body"),
    ("PATCH", PATCH, {"incident": {"name": ""}}, 422, "incident.name"),
    ("PATCH", PATCH, {"incident": {"status": "resolved", "draft": True}}, 422, "incident.draft"),
    # maintenance
    ("POST", MAINTENANCES, window(scheduled_until="2026-09-15T05:59:00Z"), 422, "maintenance.scheduled_until"),
    ("POST", MAINTENANCES, window(scheduled_until="2026-09-23T06:00:01Z"), 422, "maintenance.scheduled_until"),
    ("POST", MAINTENANCES, window(scheduled_for="2026-13-01T00:00:00Z"), 422, "maintenance.scheduled_for"),
    ("POST", MAINTENANCES, window(scheduled_for=None), 422, "maintenance.scheduled_for"),
    ("POST", MAINTENANCES, window(component_ids=[]), 422, "maintenance.component_ids"),
    ("POST", MAINTENANCES, window(component_ids="api"), 422, "maintenance.component_ids"),
    ("POST", MAINTENANCES, window(component_ids=["api", "ghost"]), 422, "maintenance.component_ids.1"),
    ("POST", MAINTENANCES, window(timezone="Mars/Olympus"), 422, "maintenance.timezone"),
    ("POST", MAINTENANCES, window(timezone="../../etc/passwd"), 422, "maintenance.timezone"),
    ("POST", MAINTENANCES, window(timezone="Europe"), 422, "maintenance.timezone"),
    ("POST", MAINTENANCES, window(recurrence="hourly"), 422, "maintenance.recurrence"),
    ("POST", MAINTENANCES, window(recurrence_until="2026-12-01T00:00:00Z"), 422, "maintenance.recurrence_until"),
    ("POST", MAINTENANCES, window(recurrence="daily", scheduled_until="2026-09-16T07:00:00Z"), 422, "maintenance"),
    ("POST", MAINTENANCES, {"maintenance": {"name": "x"}}, 422, "maintenance.scheduled_for"),
    ("POST", "/api/v1/maintenances/{maintenance}/cancel", {"maintenance": {"body": 5}}, 422, "maintenance.body"),
    ("POST", "/api/v1/maintenances/{maintenance}/complete", b"{", 400, ""),
    # unknown things and addresses
    ("GET", "/api/v1/incidents/zzzzzzzzzzzz", None, 404, "id"),
    ("GET", "/api/v1/incidents/a%00b", None, 404, "id"),
    ("GET", "/api/v1/incidents/" + "x" * 5000, None, 404, "id"),
    ("PATCH", "/api/v1/incidents/zzzzzzzzzzzz", new(), 404, "id"),
    ("POST", "/api/v1/incidents/zzzzzzzzzzzz/updates", upd(), 404, "id"),
    ("GET", "/api/v1/maintenances/zzzzzzzzzzzz", None, 404, "id"),
    ("POST", "/api/v1/maintenances/zzzzzzzzzzzz/cancel", None, 404, "id"),
    ("GET", "/api/v1/components/a%00b", None, 404, "id"),
    ("PATCH", "/api/v1/components/nope", {"component": {"status": "major_outage"}}, 404, "id"),
    ("PATCH", "/api/v1/components/api", {"component": {"status": "unknown"}}, 422, "component.status"),
    ("PATCH", "/api/v1/components/api", {"component": {"status": "major_outage", "name": "x"}}, 422,
     "component.name"),
    ("POST", "/api/v1/deployments", {"component": "a\u0000", "version": "v1"}, 422, "component"),
    ("POST", "/api/v1/deployments", {"component": "api", "version": "v1", "who": "c\u0000i"}, 422, "who"),
    ("POST", "/api/v1/deployments", {"component": "api", "version": "v1", "at": "0001-01-01T00:00:00+01:00"},
     422, "at"),
    ("PUT", "/api/v1/components/api/status", {"status": "major_outage", "reason": "db\u0000"}, 422, "reason"),
    ("POST", "/api/v1/alertmanager", {"version": "4", "status": "firing", "receiver": "a\u0000",
                                      "alerts": []}, 422, "receiver"),
    ("GET", "/api/v1/nothing-here", None, 404, ""),
    ("DELETE", "/api/v1/incidents", None, 405, ""),
    ("PUT", "/api/v1/incidents/{incident}", new(), 405, ""),
    # query strings: repeated, unknown, out of range (SEC-05, SEC-06)
    ("GET", "/api/v1/incidents?page=0", None, 422, "page"),
    ("GET", "/api/v1/incidents?page=abc", None, 422, "page"),
    ("GET", "/api/v1/incidents?per_page=101", None, 422, "per_page"),
    ("GET", "/api/v1/incidents?page=1&page=2", None, 400, "page"),
    ("GET", "/api/v1/incidents?page[]=1&page[]=2", None, 400, "page[]"),
    ("GET", "/api/v1/incidents?sort=password_hash", None, 400, "sort"),
    ("GET", "/api/v1/maintenances?status=active", None, 400, "status"),
    ("GET", "/api/v1/deployments?component=a%00", None, 422, "component"),
    ("GET", "/api/v1/deployments?component=Nope", None, 404, "component"),
]  # fmt: skip


def test_bad_input_is_the_documented_4xx_with_the_field(
    app: Flask, store: Store, editor: dict[str, str], ids: dict[str, str]
) -> None:
    client = app.test_client()
    written = audit.count(store)
    for method, path, body, status, field in BAD:
        url = path.format(**ids)
        answer = send(client, method, url, body, editor)
        assert answer.status_code == status, (method, url, body, answer.get_data(as_text=True))
        assert answer.mimetype == "application/json", (method, url)
        assert answer.json is not None and answer.json["error"], (method, url)
        if field is not None:
            assert answer.json["field"] == field, (method, url, body, answer.json)
    assert audit.count(store) == written  # nothing was changed
    assert len(IncidentRepository(store).recent(drafts=True)) == 1


def send(client: FlaskClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, bytes):
        headers = {**headers, "Content-Type": "application/json"}
        return client.open(url, method=method, data=body, headers=headers)
    return client.open(url, method=method, json=body, headers=headers)


def test_a_body_not_sent_as_json_is_400(app: Flask, editor: dict[str, str]) -> None:
    client = app.test_client()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        answer = client.post(
            "/api/v1/incidents",
            data=b'{"incident": {"name": "x", "body": "y"}}',
            headers={**editor, "Content-Type": content_type},
        )
        assert answer.status_code == 400, content_type
        assert answer.json == {
            "error": "send the body as JSON, with Content-Type: application/json",
            "field": "",
        }


def test_a_huge_body_is_413_in_json_before_anything_is_read(
    app: Flask, editor: dict[str, str]
) -> None:
    client = app.test_client()
    huge = b'{"incident": {"name": "x", "body": "' + b"y" * 1_100_000 + b'"}}'
    for path in ("/api/v1/incidents", "/api/v1/deployments", "/api/v1/components/api/status"):
        method = "PUT" if path.endswith("/status") else "POST"
        answer = client.open(
            path, method=method, data=huge, headers={**editor, "Content-Type": "application/json"}
        )
        assert answer.status_code == 413, path
        assert answer.json == {
            "error": "the request body is larger than 1000000 bytes",
            "field": "",
        }
    # Elsewhere the HTML error pages stay.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_405_names_the_methods_allowed(app: Flask, editor: dict[str, str]) -> None:
    answer = app.test_client().delete("/api/v1/incidents", headers=editor)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert answer.json == {"error": "this address does not take DELETE", "field": ""}


def test_the_models_spell_the_domain_values() -> None:
    # The schema lists the values; they must be the domain's.
    assert set(get_args(api_models.ImpactName)) == {i.value for i in IncidentImpact}
    assert set(get_args(api_models.UpdateStatusName)) == {
        s.value for s in IncidentStatus if s is not IncidentStatus.POSTMORTEM
    }
    assert set(get_args(api_models.SettableStatusName)) == {
        s.value for s in ComponentStatus if s is not ComponentStatus.UNKNOWN
    }
    assert set(get_args(api_models.IncidentComponentStatusName)) == {
        s.value
        for s in ComponentStatus
        if s not in (ComponentStatus.UNKNOWN, ComponentStatus.UNDER_MAINTENANCE)
    }
