"""The Statuspage-compatible read API: every response has the shape of real
Statuspage responses (a schema check learnt from the fixtures, which pass it
themselves), in every state a page can be in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from statuspage.checks.base import CheckResult
from statuspage.config import parse_config
from statuspage.domain import (
    ComponentStatus,
    IncidentImpact,
    IncidentStatus,
    Indicator,
    MaintenanceStatus,
)
from statuspage.monitor import Monitor
from statuspage.statuspage_api import stable_id, timestamp
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "statuspage"
FIXTURE_FILES = ("github_summary.json", "cloudamqp_maintenance_summary.json")

ENDPOINTS = {
    "summary": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "status": {"page", "status"},
    "components": {"page", "components"},
    "incidents": {"page", "incidents"},
    "incidents/unresolved": {"page", "incidents"},
    "scheduled-maintenances": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/upcoming": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/active": {"page", "scheduled_maintenances"},
}

# --- the schema, learnt from the fixtures ------------------------------------

# Which kind of object sits under a key of another kind.
CHILDREN = {
    ("summary", "page"): "page",
    ("summary", "status"): "status",
    ("summary", "components"): "component",
    ("summary", "incidents"): "incident",
    ("summary", "scheduled_maintenances"): "maintenance",
    ("incident", "incident_updates"): "update",
    ("incident", "components"): "component",
    ("maintenance", "incident_updates"): "maintenance_update",
    ("maintenance", "components"): "component",
    ("update", "affected_components"): "affected",
    ("maintenance_update", "affected_components"): "affected",
}

# Value sets come from the domain, spelled as Statuspage spells them; our
# `unknown` is not among them (it is reported as degraded_performance).
COMPONENT_STATUSES = {s.value for s in ComponentStatus} - {ComponentStatus.UNKNOWN.value}
INCIDENT_STATUSES = {s.value for s in IncidentStatus}
MAINTENANCE_STATUSES = {s.value for s in MaintenanceStatus}
IMPACTS = {i.value for i in IncidentImpact}
VALUE_SETS = {
    ("component", "status"): COMPONENT_STATUSES,
    ("status", "indicator"): {i.value for i in Indicator},
    ("incident", "status"): INCIDENT_STATUSES,
    ("incident", "impact"): IMPACTS,
    ("maintenance", "status"): MAINTENANCE_STATUSES,
    ("maintenance", "impact"): IMPACTS | {"maintenance"},
    ("update", "status"): INCIDENT_STATUSES,
    ("maintenance_update", "status"): MAINTENANCE_STATUSES,
    ("affected", "old_status"): COMPONENT_STATUSES,
    ("affected", "new_status"): COMPONENT_STATUSES,
}

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
TIMESTAMP_KEYS = {
    "created_at",
    "updated_at",
    "display_at",
    "monitoring_at",
    "resolved_at",
    "started_at",
    "scheduled_for",
    "scheduled_until",
}
# Keys Statuspage documents as nullable strings that the fixtures only
# caught while null (no fixture has a group or a resolved incident).
SOMETIMES_SET = {
    ("incident", "monitoring_at"),
    ("incident", "resolved_at"),
    ("maintenance", "monitoring_at"),
    ("maintenance", "resolved_at"),
    ("component", "group_id"),
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


Schema = dict[str, dict[str, set[str]]]  # kind -> key -> JSON types seen
Seen = dict[str, list[set[str]]]  # kind -> the key sets of each object


def learn(kind: str, obj: dict[str, Any], schema: Schema, seen: Seen) -> None:
    seen.setdefault(kind, []).append(set(obj))
    keys = schema.setdefault(kind, {})
    for key, value in obj.items():
        keys.setdefault(key, set()).add(json_type(value))
        child = CHILDREN.get((kind, key))
        if child is None:
            continue
        for item in value if isinstance(value, list) else [value] if value else []:
            learn(child, item, schema, seen)


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def fixture_schema() -> tuple[Schema, dict[str, set[str]]]:
    """Key -> JSON types per kind, and the keys every fixture object of a
    kind carries (others, like `start_date`, some pages leave out)."""
    schema: Schema = {}
    seen: Seen = {}
    for name in FIXTURE_FILES:
        learn("summary", load_fixture(name), schema, seen)
    for kind, key in SOMETIMES_SET:
        schema[kind][key].add("string")
    required = {kind: set.intersection(*objs) for kind, objs in seen.items()}
    return schema, required


SCHEMA, REQUIRED = fixture_schema()


def shape_errors(kind: str, obj: Any, path: str = "$") -> list[str]:
    """Everything about `obj` that a client written for Statuspage would
    trip on: a missing key, a JSON type it never sees there, a value outside
    the value set, a timestamp in another format; nested objects too.
    Extra keys are fine (clients ignore unknown keys)."""
    if not isinstance(obj, dict):
        return [f"{path}: expected an object, got {json_type(obj)}"]
    errors = []
    for key, types in SCHEMA[kind].items():
        at = f"{path}.{key}"
        if key not in obj:
            if key in REQUIRED[kind]:
                errors.append(f"{at}: missing")
            continue
        value = obj[key]
        if json_type(value) not in types:
            errors.append(f"{at}: {json_type(value)}, expected one of {sorted(types)}")
            continue
        allowed = VALUE_SETS.get((kind, key))
        if allowed is not None and value not in allowed:
            errors.append(f"{at}: {value!r} is not one of {sorted(allowed)}")
        if key in TIMESTAMP_KEYS and isinstance(value, str) and not TIMESTAMP.match(value):
            errors.append(f"{at}: {value!r} is not a timestamp with milliseconds and offset")
        child = CHILDREN.get((kind, key))
        if child is not None and value is not None:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                where = f"{at}[{i}]" if isinstance(value, list) else at
                errors.extend(shape_errors(child, item, where))
    return errors


def document_errors(endpoint: str, doc: Any) -> list[str]:
    if not isinstance(doc, dict) or set(doc) != ENDPOINTS[endpoint]:
        keys = sorted(doc) if isinstance(doc, dict) else doc
        return [f"{endpoint}: top-level keys {keys}"]
    errors = []
    for key, value in doc.items():
        if json_type(value) not in SCHEMA["summary"][key]:
            errors.append(f"$.{key}: {json_type(value)}")
            continue
        child = CHILDREN[("summary", key)]
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            errors.extend(shape_errors(child, item, f"$.{key}[{i}]"))
    return errors


def objects_of(kind: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of one kind in a document, however deep."""
    found: list[dict[str, Any]] = []

    def walk(k: str, obj: dict[str, Any]) -> None:
        if k == kind:
            found.append(obj)
        for key, value in obj.items():
            child = CHILDREN.get((k, key))
            for item in (value if isinstance(value, list) else [value]) if child and value else []:
                walk(child, item)

    walk("summary", doc)
    return found


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_the_real_responses_pass_the_check(name: str) -> None:
    assert document_errors("summary", load_fixture(name)) == []


