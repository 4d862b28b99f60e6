"""The incident repository, on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incidents import (
    AddUpdate,
    ComponentChange,
    ComponentSnapshot,
    IncidentPolicy,
    JoinIncident,
    OpenIncident,
    ResolveIncident,
    on_component_change,
    tick,
)
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.incidents import (
    AffectedComponent,
    Deployment,
    IncidentRepository,
    Override,
    new_id,
)

OK = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
INVESTIGATING = IncidentStatus.INVESTIGATING
IDENTIFIED = IncidentStatus.IDENTIFIED
MONITORING = IncidentStatus.MONITORING
RESOLVED = IncidentStatus.RESOLVED
T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def repo(store: Store) -> IncidentRepository:
    components: list[dict[str, Any]] = [
        {"id": cid, "name": name, "description": "", "group_name": None, "checks": []}
        for cid, name in (("api", "API"), ("payments", "Payments"), ("projects", "Projects"))
    ]
    with store.transaction() as conn:
        store.sync_components(conn, components, T0)
    return IncidentRepository(store)


def create(repo: IncidentRepository, **kw: Any) -> str:
    values: dict[str, Any] = {
        "name": "Payments outage",
        "status": INVESTIGATING,
        "impact": IncidentImpact.MAJOR,
        "components": {"payments": MAJOR},
        "body": "We are investigating an outage of Payments.",
        "author": "user:alice",
        "now": at(1),
    }
    values.update(kw)
    with repo.store.transaction() as conn:
        return repo.create(conn, **values)


def rows(repo: IncidentRepository, table: Any, *order: Any) -> list[dict[str, Any]]:
    with repo.store.transaction() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(*order))]


def test_new_ids_are_twelve_lowercase_letters_and_digits() -> None:
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[a-z0-9]{12}", i) for i in ids)


def test_create_writes_the_incident_its_components_and_first_update(
    repo: IncidentRepository,
) -> None:
    incident_id = create(repo, display_at=at(0))
    assert rows(repo, t.incidents, t.incidents.c.id) == [
        {
            "id": incident_id,
            "name": "Payments outage",
            "status": "investigating",
            "impact": "major",
            "source": "staff",
            "created_at": at(0),
            "updated_at": at(1),
            "published_at": at(1),
            "resolved_at": None,
            "postmortem_body": None,
            "postmortem_published_at": None,
        }
    ]
    assert rows(repo, t.incident_components, t.incident_components.c.component_id) == [
        {"incident_id": incident_id, "component_id": "payments", "status": "major_outage"}
    ]
    [update] = rows(repo, t.incident_updates, t.incident_updates.c.id)
    assert re.fullmatch(r"[a-z0-9]{12}", update.pop("id"))
    assert update == {
        "incident_id": incident_id,
        "status": "investigating",
        "body": "We are investigating an outage of Payments.",
        "author": "user:alice",
        "created_at": at(1),
        "display_at": at(0),
        "deliver_notifications": True,
        "affected_components": json.dumps(
            [{"component_id": "payments", "old_status": None, "new_status": "major_outage"}]
        ),
    }


def test_updates_move_status_components_and_impact(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with repo.store.transaction() as conn:
        repo.add_update(
            conn,
            incident_id,
            status=IDENTIFIED,
            body="A bad config was deployed; rolling back.",
            author="user:bob",
            now=at(10),
            components={"payments": PARTIAL, "api": DEGRADED},
            impact=IncidentImpact.CRITICAL,
            deliver_notifications=False,
        )
    detail = repo.detail(incident_id)
    assert detail is not None
    incident = detail.incident
    assert (incident.status, incident.impact, incident.updated_at) == (
        IDENTIFIED,
        IncidentImpact.CRITICAL,
        at(10),
    )
    # In page order: api was synced before payments.
    assert list(incident.components.items()) == [("api", DEGRADED), ("payments", PARTIAL)]
    newest, first = detail.updates
    assert (newest.status, newest.author, newest.display_at, newest.created_at) == (
        IDENTIFIED,
        "user:bob",
        at(10),
        at(10),
    )
    assert newest.deliver_notifications is False
    assert newest.affected_components == (
        AffectedComponent("payments", MAJOR, PARTIAL),
        AffectedComponent("api", None, DEGRADED),
    )
    assert first.status is INVESTIGATING


def test_an_unchanged_component_is_not_listed_as_affected(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with repo.store.transaction() as conn:
        repo.add_update(
            conn,
            incident_id,
            status=INVESTIGATING,
            body="Still looking.",
            author="user:bob",
            now=at(5),
            components={"payments": MAJOR},
        )
    detail = repo.detail(incident_id)
    assert detail is not None
    assert detail.updates[0].affected_components == ()


def test_updates_come_newest_first_by_display_time(repo: IncidentRepository) -> None:
    incident_id = create(repo, display_at=at(0))
    with repo.store.transaction() as conn:
        for status, body, shown in (
            (MONITORING, "third", at(30)),
            (IDENTIFIED, "second, posted late and backdated", at(20)),
        ):
            repo.add_update(
                conn,
                incident_id,
                status=status,
                body=body,
                author="user:bob",
                now=at(40),
                display_at=shown,
            )
    detail = repo.detail(incident_id)
    assert detail is not None
    assert [(u.body, u.display_at) for u in detail.updates] == [
        ("third", at(30)),
        ("second, posted late and backdated", at(20)),
        ("We are investigating an outage of Payments.", at(0)),
    ]


def test_resolve_sets_every_component_operational_and_the_time(repo: IncidentRepository) -> None:
    incident_id = create(repo, components={"payments": MAJOR, "api": DEGRADED})
    with repo.store.transaction() as conn:
        repo.resolve(
            conn,
            incident_id,
            body="This incident has been resolved.",
            author="user:bob",
            now=at(60),
            display_at=at(55),
        )
    incident = repo.get(incident_id)
    assert incident is not None
    assert (incident.status, incident.resolved_at, incident.resolved) == (RESOLVED, at(55), True)
    assert incident.components == {"api": OK, "payments": OK}
    detail = repo.detail(incident_id)
    assert detail is not None
    assert detail.updates[0].affected_components == (
        AffectedComponent("api", DEGRADED, OK),
        AffectedComponent("payments", MAJOR, OK),
    )
    assert repo.unresolved() == []


def test_reopening_clears_the_resolution(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with repo.store.transaction() as conn:
        repo.resolve(conn, incident_id, body="done", author="automation", now=at(30))
        repo.add_update(
            conn, incident_id, status=INVESTIGATING, body="Back.", author="user:a", now=at(31)
        )
    incident = repo.get(incident_id)
    assert incident is not None
    assert (incident.status, incident.resolved_at) == (INVESTIGATING, None)


def test_set_components_replaces_the_set(repo: IncidentRepository) -> None:
    incident_id = create(repo, components={"payments": MAJOR, "api": DEGRADED})
    with repo.store.transaction() as conn:
        changed = repo.set_components(
            conn, incident_id, {"payments": PARTIAL, "projects": DEGRADED}, now=at(9)
        )
    assert changed == [
        AffectedComponent("payments", MAJOR, PARTIAL),
        AffectedComponent("projects", None, DEGRADED),
        AffectedComponent("api", DEGRADED, None),
    ]
    assert rows(repo, t.incident_components, t.incident_components.c.component_id) == [
        {"incident_id": incident_id, "component_id": "payments", "status": "partial_outage"},
        {"incident_id": incident_id, "component_id": "projects", "status": "degraded_performance"},
    ]
    incident = repo.get(incident_id)
    assert incident is not None
    assert incident.updated_at == at(9)


def test_edit_changes_title_and_impact(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with repo.store.transaction() as conn:
        repo.edit(conn, incident_id, at(3), name="Subscriptions shown as expired")
        repo.edit(conn, incident_id, at(4), impact=IncidentImpact.CRITICAL)
    incident = repo.get(incident_id)
    assert incident is not None
    assert (incident.name, incident.impact, incident.updated_at) == (
        "Subscriptions shown as expired",
        IncidentImpact.CRITICAL,
        at(4),
    )


def test_writes_to_a_missing_incident_raise(repo: IncidentRepository) -> None:
    with pytest.raises(KeyError), repo.store.transaction() as conn:
        repo.edit(conn, "nosuchincid0", at(1), name="x")
    with pytest.raises(KeyError), repo.store.transaction() as conn:
        repo.set_postmortem(conn, "nosuchincid0", "x", at(1))


def test_drafts_are_hidden_until_published_once(repo: IncidentRepository) -> None:
    draft_id = create(repo, publish=False, source="automatic")
    public_id = create(repo, name="API outage", components={"api": MAJOR}, now=at(2))
    assert [i.id for i in repo.recent()] == [public_id]
    assert [i.id for i in repo.unresolved()] == [public_id]
    assert [i.id for i in repo.recent(drafts=True)] == [public_id, draft_id]
    assert [i.id for i in repo.drafts()] == [draft_id]
    assert repo.for_component("payments") == []
    with repo.store.transaction() as conn:
        assert repo.publish(conn, draft_id, at(5)) is True
        assert repo.publish(conn, draft_id, at(6)) is False
    draft = repo.get(draft_id)
    assert draft is not None
    assert (draft.published_at, draft.published) == (at(5), True)
    assert repo.drafts() == []
    assert [i.id for i in repo.for_component("payments")] == [draft_id]


def test_listings(repo: IncidentRepository) -> None:
    first = create(repo, now=at(1))
    second = create(repo, name="API slow", components={"api": DEGRADED}, now=at(2))
    third = create(repo, name="Both", components={"api": MAJOR, "payments": MAJOR}, now=at(3))
    with repo.store.transaction() as conn:
        repo.resolve(conn, first, body="ok", author="automation", now=at(4))
    assert [i.id for i in repo.recent()] == [third, second, first]
    assert [i.id for i in repo.recent(limit=2)] == [third, second]
    assert [i.id for i in repo.unresolved()] == [third, second]
    assert [i.id for i in repo.for_component("payments")] == [third, first]
    assert [i.id for i in repo.for_component("api", limit=1)] == [third]
    assert repo.for_component("projects") == []
    assert repo.get("nosuchincid0") is None
    assert repo.detail("nosuchincid0") is None


def test_postmortem_needs_a_resolved_incident(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with pytest.raises(ValueError, match="resolved"), repo.store.transaction() as conn:
        repo.set_postmortem(conn, incident_id, "What happened", at(5))
    with repo.store.transaction() as conn:
        repo.resolve(conn, incident_id, body="done", author="user:a", now=at(30))
        repo.set_postmortem(conn, incident_id, "Draft text", at(40), publish=False)
    incident = repo.get(incident_id)
    assert incident is not None
    assert (incident.status, incident.postmortem_body, incident.postmortem_published_at) == (
        RESOLVED,
        "Draft text",
        None,
    )
    with repo.store.transaction() as conn:
        repo.set_postmortem(conn, incident_id, "## What happened\n\nA config.", at(50))
    incident = repo.get(incident_id)
    assert incident is not None
    assert incident.status is IncidentStatus.POSTMORTEM
    assert incident.postmortem_body == "## What happened\n\nA config."
    assert (incident.postmortem_published_at, incident.resolved_at) == (at(50), at(30))
    assert repo.unresolved() == []


def test_open_views_give_the_policy_what_it_needs(repo: IncidentRepository) -> None:
    auto_id = create(repo, source="automatic", publish=False, display_at=at(0))
    staff_id = create(repo, name="API", components={"api": DEGRADED}, now=at(2))
    with repo.store.transaction() as conn:
        repo.add_update(
            conn, auto_id, status=IDENTIFIED, body="x", author="user:a", now=at(9), display_at=at(8)
        )
    views = {v.id: v for v in repo.open_views()}
    auto, staff = views[auto_id], views[staff_id]
    assert (auto.status, auto.impact, auto.started_at, auto.last_change_at) == (
        IDENTIFIED,
        IncidentImpact.MAJOR,
        at(0),
        at(8),
    )
    assert (auto.published, auto.automatic, dict(auto.components)) == (
        False,
        True,
        {"payments": MAJOR},
    )
    assert (staff.published, staff.automatic, staff.last_change_at) == (True, False, at(2))


def test_policy_actions_applied_end_to_end(repo: IncidentRepository) -> None:
    """The seed outage through the policy and the repository."""
    policy = IncidentPolicy()
    payments = ComponentChange("payments", "Payments", OK, MAJOR, at(0))
    with repo.store.transaction() as conn:
        [opened] = on_component_change(repo.open_views(conn), payments, policy, at(0))
        assert isinstance(opened, OpenIncident)
        incident_id = repo.apply(conn, opened, now=at(0.5))
    api = ComponentChange("api", "API", OK, DEGRADED, at(3))
    with repo.store.transaction() as conn:
        [joined] = on_component_change(repo.open_views(conn), api, policy, at(3))
        assert isinstance(joined, JoinIncident)
        assert repo.apply(conn, joined, now=at(3)) == incident_id
        worse = ComponentChange("api", "API", DEGRADED, MAJOR, at(6))
        [update] = on_component_change(repo.open_views(conn), worse, policy, at(6))
        assert isinstance(update, AddUpdate)
        repo.apply(conn, update, now=at(6))
    recovered = {
        "payments": ComponentSnapshot("Payments", OK, at(100)),
        "api": ComponentSnapshot("API", OK, at(101)),
    }
    with repo.store.transaction() as conn:
        [view] = repo.open_views(conn)
        [monitoring] = tick(view, recovered, policy, at(110))
        assert isinstance(monitoring, AddUpdate)
        repo.apply(conn, monitoring, now=at(110))
    with repo.store.transaction() as conn:
        [view] = repo.open_views(conn)
        assert tick(view, recovered, policy, at(135)) == []
        [resolved] = tick(view, recovered, policy, at(136))
        assert isinstance(resolved, ResolveIncident)
        repo.apply(conn, resolved, now=at(136))
    assert repo.open_views() == []
    detail = repo.detail(incident_id)
    assert detail is not None
    incident = detail.incident
    assert (incident.name, incident.source, incident.impact, incident.status) == (
        "Payments outage",
        "automatic",
        IncidentImpact.CRITICAL,
        RESOLVED,
    )
    assert (incident.created_at, incident.published_at, incident.resolved_at) == (
        at(0),
        at(0.5),
        at(136),
    )
    assert [(u.status, u.body, u.display_at, u.author) for u in reversed(detail.updates)] == [
        (INVESTIGATING, "We are investigating an outage of Payments.", at(0), "automation"),
        (INVESTIGATING, "API is also affected.", at(3), "automation"),
        (INVESTIGATING, "API now has an outage.", at(6), "automation"),
        (
            MONITORING,
            # Components in page order.
            "API and Payments are operational again. We are monitoring the results.",
            at(106),
            "automation",
        ),
        (RESOLVED, "This incident has been resolved.", at(136), "automation"),
    ]
    assert [u.affected_components for u in reversed(detail.updates)] == [
        (AffectedComponent("payments", None, MAJOR),),
        (AffectedComponent("api", None, DEGRADED),),
        (AffectedComponent("api", DEGRADED, MAJOR),),
        (AffectedComponent("api", MAJOR, OK), AffectedComponent("payments", MAJOR, OK)),
        (),
    ]
    assert all(u.deliver_notifications for u in detail.updates)


def test_an_automatic_draft_stores_quiet_updates(repo: IncidentRepository) -> None:
    policy = IncidentPolicy(automatic="draft")
    change = ComponentChange("payments", "Payments", OK, DEGRADED, at(0))
    with repo.store.transaction() as conn:
        [opened] = on_component_change([], change, policy, at(0))
        incident_id = repo.apply(conn, opened, now=at(0))
    detail = repo.detail(incident_id)
    assert detail is not None
    assert detail.incident.published_at is None
    assert detail.incident.name == "Degraded performance of Payments"
    assert [u.deliver_notifications for u in detail.updates] == [False]
    assert [i.id for i in repo.drafts()] == [incident_id]


# --- overrides ---------------------------------------------------------------------


def test_overrides_are_set_replaced_and_released(repo: IncidentRepository) -> None:
    incident_id = create(repo)
    with repo.store.transaction() as conn:
        repo.set_override(conn, "payments", MAJOR, set_by="user:alice", now=at(1))
        repo.set_override(
            conn,
            "api",
            DEGRADED,
            set_by="alertmanager",
            now=at(2),
            reason="HighLatency firing",
            incident_id=incident_id,
        )
    assert repo.overrides() == {
        "api": Override("api", DEGRADED, "HighLatency firing", "alertmanager", at(2), incident_id),
        "payments": Override("payments", MAJOR, "", "user:alice", at(1), None),
    }
    with repo.store.transaction() as conn:
        repo.set_override(conn, "payments", OK, set_by="user:bob", now=at(5), reason="fixed")
    assert rows(repo, t.component_overrides, t.component_overrides.c.component_id)[1] == {
        "component_id": "payments",
        "status": "operational",
        "reason": "fixed",
        "set_by": "user:bob",
        "set_at": at(5),
        "incident_id": None,
    }
    with repo.store.transaction() as conn:
        assert repo.release_override(conn, "payments") is True
        assert repo.release_override(conn, "payments") is False
    assert list(repo.overrides()) == ["api"]


# --- deploy markers --------------------------------------------------------------


def test_deployments_recorded_and_found(repo: IncidentRepository) -> None:
    with repo.store.transaction() as conn:
        first = repo.record_deployment(
            conn, "payments", "v2.13", at=at(-60), now=at(-59), who="ci", link="https://ci/1"
        )
        second = repo.record_deployment(conn, "payments", "v2.14", at=at(-5), now=at(-4))
        other = repo.record_deployment(conn, "api", "v7", at=at(-1), now=at(-1), who="ci")
    assert rows(repo, t.deployments, t.deployments.c.id)[0] == {
        "id": first,
        "component_id": "payments",
        "version": "v2.13",
        "who": "ci",
        "link": "https://ci/1",
        "at": at(-60),
        "recorded_at": at(-59),
    }
    v214 = Deployment(second, "payments", "v2.14", "", None, at(-5), at(-4))
    assert repo.recent_deployments("payments") == [
        v214,
        Deployment(first, "payments", "v2.13", "ci", "https://ci/1", at(-60), at(-59)),
    ]
    assert [d.id for d in repo.recent_deployments()] == [other, second, first]
    assert [d.id for d in repo.recent_deployments(limit=1)] == [other]
    assert [d.id for d in repo.recent_deployments("payments", since=at(-30))] == [second]
    assert repo.last_deployment_before("payments", at(0)) == v214
    assert repo.last_deployment_before("payments", at(-5)) == v214  # at the same instant
    last = repo.last_deployment_before("payments", at(-5) - timedelta(seconds=1))
    assert last is not None
    assert last.version == "v2.13"
    assert repo.last_deployment_before("payments", at(-61)) is None
    assert repo.last_deployment_before("projects", at(0)) is None
