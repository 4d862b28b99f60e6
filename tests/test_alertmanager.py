"""The Alertmanager receiver, fed payloads in Alertmanager's documented
webhook format (version 4): the worst firing alert wins, resolution
releases, repeats change nothing, a person's status is never touched."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from statuspage import audit
from statuspage.config import ConfigError
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.test_api_components import two_components
from tests.test_api_deployments import bearer, new_token

RULES = {
    "alertmanager": {
        "rules": [
            {"match": {"severity": "critical"}, "component_label": "service", "status": "major_outage"},
            {"match": {"severity": "warning"}, "component_label": "service", "status": "degraded_performance"},
            {"match": {"team": "payments"}, "component": "payments", "status": "partial_outage"},
        ]
    }
}  # fmt: skip


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    config = two_components(RULES)
    Monitor(config, sqlite_store, clock).start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    return app


def alert(fingerprint: str, severity: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": f"High{severity.title()}", "severity": severity, **labels},
        "annotations": {"summary": "errors are up"},
        "startsAt": "2026-11-27T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-27T10:05:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{service="api"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "statuspage",
        "groupLabels": {"service": "api"},
        "commonLabels": {"service": "api"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def send(app: Flask, token: str, body: Any) -> Any:
    return app.test_client().post("/api/v1/alertmanager", json=body, headers=bearer(token))


def status_of(store: Store, component_id: str) -> str:
    return store.component(component_id).status.value  # type: ignore[union-attr]


def test_worst_wins_resolution_steps_down_then_releases(app: Flask, sqlite_store: Store) -> None:
    token = new_token(sqlite_store, "editor", "alertmanager")
    crit, warn = (
        alert("aaaa1111", "critical", service="api"),
        alert("bbbb2222", "warning", service="api"),
    )
    answer = send(app, token, notification(crit, warn))
    assert answer.status_code == 200
    assert answer.json == {
        "components": {"api": "major_outage"},
        "changed": ["api"],
        "ignored": [],
        "truncated_alerts": 0,
    }
    assert status_of(sqlite_store, "api") == "major_outage"
    override = IncidentRepository(sqlite_store).overrides()["api"]
    assert (override.set_by, override.reason) == (
        "alertmanager",
        "Alertmanager: HighCritical (2 alerts firing)",
    )
    resolved_crit = alert("aaaa1111", "critical", "resolved", service="api")
    answer = send(app, token, notification(resolved_crit, warn))
    assert answer.json["components"] == {"api": "degraded_performance"}
    assert status_of(sqlite_store, "api") == "degraded_performance"
    answer = send(app, token, notification(alert("bbbb2222", "warning", "resolved", service="api")))
    assert answer.json["components"] == {"api": None} and answer.json["changed"] == ["api"]
    assert status_of(sqlite_store, "api") == "operational"
    assert IncidentRepository(sqlite_store).overrides() == {}
    actions = [(e.actor, e.action) for e in audit.recent(sqlite_store)][:3]
    assert actions == [
        ("token:alertmanager", "component.release"),
        ("token:alertmanager", "component.override"),
        ("token:alertmanager", "component.override"),
    ]


def test_repeated_and_grouped_notifications_are_idempotent(app: Flask, sqlite_store: Store) -> None:
    token = new_token(sqlite_store, "editor")
    crit = alert("aaaa1111", "critical", service="api")
    send(app, token, notification(crit))
    rows = audit.count(sqlite_store)
    for _ in range(3):
        answer = send(app, token, notification(crit))
        assert answer.json["changed"] == [] and answer.json["components"] == {"api": "major_outage"}
    assert audit.count(sqlite_store) == rows
    resolved = alert("aaaa1111", "critical", "resolved", service="api")
    send(app, token, notification(resolved))
    rows = audit.count(sqlite_store)
    assert send(app, token, notification(resolved)).json["changed"] == []
    assert audit.count(sqlite_store) == rows
    assert status_of(sqlite_store, "api") == "operational"


def test_unmapped_alerts_are_ignored_and_reported(app: Flask, sqlite_store: Store) -> None:
    token = new_token(sqlite_store, "editor")
    answer = send(
        app,
        token,
        notification(
            alert("c1", "info", service="api"),
            alert("c2", "critical"),  # no service label
            alert("c3", "critical", service="billing"),  # not a component
            alert("c4", "info", team="payments"),
        ),
    )
    assert answer.status_code == 200
    assert answer.json["components"] == {"payments": "partial_outage"}
    assert answer.json["ignored"] == [
        {"fingerprint": "c1", "alertname": "HighInfo", "reason": "no rule matches its labels"},
        {
            "fingerprint": "c2",
            "alertname": "HighCritical",
            "reason": "rules[0] matches but the alert has no label 'service'",
        },
        {"fingerprint": "c3", "alertname": "HighCritical", "reason": "unknown component 'billing'"},
    ]
    assert status_of(sqlite_store, "api") == "operational"


def test_a_persons_status_is_never_replaced_or_released(app: Flask, sqlite_store: Store) -> None:
    person = new_token(sqlite_store, "editor", "oncall")
    am = new_token(sqlite_store, "editor", "alertmanager")
    client = app.test_client()
    set_by_hand = {"status": "under_maintenance", "reason": "migrating"}
    assert (
        client.put(
            "/api/v1/components/api/status", json=set_by_hand, headers=bearer(person)
        ).status_code
        == 200
    )
    crit = alert("aaaa1111", "critical", service="api")
    assert send(app, am, notification(crit)).json["changed"] == []
    assert status_of(sqlite_store, "api") == "under_maintenance"
    send(app, am, notification(alert("aaaa1111", "critical", "resolved", service="api")))
    override = IncidentRepository(sqlite_store).overrides()["api"]
    assert (override.status.value, override.set_by) == ("under_maintenance", "token:oncall")
    # Once the person releases it, the next firing notification applies.
    client.delete("/api/v1/components/api/status", headers=bearer(person))
    send(app, am, notification(crit))
    assert status_of(sqlite_store, "api") == "major_outage"


def test_tokens_and_roles(app: Flask, sqlite_store: Store) -> None:
    body = notification(alert("aaaa1111", "critical", service="api"))
    client = app.test_client()
    assert client.post("/api/v1/alertmanager", json=body).status_code == 401
    assert send(app, "sp_wrong", body).status_code == 401
    assert send(app, new_token(sqlite_store, "viewer", "reader"), body).status_code == 403
    assert status_of(sqlite_store, "api") == "operational"


GOOD = notification(alert("aaaa1111", "critical", service="api"))


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**GOOD, "version": "3"}, 422, "version"),
        ({**GOOD, "version": 4}, 422, "version"),
        ({**GOOD, "alerts": "x"}, 422, "alerts"),
        ({**GOOD, "alerts": [{**GOOD["alerts"][0], "labels": ["a"]}]}, 422, "alerts.0.labels"),
        ({**GOOD, "alerts": [{**GOOD["alerts"][0], "labels": {"a": 1}}]}, 422, "alerts.0.labels.a"),
        (
            {**GOOD, "alerts": [{**GOOD["alerts"][0], "startsAt": "yesterday"}]},
            422,
            "alerts.0.startsAt",
        ),
        ({**GOOD, "alerts": [{**GOOD["alerts"][0], "status": "pending"}]}, 422, "alerts.0.status"),
        (
            {**GOOD, "alerts": [{**GOOD["alerts"][0], "fingerprint": 7}]},
            422,
            "alerts.0.fingerprint",
        ),
        ({**GOOD, "truncatedAlerts": "0"}, 422, "truncatedAlerts"),
        ({**GOOD, "commonLabels": None}, 422, "commonLabels"),
        ([GOOD], 422, ""),
    ],
)
def test_bad_payloads_are_422(
    app: Flask, sqlite_store: Store, body: Any, status: int, field: str
) -> None:
    answer = send(app, new_token(sqlite_store, "editor"), body)
    assert answer.status_code == status, answer.json
    assert answer.json["field"] == field
    assert IncidentRepository(sqlite_store).overrides() == {}


def test_not_json_is_400_and_extra_fields_are_tolerated(app: Flask, sqlite_store: Store) -> None:
    token = new_token(sqlite_store, "editor")
    answer = app.test_client().post("/api/v1/alertmanager", data=b"{", headers=bearer(token))
    assert answer.status_code == 400
    newer = {**GOOD, "newField": {"x": 1}, "alerts": [{**GOOD["alerts"][0], "silencedBy": []}]}
    assert send(app, token, newer).json["components"] == {"api": "major_outage"}


def test_rules_are_checked_at_load() -> None:
    bad = {
        "alertmanager": {
            "rules": [
                {"match": {}, "status": "unknown", "component": "api", "component_label": "x"}
            ]
        }
    }
    with pytest.raises(ConfigError) as caught:
        two_components(bad)
    assert any("alertmanager.rules[0]" in line for line in caught.value.errors)


def test_automatic_overrides_never_replace_or_release_a_persons(store: Store) -> None:
    """The conditional upsert and delete, on every backend."""
    from datetime import UTC, datetime

    from statuspage.domain import ComponentStatus as S

    Monitor(two_components(), store, FakeClock()).start()
    repo, now = IncidentRepository(store), datetime(2026, 11, 27, 10, tzinfo=UTC)
    with store.transaction() as conn:
        assert repo.set_override(
            conn, "api", S.MAJOR_OUTAGE, set_by="alertmanager", now=now, only_over="alertmanager"
        )
        assert repo.set_override(
            conn, "api", S.PARTIAL_OUTAGE, set_by="alertmanager", now=now, only_over="alertmanager"
        )
        repo.set_override(conn, "payments", S.UNDER_MAINTENANCE, set_by="user:alice", now=now)
        assert not repo.set_override(
            conn,
            "payments",
            S.MAJOR_OUTAGE,
            set_by="alertmanager",
            now=now,
            only_over="alertmanager",
        )
        assert not repo.release_override(conn, "payments", set_by="alertmanager")
        assert repo.release_override(conn, "api", set_by="alertmanager")
    assert {c: (o.status, o.set_by) for c, o in repo.overrides().items()} == {
        "payments": (S.UNDER_MAINTENANCE, "user:alice")
    }