def test_the_check_catches_what_a_client_would_trip_on() -> None:
    doc = load_fixture("github_summary.json")
    doc["components"][0]["status"] = "unknown"
    doc["components"][1]["position"] = "2"
    del doc["incidents"][0]["incident_updates"][0]["display_at"]
    doc["incidents"][0]["created_at"] = "2022-11-25T14:39:09Z"
    doc["incidents"][0]["incident_updates"][0]["affected_components"][0]["code"] = None
    errors = document_errors("summary", doc)
    assert len(errors) == 5, errors
    assert document_errors("status", {"page": doc["page"]}) != []


# --- a page in several states -------------------------------------------------------

START = datetime(2026, 1, 15, 14, 30, 5, 123456, tzinfo=UTC)


def make_config(timezone: str = "UTC") -> Any:
    check = {"type": "http", "name": "health"}
    return parse_config(
        {
            "site": {"title": "Acme", "url": "https://status.acme.test", "timezone": timezone},
            "defaults": {"interval": "30s", "confirm_down": 1, "confirm_up": 1},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "group": "Core",
                    "checks": [check | {"url": "http://a/"}],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "group": "Core",
                    "checks": [check | {"url": "http://p/"}],
                },
                {
                    "id": "web",
                    "name": "Website",
                    "description": "The marketing site",
                    "checks": [check | {"url": "http://w/"}],
                },
            ],
        },
        env={},
    )


