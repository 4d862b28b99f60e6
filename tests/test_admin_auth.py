"""The admin's doors: route inventory, CSRF, sessions, roles, login limits,
redirects, cookies and the audit trail, through the real app."""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from statuspage import audit, auth
from statuspage.config import Config, parse_config
from statuspage.store import Store
from statuspage.store.users import User, UserRepository
from statuspage.web import create_app
from statuspage.web.admin import SecretKeyError, secret_key_for
from statuspage.web.admin.login import WRONG_CREDENTIALS
from statuspage.web.admin.session import SESSION_COOKIE_NAME, safe_next
from tests.conftest import FakeClock

PASSWORD = "correct horse battery staple"

# Routes anyone may call without logging in. A new public route must be
# added here on purpose; anything else must refuse a visitor (SEC-12).
# Listed: the public interface of DESIGN.md (some not built yet).
PUBLIC = {
    "/",
    "/components/<component_id>",
    "/incidents/<incident_id>",
    "/history",
    "/badge.svg",
    "/components/<component_id>/badge.svg",
    "/history.rss",
    "/history.atom",
    "/components/<component_id>/history.rss",
    "/components/<component_id>/history.atom",
    *(
        f"/api/v2/{name}.json"
        for name in (
            "summary",
            "status",
            "components",
            "incidents",
            "incidents/unresolved",
            "scheduled-maintenances",
            "scheduled-maintenances/upcoming",
            "scheduled-maintenances/active",
        )
    ),
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/<path:filename>",
    "/api/v1/heartbeat/<token>",
    "/api/v1/heartbeat/<token>/fail",
    "/api/v1/openapi.json",
    "/admin/login",
    "/subscribe",
    "/subscribe/confirm/<token>",
    "/unsubscribe/<token>",
    "/subscriptions/<token>",
}


def make_config(url: str = "http://127.0.0.1:8080") -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": url},
            "components": [{"id": "api", "name": "API"}],
        },
        env={},
    )


def make_app(store: Store, clock: FakeClock, url: str = "http://127.0.0.1:8080") -> Flask:
    app = create_app(make_config(url), store, clock)
    app.testing = True
    return app


@pytest.fixture
def app(sqlite_store: Store, clock: FakeClock) -> Flask:
    return make_app(sqlite_store, clock)


