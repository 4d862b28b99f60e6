"""Staff incident pages through the real app: open, update, resolve,
postmortem, drafts, overrides that win over the checks, deploy hints, CSRF,
roles, field errors and the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from statuspage import audit
from statuspage.checks.base import CheckResult
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.test_admin_auth import add_user, csrf_token, logged_in, post_form

OK = ComponentStatus.OPERATIONAL
MAJOR = ComponentStatus.MAJOR_OUTAGE
NEW = "/admin/incidents/new"
HOSTILE = (
    "<script>alert(1)</script> {{7*7}} [click](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> **bold**"
)


def make_config() -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": "http://127.0.0.1:8080"},
            "components": [
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [
                        {"name": "health", "type": "http", "url": "http://payments.test/healthz"}
                    ],
                },
                {"id": "api", "name": "API"},
            ],
            "incidents": {
                "automatic": "draft",
                "templates": [
                    {
                        "name": "db",
                        "title": "Database trouble",
                        "status": "identified",
                        "impact": "major",
                        "body": "The database is slow; we are on it.",
                    }
                ],
            },
        },
        env={},
    )


@pytest.fixture
def monitor(sqlite_store: Store, clock: FakeClock) -> Monitor:
    monitor = Monitor(make_config(), sqlite_store, clock)
    monitor.start()
    # The check says Payments is fine.
    monitor.record("payments/health", CheckResult(clock(), OK, "HTTP 200"))
    return monitor


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock, monitor: Monitor) -> Flask:
    app = create_app(make_config(), sqlite_store, clock)
    app.testing = True
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def editor(app: Flask, sqlite_store: Store, clock: FakeClock) -> FlaskClient:
    add_user(sqlite_store, clock, "erin", "editor")
    return logged_in(app, "erin")


def open_form(**fields: str) -> dict[str, str]:
    data = {
        "title": "Payments outage",
        "status": "investigating",
        "impact": "major",
        "component-payments": "major_outage",
        "component-api": "",
        "body": "We are investigating failed payments.",
        "display_at": "",
        "notify": "y",
    }
    data.update(fields)
    return data


def open_incident(client: FlaskClient, **fields: str) -> str:
    answer = post_form(client, NEW, NEW, open_form(**fields))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    found = re.fullmatch(r"/admin/incidents/([a-z0-9]{12})", answer.location)
    assert found, answer.location
    return found.group(1)


def page_of(incident_id: str) -> str:
    return f"/admin/incidents/{incident_id}"


def update(client: FlaskClient, incident_id: str, status: str, body: str, **more: str) -> None:
    page = page_of(incident_id)
    data = {"status": status, "body": body, "display_at": "", "notify": "y", **more}
    answer = post_form(client, page, f"{page}/updates", data)
    assert answer.status_code == 302, answer.get_data(as_text=True)


def status_of(store: Store, component_id: str) -> ComponentStatus:
    component = store.component(component_id)
    assert component is not None
    return component.status


# The pages' own script, stylesheets and favicon (a base64 `data:` URI).
OUR_ASSETS = (
    r'<script src="/static/[\w.]+\?v=[0-9a-f]{12}" defer></script>'
    r'|<link rel="stylesheet" href="/static/[\w.]+\?v=[0-9a-f]{12}">'
    r'|<link rel="icon" href="data:image/svg\+xml;base64,[\w+/=]+" type="image/svg\+xml">'
)


def test_hostile_markdown_is_inert_on_the_public_and_admin_pages(
    editor: FlaskClient, app: Flask
) -> None:
    incident_id = open_incident(editor, title="<b>{{7*7}}</b>", body=HOSTILE)
    pages = [
        app.test_client().get(f"/incidents/{incident_id}").get_data(as_text=True),
        editor.get(page_of(incident_id)).get_data(as_text=True),
    ]
    for page in pages:
        html = re.sub(OUR_ASSETS, "", page)
        assert "<strong>bold</strong>" in html
        assert "<script" not in html and "<img" not in html
        assert re.search(r"<[^<>]*\bonerror", html) is None  # only as escaped text
        assert "javascript:" not in html.replace("[click](javascript:alert(1))", "")
        # Neither the title nor the body is a template. (Ids and tokens on
        # the page are random and may hold "49": look only where 7*7 would go.)
        assert "&lt;b&gt;49&lt;/b&gt;" not in html and " 49 " not in html
        assert "{{7*7}}" in html
        assert "&lt;b&gt;{{7*7}}&lt;/b&gt;" in html  # the title is text


def test_a_whole_incident_from_the_admin(
    editor: FlaskClient, app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    assert status_of(sqlite_store, "payments") is OK
    incident_id = open_incident(editor)
    # The person's word wins over the check, which still says operational.
    assert status_of(sqlite_store, "payments") is MAJOR
    index = app.test_client().get("/").get_data(as_text=True)
    assert "set by staff: incident Payments outage" in index
    override = IncidentRepository(sqlite_store).overrides()["payments"]
    assert override.incident_id == incident_id and override.set_by == "user:erin"

    clock.advance(minutes=10)
    update(
        editor,
        incident_id,
        "identified",
        "A bad deploy; rolling back.",
        **{"component-payments": "partial_outage"},
    )
    assert status_of(sqlite_store, "payments") is ComponentStatus.PARTIAL_OUTAGE
    clock.advance(minutes=10)
    update(editor, incident_id, "monitoring", "Rolled back; watching.")
    clock.advance(minutes=10)
    page = page_of(incident_id)
    resolved = post_form(
        editor, page, f"{page}/resolve", {"body": "All payments go through.", "notify": "y"}
    )
    assert resolved.status_code == 302
    # Released: the check decides again.
    assert status_of(sqlite_store, "payments") is OK
    assert IncidentRepository(sqlite_store).overrides() == {}
    clock.advance(minutes=20)  # within the session's idle limit
    postmortem = post_form(
        editor, page, f"{page}/postmortem", {"body": "## Cause\nA config typo.", "publish": "y"}
    )
    assert postmortem.status_code == 302

    public = app.test_client().get(f"/incidents/{incident_id}").get_data(as_text=True)
    bodies = [
        "All payments go through.",
        "Rolled back; watching.",
        "A bad deploy; rolling back.",
        "We are investigating failed payments.",
    ]
    positions = [public.index(b) for b in bodies]
    assert positions == sorted(positions)  # newest first
    assert "<h4>Cause</h4>" in public and "A config typo." in public
    assert "user:erin" not in public  # authors are for staff

    admin_page = editor.get(page).get_data(as_text=True)
    assert admin_page.count("by user:erin") == 4

    incident_rows = [e for e in audit.recent(sqlite_store) if e.target_id == incident_id]
    assert [e.action for e in incident_rows] == [
        "incident.postmortem",
        "incident.resolve",
        "incident.update",
        "incident.update",
        "incident.create",
    ]
    assert all(e.actor == "user:erin" for e in incident_rows)
    identified = incident_rows[3]
    assert identified.before is not None and identified.after is not None
    assert identified.before["status"] == "investigating"
    assert identified.after["components"] == {"payments": "partial_outage"}
    component_rows = [
        (e.action, e.after) for e in audit.recent(sqlite_store) if e.target_id == "payments"
    ]
    assert component_rows == [
        ("override.release", None),
        ("override.set", {"incident_id": incident_id, "status": "partial_outage"}),
        ("override.set", {"incident_id": incident_id, "status": "major_outage"}),
    ]


def test_a_draft_is_published_with_one_click(
    editor: FlaskClient, app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    with sqlite_store.transaction() as conn:
        draft = IncidentRepository(sqlite_store).create(
            conn,
            name="Degraded performance of Payments",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MINOR,
            components={"payments": ComponentStatus.DEGRADED_PERFORMANCE},
            body="We are investigating degraded performance of Payments.",
            author="automation",
            now=clock(),
            source="automatic",
            publish=False,
        )
    assert app.test_client().get(f"/incidents/{draft}").status_code == 404
    listing = editor.get("/admin/incidents").get_data(as_text=True)
    drafts = listing[listing.index('aria-label="Drafts"') : listing.index('aria-label="Open')]
    assert f"/admin/incidents/{draft}/publish" in drafts
    answer = editor.post(
        f"/admin/incidents/{draft}/publish",
        data={"csrf_token": csrf_token(listing), "back": "list"},
    )
    assert answer.status_code == 302 and answer.location == "/admin/incidents"
    assert app.test_client().get(f"/incidents/{draft}").status_code == 200
    assert IncidentRepository(sqlite_store).drafts() == []
    entry = audit.recent(sqlite_store, limit=1)[0]
    assert (entry.action, entry.target_id, entry.before) == (
        "incident.publish",
        draft,
        {"published_at": None},
    )


def test_a_viewer_reads_but_cannot_change(
    editor: FlaskClient, app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    incident_id = open_incident(editor)
    add_user(sqlite_store, clock, "vic", "viewer")
    viewer = logged_in(app, "vic")
    page = page_of(incident_id)
    html = viewer.get(page).get_data(as_text=True)
    assert "Payments outage" in html and "Post update" not in html
    assert viewer.get(NEW).status_code == 403
    token = csrf_token(html)
    for action in (NEW, *(f"{page}/{a}" for a in ("updates", "resolve", "edit", "publish"))):
        answer = viewer.post(action, data={**open_form(), "csrf_token": token})
        assert answer.status_code == 403, action
    answer = viewer.post(f"{page}/postmortem", data={"body": "x", "csrf_token": token})
    assert answer.status_code == 403
    assert len(IncidentRepository(sqlite_store).detail(incident_id).updates) == 1  # type: ignore[union-attr]


def test_every_incident_post_without_a_csrf_token_is_400(
    editor: FlaskClient, app: Flask, sqlite_store: Store
) -> None:
    incident_id = open_incident(editor)
    before = audit.count(sqlite_store)
    posts = [
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin/incidents") and "POST" in (r.methods or set())
    ]
    assert len(posts) == 6
    for rule in posts:
        path = rule.replace("<incident_id>", incident_id)
        answer = editor.post(path, data={**open_form(), "back": "list"})
        assert answer.status_code == 400, rule
        assert "The form could not be accepted" in answer.get_data(as_text=True)
    assert audit.count(sqlite_store) == before


def test_field_errors_keep_what_was_typed(editor: FlaskClient, sqlite_store: Store) -> None:
    answer = post_form(
        editor,
        NEW,
        NEW,
        open_form(title="  ", body="Typed *carefully*.", display_at="yesterday-ish"),
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Give the incident a title." in html
    assert "Write the time as YYYY-MM-DD HH:MM" in html
    assert "Typed *carefully*.</textarea>" in html
    assert 'value="yesterday-ish"' in html
    assert re.search(r'<option selected value="major_outage">', html)
    assert IncidentRepository(sqlite_store).recent() == []

    incident_id = open_incident(editor)
    page = page_of(incident_id)
    empty = post_form(editor, page, f"{page}/updates", {"status": "identified", "body": ""})
    assert empty.status_code == 422 and "Write what changed." in empty.get_data(as_text=True)


def test_a_display_time_is_local_and_not_in_the_future(
    editor: FlaskClient, sqlite_store: Store, clock: FakeClock
) -> None:
    future = post_form(editor, NEW, NEW, open_form(display_at="2026-09-15 06:00"))
    assert "The display time is in the future" in future.get_data(as_text=True)
    incident_id = open_incident(editor, display_at="2026-09-15 04:30")
    row = IncidentRepository(sqlite_store).get(incident_id)
    assert row is not None and row.created_at == clock() - timedelta(minutes=30)


def test_a_template_prefills_the_form(editor: FlaskClient) -> None:
    html = editor.get(f"{NEW}?template=db").get_data(as_text=True)
    assert 'value="Database trouble"' in html
    assert "The database is slow; we are on it.</textarea>" in html
    assert '<option selected value="identified">' in html
    assert '<option selected value="major">' in html
    assert "There is no template named nope." in editor.get(f"{NEW}?template=nope").get_data(
        as_text=True
    )


def test_the_deploy_before_the_outage_is_named_for_staff_only(
    editor: FlaskClient, app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    repo = IncidentRepository(sqlite_store)
    with sqlite_store.transaction() as conn:
        repo.record_deployment(
            conn, "payments", "v2.13", at=clock() - timedelta(days=2), now=clock(), who="ci"
        )
        repo.record_deployment(
            conn, "payments", "v2.14", at=clock() - timedelta(minutes=3), now=clock(), who="ci"
        )
    incident_id = open_incident(editor)
    html = editor.get(page_of(incident_id)).get_data(as_text=True)
    assert "Payments went down 3 min after deploy v2.14 by ci" in html
    assert "v2.13" in html  # listed, not blamed
    for path in ("/", f"/incidents/{incident_id}", "/components/payments"):
        public = app.test_client().get(path).get_data(as_text=True)
        assert "v2.14" not in public and "deploy" not in public.lower(), path