class Page:
    """An app with a monitor, and helpers that put the page in a state."""

    def __init__(self, store: Store, clock: FakeClock, timezone: str = "UTC") -> None:
        clock.now = START
        self.store, self.clock = store, clock
        self.monitor = Monitor(make_config(timezone), store, clock)
        self.monitor.start()
        self.app: Flask = create_app(self.monitor.config, store, clock)
        self.app.testing = True

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def feed(self, **statuses: ComponentStatus) -> None:
        for component, status in statuses.items():
            self.monitor.record(f"{component}/health", CheckResult(self.clock(), status, "x"))

    def all_operational(self) -> None:
        ok = ComponentStatus.OPERATIONAL
        self.feed(api=ok, payments=ok, web=ok)

    def incident(self, publish: bool = True, name: str = "Payments outage") -> str:
        repo = IncidentRepository(self.store)
        with self.store.transaction() as conn:
            incident_id = repo.create(
                conn,
                name=name,
                status=IncidentStatus.INVESTIGATING,
                impact=IncidentImpact.MAJOR,
                components={"payments": ComponentStatus.PARTIAL_OUTAGE},
                body="We are **investigating** failed payments.",
                author="user:alice@acme.test",
                now=self.clock(),
                publish=publish,
            )
        self.clock.advance(600.25)
        with self.store.transaction() as conn:
            repo.add_update(
                conn,
                incident_id,
                status=IncidentStatus.IDENTIFIED,
                body="A bad config was deployed; rolling back.",
                author="user:alice@acme.test",
                now=self.clock(),
                components={
                    "payments": ComponentStatus.MAJOR_OUTAGE,
                    "api": ComponentStatus.DEGRADED_PERFORMANCE,
                },
            )
            repo.record_deployment(
                conn, "payments", "v9.9.9-secret", at=self.clock(), now=self.clock(), who="bob"
            )
        return incident_id

    def maintenance_in_progress(self) -> str:
        start = self.clock() + timedelta(minutes=10)
        created = self.monitor.maintenance.create(
            title="Database upgrade",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            timezone="Europe/Berlin",
            components=["payments"],
            created_by="user:carol@acme.test",
            now=self.clock(),
        )
        self.clock.now = start
        self.all_operational()  # fresh data: only the maintenance shows
        self.monitor.apply_maintenance()
        return created.id

    def everything(self) -> dict[str, dict[str, Any]]:
        """Every endpoint's answer, each checked against the schema."""
        answers = {}
        client = self.client()
        for endpoint in ENDPOINTS:
            answer = client.get(f"/api/v2/{endpoint}.json")
            assert answer.status_code == 200, endpoint
            doc = answer.get_json()
            assert document_errors(endpoint, doc) == [], endpoint
            answers[endpoint] = doc
        return answers


STATES: dict[str, Callable[[Page], object]] = {
    "fresh start, no data yet": lambda page: None,
    "all operational": Page.all_operational,
    "one component without data": lambda page: page.feed(
        api=ComponentStatus.OPERATIONAL, payments=ComponentStatus.OPERATIONAL
    ),
    "an incident": lambda page: (page.all_operational(), page.incident()),
    "a maintenance in progress": lambda page: (
        page.all_operational(),
        page.maintenance_in_progress(),
    ),
}


@pytest.fixture
def page(sqlite_store: Store, clock: FakeClock) -> Page:
    return Page(sqlite_store, clock)


@pytest.mark.parametrize("state", STATES)
def test_every_endpoint_has_the_shape_of_statuspage_in_every_state(page: Page, state: str) -> None:
    STATES[state](page)
    answers = page.everything()
    summary = answers["summary"]
    for kind in ("component", "incident", "update", "maintenance", "page"):
        for obj in objects_of(kind, summary):
            # Ours carry every key any fixture carries (`start_date` too).
            assert set(SCHEMA[kind]) <= set(obj), (kind, set(SCHEMA[kind]) - set(obj))
    assert answers["status"]["status"] == summary["status"]
    assert answers["components"]["components"] == summary["components"]


def test_all_operational(page: Page) -> None:
    page.all_operational()
    summary = page.everything()["summary"]
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert {c["status"] for c in summary["components"]} == {"operational"}
    assert {c["status_detail"] for c in summary["components"]} == {None}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    assert summary["page"] == {
        "id": stable_id("page", "https://status.acme.test"),
        "name": "Acme",
        "url": "https://status.acme.test",
        "time_zone": "UTC",
        "updated_at": "2026-01-15T14:30:05.123Z",
    }