def add_user(
    store: Store, clock: FakeClock, name: str, role: str, password: str = PASSWORD
) -> User:
    return UserRepository(store).create(
        name, role, auth.hash_password(password), actor="test", at=clock()
    )


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    next_: str | None = None,
    **kwargs: Any,
) -> TestResponse:
    path = "/admin/login" + (f"?next={next_}" if next_ is not None else "")
    token = csrf_token(client.get(path, **kwargs).get_data(as_text=True))
    return client.post(
        path, data={"username": username, "password": password, "csrf_token": token}, **kwargs
    )


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = login(client, username)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, str]) -> TestResponse:
    """Post `data` to `action` with the CSRF token of `page`, as a browser would."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token})


def goes_to_login(answer: TestResponse) -> bool:
    return answer.status_code == 302 and answer.location.startswith("/admin/login")


def sample_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "1", rule)


def flashed(client: FlaskClient) -> str:
    return client.get("/admin/login").get_data(as_text=True)


# --- SEC-12: the route inventory -------------------------------------------


def test_every_route_outside_the_public_list_refuses_a_visitor(app: Flask) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule not in PUBLIC]
    assert {"/admin/", "/admin/users", "/admin/audit"} <= {r.rule for r in rules}
    visitor = app.test_client()
    checked = []
    for rule in rules:
        path = sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            # A visitor with a valid CSRF token (from the login page) but no
            # login, so that a POST is judged on credentials, not on the token.
            token = csrf_token(visitor.get("/admin/login").get_data(as_text=True))
            data = {"csrf_token": token} if method != "GET" else None
            answer = visitor.open(path, method=method, data=data)
            refused = goes_to_login(answer) or answer.status_code in (401, 403)
            assert refused, f"{method} {rule.rule} answered {answer.status_code} to a visitor"
            checked.append(f"{method} {rule.rule}")
    assert "POST /admin/users/<int:user_id>/role" in checked
    assert {
        "GET /admin/subscribers",
        "POST /admin/subscribers/webhooks",
        "POST /admin/subscribers/<subscriber_id>/enable",
        "POST /admin/subscribers/<subscriber_id>/rotate",
        "POST /admin/subscribers/<subscriber_id>/delete",
        "GET /admin/deliveries",
        "POST /admin/deliveries/<int:delivery_id>/retry",
    } <= set(checked)


def test_every_token_guarded_api_route_answers_401_without_a_token(app: Flask) -> None:
    # The write API has no login page: a request without a bearer token gets
    # 401 and a `WWW-Authenticate: Bearer` challenge, never data (SEC-12).
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/") and r.rule not in PUBLIC
    ]
    assert "/api/v1/deployments" in {r.rule for r in rules}
    visitor = app.test_client()
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = visitor.open(sample_path(rule.rule), method=method, json={})
            assert answer.status_code == 401, f"{method} {rule.rule} answered {answer.status_code}"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer"), rule.rule
            assert answer.json is not None and answer.json["error"]


def test_api_tokens_do_not_open_the_admin(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    # The admin only knows session cookies: even an admin's bearer token is
    # no way in (SEC-19).
    root = add_user(sqlite_store, clock, "root", "admin")
    token = auth.new_api_token()
    UserRepository(sqlite_store).create_token(
        "ci", "admin", auth.hash_api_token(token), root.id, actor="test", at=clock()
    )
    answer = app.test_client().get("/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert goes_to_login(answer)


def test_an_admin_view_without_an_access_rule_is_refused(app: Flask) -> None:
    app.add_url_rule("/admin/forgotten", endpoint="admin.forgotten", view_func=lambda: "open")
    add_user(app.extensions["statuspage"]["store"], FakeClock(), "root", "admin")
    answer = logged_in(app, "root").get("/admin/forgotten")
    assert answer.status_code == 403
    assert "no access rule" in answer.get_data(as_text=True)


# --- WEB-03: CSRF ------------------------------------------------------------


def test_every_admin_post_without_a_csrf_token_is_400(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    root = add_user(sqlite_store, clock, "root", "admin")
    client = logged_in(app, "root")
    posts = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin") and "POST" in (r.methods or set())
    ]
    assert len(posts) >= 6
    for rule in posts:
        path = sample_path(rule.rule).replace("/1/", f"/{root.id}/")
        answer = client.post(path, data={"username": "x", "role": "viewer"})
        assert answer.status_code == 400, f"POST {rule.rule} answered {answer.status_code}"
        assert "The form could not be accepted" in answer.get_data(as_text=True)
    assert client.get("/admin/").status_code == 200  # still logged in: nothing happened
    assert [u.username for u in UserRepository(sqlite_store).all()] == ["root"]


def test_a_csrf_token_from_another_session_is_400(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    add_user(sqlite_store, clock, "other", "admin")
    mine, theirs = logged_in(app, "root"), logged_in(app, "other")
    their_token = csrf_token(theirs.get("/admin/users/new").get_data(as_text=True))
    mine.get("/admin/users/new")
    answer = mine.post(
        "/admin/users/new",
        data={"username": "mallory", "role": "admin", "password": "", "csrf_token": their_token},
    )
    assert answer.status_code == 400
    assert UserRepository(sqlite_store).by_name("mallory") is None


def test_an_expired_csrf_token_is_400(
    app: Flask, sqlite_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = logged_in(app, "root")
    token = csrf_token(client.get("/admin/users/new").get_data(as_text=True))
    later = int(time.time()) + 3601
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)
    answer = client.post(
        "/admin/users/new",
        data={"username": "late", "role": "viewer", "password": "", "csrf_token": token},
    )
    assert answer.status_code == 400
    assert "expired" in answer.get_data(as_text=True)


def test_the_api_is_exempt_from_csrf(app: Flask) -> None:
    # Bearer tokens, no cookies: a heartbeat ping needs no CSRF token.
    answer = app.test_client().post("/api/v1/heartbeat/unknown-token")
    assert answer.status_code == 404 and answer.json == {"error": "unknown heartbeat token"}


# --- WEB-02, WEB-04: logging in ------------------------------------------------


def test_login_rotates_the_session(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"  # a session fixed before the login
    pre_token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    with client.session_transaction() as before:
        assert before["planted"] and before["csrf_token"]
    answer = client.post(
        "/admin/login", data={"username": "root", "password": PASSWORD, "csrf_token": pre_token}
    )
    assert answer.status_code == 302
    with client.session_transaction() as current:
        assert set(current) == {"uid", "sv", "login_at", "seen_at", "_permanent"}
    # The token of the session before the login is worthless after it.
    stale = client.post(
        "/admin/users/new",
        data={"username": "x1", "role": "viewer", "password": "", "csrf_token": pre_token},
    )
    assert stale.status_code == 400


def test_wrong_password_and_unknown_user_get_the_same_answer(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    wrong = login(client, "root", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 200

    def normalized(answer: TestResponse, name: str) -> str:
        html = answer.get_data(as_text=True).replace(f'value="{name}"', 'value="NAME"')
        return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "TOKEN", html)

    assert WRONG_CREDENTIALS in wrong.get_data(as_text=True)
    assert normalized(wrong, "root") == normalized(unknown, "nobody")
    assert 'value="root"' in wrong.get_data(as_text=True)  # what was typed stays
    assert PASSWORD not in wrong.get_data(as_text=True)
    assert goes_to_login(client.get("/admin/"))


def test_login_form_mistakes_are_field_errors(app: Flask) -> None:
    client = app.test_client()
    answer = login(client, "", "")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<ul class="field-errors" id="username-errors"><li>This field is required.</li>' in html
    assert '<ul class="field-errors" id="password-errors"><li>This field is required.</li>' in html


def test_a_disabled_user_cannot_log_in(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    bob = add_user(sqlite_store, clock, "bob", "editor")
    UserRepository(sqlite_store).set_disabled(bob.id, True, actor="test", at=clock())
    answer = login(app.test_client(), "bob")
    assert answer.status_code == 403
    assert "This account is disabled" in answer.get_data(as_text=True)


def test_a_legacy_hash_is_upgraded_at_login(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    users = UserRepository(sqlite_store)
    old = users.create(
        "legacy",
        "viewer",
        generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
        actor="import",
        at=clock(),
    )
    client = logged_in(app, "legacy")
    found = users.credentials("legacy")
    assert found is not None and found[1].startswith("$argon2id$")
    assert found[0].session_version == old.session_version
    assert client.get("/admin/").status_code == 200
    assert logged_in(app, "legacy").get("/admin/").status_code == 200  # the new hash works


def test_the_login_page_says_how_to_create_the_first_user(app: Flask) -> None:
    html = app.test_client().get("/admin/login").get_data(as_text=True)
    assert "statuspage user add NAME --role admin --config FILE" in html


# --- WEB-05: login limits ------------------------------------------------------


def test_five_failures_per_username_then_429_from_any_address(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    for n in range(5):
        answer = login(client, "root", "guess", environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
        assert answer.status_code == 200
    blocked = login(client, "root", PASSWORD, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "900"
    html = blocked.get_data(as_text=True)
    assert "Too many failed log-in attempts. Try again in 15 minutes." in html
    assert 'value="root"' in html
    # Another user is not blocked.
    add_user(sqlite_store, clock, "other", "viewer")
    other = login(app.test_client(), "other", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 302

    clock.advance(15 * 60 - 1)
    assert login(client, "root", PASSWORD).status_code == 429
    clock.advance(1)  # the failures are now 15 minutes old: they no longer count
    assert login(client, "root", PASSWORD).status_code == 302
    failures = [e for e in audit.recent(sqlite_store) if e.action == "user.login_failed"]
    assert len(failures) == 5  # blocked tries are not even checked
    assert failures[0].actor == "ip:198.51.100.4" and failures[0].target_id == "root"


def test_five_failures_per_address_then_429_for_any_username(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    for n in range(5):
        assert login(client, f"guess{n}", "guess").status_code == 200
        clock.advance(60)
    blocked = login(client, "root", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == str(15 * 60 - 5 * 60)
    assert "Try again in 10 minutes." in blocked.get_data(as_text=True)
    other = login(client, "root", PASSWORD, environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert other.status_code == 302


# --- SEC-09, SEC-10: sessions end ----------------------------------------------


def test_a_password_reset_logs_the_user_out_everywhere(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    bob = add_user(sqlite_store, clock, "bob", "editor")
    admin, victim = logged_in(app, "root"), logged_in(app, "bob")
    assert victim.get("/admin/").status_code == 200
    page = f"/admin/users/{bob.id}"
    answer = post_form(admin, page, f"{page}/password", {"password": "a brand new password"})
    assert answer.status_code == 302
    old_cookie = victim.get("/admin/")
    assert goes_to_login(old_cookie)
    assert "Your session has ended" in flashed(victim)
    fresh = app.test_client()
    assert login(fresh, "bob", "a brand new password").status_code == 302


def test_disabling_a_user_logs_them_out(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    bob = add_user(sqlite_store, clock, "bob", "editor")
    admin, victim = logged_in(app, "root"), logged_in(app, "bob")
    page = f"/admin/users/{bob.id}"
    assert post_form(admin, page, f"{page}/disable", {}).status_code == 302
    assert goes_to_login(victim.get("/admin/"))
    assert login(app.test_client(), "bob").status_code == 403
    assert post_form(admin, page, f"{page}/enable", {}).status_code == 302
    assert goes_to_login(victim.get("/admin/"))  # enabling does not revive old sessions
    assert logged_in(app, "bob").get("/admin/").status_code == 200


def test_changing_ones_own_password_ends_only_the_other_sessions(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "bob", "viewer")
    here, elsewhere = logged_in(app, "bob"), logged_in(app, "bob")
    differ = post_form(
        here,
        "/admin/account",
        "/admin/account",
        {"current_password": PASSWORD, "new_password": "x" * 12, "confirm": "y" * 12},
    )
    assert differ.status_code == 200
    assert "The two passwords differ." in differ.get_data(as_text=True)
    wrong = post_form(
        here,
        "/admin/account",
        "/admin/account",
        {"current_password": "not it", "new_password": "x" * 12, "confirm": "x" * 12},
    )
    assert "This is not your current password." in wrong.get_data(as_text=True)
    answer = post_form(
        here,
        "/admin/account",
        "/admin/account",
        {
            "current_password": PASSWORD,
            "new_password": "new passphrase 1",
            "confirm": "new passphrase 1",
        },
    )
    assert answer.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert goes_to_login(elsewhere.get("/admin/"))


def test_idle_sessions_expire_after_30_minutes(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "bob", "viewer")
    client = logged_in(app, "bob")
    clock.advance(minutes=29, seconds=59)
    assert client.get("/admin/").status_code == 200  # activity resets the idle clock
    clock.advance(minutes=29, seconds=59)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=30)
    assert goes_to_login(client.get("/admin/"))
    assert "expired after 30 minutes without activity" in flashed(client)
    assert goes_to_login(client.get("/admin/"))


def test_sessions_end_after_12_hours_however_active(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "bob", "viewer")
    client = logged_in(app, "bob")
    for _ in range(24):  # active every 29 minutes for 11 h 36 min
        clock.advance(minutes=29)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=23, seconds=59)  # 11:59:59 after the login
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=1)
    answer = client.get("/admin/users")
    assert goes_to_login(answer)
    assert answer.location == "/admin/login?next=/admin/users"
    assert "reached its 12-hour limit" in flashed(client)


def test_logout_is_post_only_and_ends_the_session(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "bob", "viewer")
    client = logged_in(app, "bob")
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200
    answer = post_form(client, "/admin/", "/admin/logout", {})
    assert goes_to_login(answer)
    assert "You have logged out." in flashed(client)
    assert goes_to_login(client.get("/admin/"))


# --- roles ---------------------------------------------------------------------


def test_an_editor_cannot_manage_users_or_read_the_audit_log(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    root = add_user(sqlite_store, clock, "root", "admin")
    add_user(sqlite_store, clock, "ed", "editor")
    editor = logged_in(app, "ed")
    home = editor.get("/admin/").get_data(as_text=True)
    assert "/admin/users" not in home and "/admin/audit" not in home
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{root.id}", "/admin/audit"):
        answer = editor.get(path)
        assert answer.status_code == 403, path
        assert "needs the <strong>admin</strong> role" in answer.get_data(as_text=True)
    token = csrf_token(home)
    for path, data in [
        ("/admin/users/new", {"username": "ed2", "role": "admin", "password": ""}),
        (f"/admin/users/{root.id}/role", {"role": "viewer"}),
        (f"/admin/users/{root.id}/disable", {}),
        (f"/admin/users/{root.id}/password", {"password": "taken over password"}),
    ]:
        assert editor.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    users = UserRepository(sqlite_store)
    assert [u.username for u in users.all()] == ["ed", "root"]
    assert users.get(root.id) == root


# --- WEB-17: redirects -----------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("https://evil.example/", "/admin/"),
        ("//evil.example/admin", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("\\\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
        ("http:/evil.example", "/admin/"),
        ("/admin/users?x=1", "/admin/users?x=1"),
    ],
)
def test_after_login_only_local_paths_are_followed(
    app: Flask, sqlite_store: Store, clock: FakeClock, target: str, landing: str
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    answer = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"username": "root", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302
    assert answer.location == landing


def test_safe_next_edges(app: Flask) -> None:
    with app.test_request_context():
        assert safe_next(None) == "/admin/"
        assert safe_next("") == "/admin/"
        assert safe_next("/admin/audit?page=2") == "/admin/audit?page=2"
        assert safe_next("/x\r\nLocation: https://evil.example") == "/admin/"
        assert safe_next("/" + "a" * 3000) == "/admin/"


# --- WEB-01, WEB-16: cookies and the key -------------------------------------------


def test_cookie_flags_with_an_https_site(sqlite_store: Store, clock: FakeClock) -> None:
    app = make_app(sqlite_store, clock, url="https://status.acme.example")
    add_user(sqlite_store, clock, "root", "admin")
    client = app.test_client()
    base = {
        "base_url": "https://status.acme.example",
        "headers": {"Referer": "https://status.acme.example/admin/login"},
    }
    answer = login(client, "root", **base)
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE_NAME}=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie.split("; "), cookie
    assert client.get("/admin/", **base).status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"


def test_cookie_flags_with_a_plain_http_site(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    cookie = login(app.test_client(), "root").headers["Set-Cookie"]
    flags = cookie.split("; ")
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Secure" not in flags


def test_public_pages_set_no_cookie(app: Flask) -> None:
    # A cookie on the public page would make it uncacheable for a CDN.
    client = app.test_client()
    for path in ("/", "/components/api", "/healthz"):
        assert "Set-Cookie" not in client.get(path).headers, path


def test_the_generated_key_is_kept_beside_the_database(
    sqlite_store: Store, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATUSPAGE_SECRET_KEY")
    first = make_app(sqlite_store, clock)
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == key_file.read_text().strip() and len(first.secret_key or "") >= 32
    add_user(sqlite_store, clock, "root", "admin")
    client = logged_in(first, "root")
    cookie = client.get_cookie(SESSION_COOKIE_NAME)
    assert cookie is not None
    # A restart reads the same key: the session survives.
    second = make_app(sqlite_store, clock)
    again = second.test_client()
    again.set_cookie(SESSION_COOKIE_NAME, cookie.value)
    assert again.get("/admin/").status_code == 200


def test_secret_key_sources_and_refusals(tmp_path: Path) -> None:
    config = make_config()
    sqlite = f"sqlite:///{tmp_path / 'db' / 'statuspage.db'}"
    postgres = "postgresql+psycopg://statuspage@db.internal/statuspage"
    good = "k" * 32
    assert secret_key_for(config, postgres, env={"STATUSPAGE_SECRET_KEY": good}) == good
    configured = SimpleNamespace(admin=SimpleNamespace(secret_key="c" * 40), database_url=None)
    assert secret_key_for(configured, postgres, env={}) == "c" * 40  # type: ignore[arg-type]
    with pytest.raises(SecretKeyError, match="the secret key is 8 characters; use at least 32"):
        secret_key_for(config, sqlite, env={"STATUSPAGE_SECRET_KEY": "changeme"})
    with pytest.raises(SecretKeyError, match="no secret key: set STATUSPAGE_SECRET_KEY"):
        secret_key_for(config, postgres, env={})
    with pytest.raises(SecretKeyError):
        secret_key_for(config, "sqlite://", env={})
    generated = secret_key_for(config, sqlite, env={})
    assert (tmp_path / "db" / "secret_key").read_text().strip() == generated
    assert secret_key_for(config, sqlite, env={}) == generated


def test_the_app_refuses_to_start_without_a_key_for_postgres(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATUSPAGE_SECRET_KEY", raising=False)
    store = Store("postgresql+psycopg://statuspage@127.0.0.1:1/none")  # never connected
    try:
        with pytest.raises(SecretKeyError):
            create_app(make_config(), store, clock)
        monkeypatch.setenv("STATUSPAGE_SECRET_KEY", "s" * 48)
        assert create_app(make_config(), store, clock).secret_key == "s" * 48
    finally:
        store.close()


# --- users pages and the audit trail (WEB-18, SEC-20) --------------------------------


def test_user_changes_are_audited_and_pages_never_show_hashes(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    admin = logged_in(app, "root")
    created = post_form(
        admin,
        "/admin/users/new",
        "/admin/users/new",
        {"username": "Dana", "role": "editor", "password": ""},
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "Created editor dana" in html
    password = re.search(r'<p class="secret"><code>([^<]+)</code>', html)
    assert password is not None
    assert created.headers["Cache-Control"] == "no-store"
    assert login(app.test_client(), "dana", password.group(1)).status_code == 302
    dana = UserRepository(sqlite_store).by_name("dana")
    assert dana is not None
    page = f"/admin/users/{dana.id}"
    assert post_form(admin, page, f"{page}/role", {"role": "viewer"}).status_code == 302
    assert post_form(admin, page, f"{page}/disable", {}).status_code == 302
    assert post_form(admin, page, f"{page}/enable", {}).status_code == 302
    assert (
        post_form(admin, page, f"{page}/password", {"password": "dana's new password"}).status_code
        == 302
    )

    entries = [e for e in audit.recent(sqlite_store) if e.target_id == "dana"]
    assert [(e.actor, e.action) for e in entries] == [
        ("user:root", "user.password"),
        ("user:root", "user.enable"),
        ("user:root", "user.disable"),
        ("user:root", "user.role"),
        ("user:dana", "user.login"),
        ("user:root", "user.create"),
    ]
    role_change = entries[3]
    assert role_change.before is not None and role_change.after is not None
    assert (role_change.before["role"], role_change.after["role"]) == ("editor", "viewer")

    for path in ("/admin/users", page, "/admin/audit"):
        body = admin.get(path).get_data(as_text=True)
        assert "$argon2" not in body and "pbkdf2" not in body, path
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    assert "user.role" in audit_page and '"role": "viewer"' in audit_page


def test_new_user_form_keeps_what_was_typed(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    admin = logged_in(app, "root")
    short = post_form(
        admin,
        "/admin/users/new",
        "/admin/users/new",
        {"username": "erin", "role": "admin", "password": "short"},
    )
    html = short.get_data(as_text=True)
    assert short.status_code == 200
    assert "The password must be at least 12 characters." in html
    assert 'value="erin"' in html and '<option selected value="admin">' in html
    taken = post_form(
        admin,
        "/admin/users/new",
        "/admin/users/new",
        {"username": "root", "role": "viewer", "password": ""},
    )
    assert "A user named root exists already." in taken.get_data(as_text=True)
    bad = post_form(
        admin,
        "/admin/users/new",
        "/admin/users/new",
        {"username": "no way", "role": "viewer", "password": ""},
    )
    assert "Use 1 to 64 lowercase letters" in bad.get_data(as_text=True)


def test_the_last_admin_cannot_be_demoted_or_disabled(
    app: Flask, sqlite_store: Store, clock: FakeClock
) -> None:
    root = add_user(sqlite_store, clock, "root", "admin")
    admin = logged_in(app, "root")
    page = f"/admin/users/{root.id}"
    demote = post_form(admin, page, f"{page}/role", {"role": "editor"})
    assert "root is the last enabled admin" in demote.get_data(as_text=True)
    post_form(admin, page, f"{page}/disable", {})
    assert "root is the last enabled admin" in admin.get(page).get_data(as_text=True)
    after = UserRepository(sqlite_store).get(root.id)
    assert after is not None and after.role == "admin" and not after.disabled
    add_user(sqlite_store, clock, "second", "admin")
    assert post_form(admin, page, f"{page}/role", {"role": "editor"}).status_code == 302
    assert admin.get("/admin/users").status_code == 403  # the role is read on every request


def test_the_audit_log_pages(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    add_user(sqlite_store, clock, "root", "admin")
    with sqlite_store.transaction() as conn:
        for n in range(118):
            clock.advance(1)
            audit.record(
                conn, "automation", "component.status", "component", f"c{n}", None, {}, clock()
            )
    admin = logged_in(app, "root")  # + the login: 120 entries
    first = admin.get("/admin/audit").get_data(as_text=True)
    assert first.count("<tr>") == 51 and "Older &rarr;" in first and "Newer" not in first
    assert "user.login" in first  # newest first
    last = admin.get("/admin/audit?page=3").get_data(as_text=True)
    assert last.count("<tr>") == 21 and "Older" not in last and "&larr; Newer" in last
    assert "c0" in last
    assert admin.get("/admin/audit?page=-4").status_code == 200


def test_dashboard_has_a_block_for_more(app: Flask, sqlite_store: Store, clock: FakeClock) -> None:
    add_user(sqlite_store, clock, "vic", "viewer")
    html = logged_in(app, "vic").get("/admin/").get_data(as_text=True)
    assert "<h1>Dashboard</h1>" in html and 'class="tiles"' in html
    assert "<script" not in html and "style=" not in html