def test_a_component_without_data_is_degraded_and_says_why(page: Page) -> None:
    page.feed(api=ComponentStatus.OPERATIONAL, payments=ComponentStatus.OPERATIONAL)
    summary = page.everything()["summary"]
    web = next(c for c in summary["components"] if c["id"] == "web")
    assert (web["status"], web["status_detail"]) == ("degraded_performance", "no_data")
    # The indicator follows the reported value.
    assert summary["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    core = next(c for c in summary["components"] if c["group"])
    assert (core["status"], core["status_detail"]) == ("operational", None)


def test_groups_list_their_members_with_a_stable_id(page: Page) -> None:
    page.feed(api=ComponentStatus.OPERATIONAL, payments=ComponentStatus.PARTIAL_OUTAGE)
    components = page.everything()["components"]["components"]
    assert [(c["id"], c["group"], c["position"]) for c in components] == [
        (stable_id("group", "Core"), True, 1),
        ("api", False, 2),
        ("payments", False, 3),
        ("web", False, 4),
    ]
    core = components[0]
    assert core["name"] == "Core" and core["components"] == ["api", "payments"]
    assert core["status"] == "partial_outage"  # its worst member
    assert core["group_id"] is None
    assert [c["group_id"] for c in components[1:]] == [core["id"], core["id"], None]
    assert all("components" not in c for c in components[1:])
    assert components[3]["description"] == "The marketing site"


def test_an_incident_with_its_updates_newest_first(page: Page) -> None:
    page.all_operational()
    incident_id = page.incident()
    answers = page.everything()
    [incident] = answers["summary"]["incidents"]
    assert answers["incidents/unresolved"]["incidents"] == [incident]
    assert answers["incidents"]["incidents"] == [incident]
    assert incident["id"] == incident_id
    assert incident["shortlink"] == f"https://status.acme.test/incidents/{incident_id}"
    assert (incident["status"], incident["impact"]) == ("identified", "major")
    assert incident["started_at"] == incident["created_at"] == "2026-01-15T14:30:05.123Z"
    assert incident["resolved_at"] is None and incident["monitoring_at"] is None
    newest, first = incident["incident_updates"]
    assert newest["status"] == "identified" and first["status"] == "investigating"
    assert first["body"] == "We are **investigating** failed payments."  # Markdown as written
    assert newest["display_at"] == "2026-01-15T14:40:05.373Z"
    assert {newest["incident_id"], first["incident_id"]} == {incident_id}
    assert first["affected_components"] == [
        {
            "code": "payments",
            "name": "Payments",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert sorted(newest["affected_components"], key=lambda a: a["code"]) == [
        {
            "code": "api",
            "name": "API",
            "old_status": "operational",
            "new_status": "degraded_performance",
        },
        {
            "code": "payments",
            "name": "Payments",
            "old_status": "partial_outage",
            "new_status": "major_outage",
        },
    ]
    assert [c["id"] for c in incident["components"]] == ["api", "payments"]


def test_a_resolved_incident_leaves_unresolved_and_has_resolved_at(page: Page) -> None:
    page.all_operational()
    incident_id = page.incident()
    page.clock.advance(60)
    repo = IncidentRepository(page.store)
    with page.store.transaction() as conn:
        repo.resolve(conn, incident_id, body="Fixed.", author="user:alice", now=page.clock())
    answers = page.everything()
    assert answers["incidents/unresolved"]["incidents"] == []
    assert answers["summary"]["incidents"] == []
    [incident] = answers["incidents"]["incidents"]
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2026-01-15T14:41:05.373Z"


def test_drafts_authors_and_deploys_never_appear(page: Page) -> None:
    page.all_operational()
    page.incident(publish=False, name="Draft only for staff")
    page.incident()
    answers = page.everything()
    text = json.dumps(answers)
    # Drafts, authors, deploys, check targets and status reasons stay inside.
    for secret in ("Draft only for staff", "alice", "v9.9.9-secret", "bob", "http://", "health"):
        assert secret not in text, secret
    assert len(answers["incidents"]["incidents"]) == 1


def test_a_maintenance_in_progress(page: Page) -> None:
    page.all_operational()
    maintenance_id = page.maintenance_in_progress()
    answers = page.everything()
    summary = answers["summary"]
    assert summary["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    payments = next(c for c in summary["components"] if c["id"] == "payments")
    assert payments["status"] == "under_maintenance"
    [m] = summary["scheduled_maintenances"]
    assert answers["scheduled-maintenances/active"]["scheduled_maintenances"] == [m]
    assert answers["scheduled-maintenances/upcoming"]["scheduled_maintenances"] == []
    assert answers["scheduled-maintenances"]["scheduled_maintenances"] == [m]
    assert (m["id"], m["status"], m["impact"]) == (maintenance_id, "in_progress", "maintenance")
    assert m["scheduled_for"] == "2026-01-15T14:40:05.123Z"
    assert m["scheduled_until"] == "2026-01-15T15:40:05.123Z"
    assert [u["status"] for u in m["incident_updates"]] == ["in_progress", "scheduled"]
    began, scheduled = m["incident_updates"]
    assert began["affected_components"] == [
        {
            "code": "payments",
            "name": "Payments",
            "old_status": "operational",
            "new_status": "under_maintenance",
        }
    ]
    assert scheduled["affected_components"][0]["new_status"] == "operational"
    assert [c["id"] for c in m["components"]] == ["payments"]
    assert "carol" not in json.dumps(answers)


def test_an_upcoming_maintenance_is_scheduled(page: Page) -> None:
    page.all_operational()
    start = page.clock() + timedelta(days=2)
    page.monitor.maintenance.create(
        title="Network work",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        timezone="UTC",
        components=["api"],
        created_by="user:carol",
        now=page.clock(),
    )
    answers = page.everything()
    [m] = answers["scheduled-maintenances/upcoming"]["scheduled_maintenances"]
    assert m["status"] == "scheduled" and m["resolved_at"] is None
    assert answers["summary"]["scheduled_maintenances"] == [m]
    assert answers["scheduled-maintenances/active"]["scheduled_maintenances"] == []
    assert answers["summary"]["status"]["indicator"] == "none"


def test_timestamps_carry_the_page_offset_and_milliseconds(
    sqlite_store: Store, clock: FakeClock
) -> None:
    page = Page(sqlite_store, clock, timezone="America/New_York")
    page.all_operational()
    page.incident()
    summary = page.everything()["summary"]
    assert summary["page"]["time_zone"] == "America/New_York"
    assert summary["page"]["updated_at"] == "2026-01-15T09:40:05.373-05:00"
    [incident] = summary["incidents"]
    assert incident["created_at"] == "2026-01-15T09:30:05.123-05:00"
    stamps = [
        value
        for kind in ("component", "incident", "update", "affected")
        for obj in objects_of(kind, summary)
        for key, value in obj.items()
        if key in TIMESTAMP_KEYS and value is not None
    ]
    assert stamps and all(s.endswith("-05:00") and TIMESTAMP.match(s) for s in stamps)


def test_timestamp_edges() -> None:
    from zoneinfo import ZoneInfo

    at = datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC)  # a second before US DST
    assert timestamp(at, ZoneInfo("America/New_York")) == "2026-03-08T01:59:59.999-05:00"
    assert timestamp(at + timedelta(microseconds=1), ZoneInfo("America/New_York")) == (
        "2026-03-08T03:00:00.000-04:00"
    )
    assert timestamp(at, ZoneInfo("Asia/Kolkata")) == "2026-03-08T12:29:59.999+05:30"
    assert timestamp(at, ZoneInfo("UTC")) == "2026-03-08T06:59:59.999Z"


def test_ids_are_stable_across_calls(page: Page) -> None:
    page.all_operational()
    page.incident()
    first = page.everything()
    second = page.everything()
    assert first == second
    assert first["summary"]["page"]["id"] == stable_id("page", "https://status.acme.test")
    assert re.fullmatch(r"[0-9a-z]{12}", first["summary"]["page"]["id"])
    assert stable_id("group", "Core") != stable_id("group", "Core ")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_cors_cache_and_head(page: Page, endpoint: str) -> None:
    client = page.client()
    url = f"/api/v2/{endpoint}.json"
    answer = client.get(url, headers={"Origin": "https://widget.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Cache-Control"] == (
        "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
    )
    assert answer.mimetype == "application/json"
    head = client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Access-Control-Allow-Origin"] == "*"
    assert head.headers["Content-Length"] == answer.headers["Content-Length"]


@pytest.mark.parametrize(
    "query",
    [
        "?limit[]=1&limit[]=2",
        "?id[0]=1",
        "?page[x]=y",
        "?unknown=1",
        "?status=%00",
        "?a=" + "x" * 5000,
    ],
)
def test_query_parameters_change_nothing(page: Page, query: str) -> None:
    page.all_operational()
    client = page.client()
    for endpoint in ("summary", "incidents", "scheduled-maintenances/upcoming"):
        plain = client.get(f"/api/v2/{endpoint}.json")
        odd = client.get(f"/api/v2/{endpoint}.json{query}")
        assert odd.status_code == 200
        assert odd.get_json() == plain.get_json()


def test_writes_are_refused(page: Page) -> None:
    answer = page.client().post("/api/v2/summary.json")
    assert answer.status_code == 405
