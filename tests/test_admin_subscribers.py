"""Subscribers and deliveries in the admin: who may see and change what,
a webhook's secret shown once (and working: a real receiver verifies a
delivery with it), the URL rules on the form, re-enabling, new secrets,
deleting, and the deliveries view with its "retry now"."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from statuspage import audit
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.notify.tokens import new_webhook_secret, seal, unseal
from statuspage.notify.worker import OutboxWorker, start_worker
from statuspage.store import Store
from statuspage.store.outbox import DeliveryState, OutboxRepository
from statuspage.store.subscribers import Subscriber, SubscriberKind, SubscriberRepository
from statuspage.store.subscribers import SubscriberState as State
from statuspage.web.admin import secret_key_for
from tests.admin_helpers import Site, make_site
from tests.conftest import FakeClock
from tests.loopback import ScriptedServer, scripted_server
from tests.test_admin_auth import csrf_token
from tests.test_outbox import open_incident as open_incident_on
from tests.test_webhook import verify

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")


def make_config(allow_private: bool = True) -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": "https://status.acme.test"},
            "components": [{"id": "api", "name": "API"}, {"id": "payments", "name": "Payments"}],
            "notifications": {"webhooks": {"allow_private": allow_private}},
        },
        env={},
    )


@pytest.fixture
def site(sqlite_store: Store, clock: FakeClock) -> Site:
    return make_site(make_config(), sqlite_store, clock)


@pytest.fixture
def receiver() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


def send(client: FlaskClient, action: str, data: dict[str, Any] | None = None) -> TestResponse:
    """POST `data` with a CSRF token from the subscribers page."""
    token = csrf_token(client.get("/admin/subscribers").get_data(as_text=True))
    return client.post(action, data={**(data or {}), "csrf_token": token})


def followed(client: FlaskClient, answer: TestResponse) -> str:
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client.get(answer.location).get_data(as_text=True)


def subscribers(store: Store) -> list[Subscriber]:
    with store.engine.connect() as conn:
        return SubscriberRepository().listing(conn)


def add_webhook(site: Site, url: str) -> str:
    with site.store.transaction() as conn:
        created = SubscriberRepository().add_webhook(
            conn, url, secret_encrypted=seal(new_webhook_secret(), key(site)),
            component_ids=None, component_updates=False, now=site.clock(), created_by="test",
        )  # fmt: skip
    assert created is not None
    return created


def add_email(site: Site, address: str) -> str:
    repo = SubscriberRepository()
    with site.store.transaction() as conn:
        signup = repo.subscribe_email(
            conn, address, component_ids=None, component_updates=False, now=site.clock()
        )
        row = repo.get(conn, signup.subscriber_id)
        assert row is not None and row.confirm_nonce
        repo.confirm(conn, row.id, row.confirm_nonce, site.clock())
    return signup.subscriber_id


def key(site: Site) -> str:
    return str(site.app.config["SECRET_KEY"])


def open_incident(site: Site) -> None:
    open_incident_on(site.store, site.clock, {"payments": ComponentStatus.MAJOR_OUTAGE})


def actions(store: Store) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in audit.recent(store)]


# --- looking ---------------------------------------------------------------------


def test_a_viewer_sees_subscribers_and_counts_but_cannot_change_them(site: Site) -> None:
    hook = add_webhook(site, "https://hooks.example.com/status")
    add_email(site, "jane@example.com")
    viewer = site.client("vera", "viewer")
    page = viewer.get("/admin/subscribers").get_data(as_text=True)
    assert "https://hooks.example.com/status" in page and "jane@example.com" in page
    assert re.search(r'id="count-webhook-active">1<', page)
    assert re.search(r'id="count-email-active">1<', page)
    assert "Add a webhook" not in page and "Delete" not in page and "New secret" not in page
    assert 'href="/admin/subscribers"' in viewer.get("/admin/").get_data(as_text=True)
    for action in (
        "/admin/subscribers/webhooks",
        f"/admin/subscribers/{hook}/delete",
        f"/admin/subscribers/{hook}/rotate",
        f"/admin/subscribers/{hook}/enable",
        "/admin/deliveries/1/retry",
    ):
        answer = send(viewer, action, {"url": "https://evil.example.com/"})
        assert answer.status_code == 403, action
    assert len(subscribers(site.store)) == 2


def test_the_list_filters_by_kind_and_state_and_refuses_other_filters(site: Site) -> None:
    add_webhook(site, "https://hooks.example.com/status")
    add_email(site, "jane@example.com")
    viewer = site.client("vera", "viewer")
    page = viewer.get("/admin/subscribers?kind=email&state=active").get_data(as_text=True)
    assert "jane@example.com" in page and "hooks.example.com" not in page
    for query in ("kind=fax", "state[]=active", "state=active&state=pending", "page=0"):
        answer = viewer.get(f"/admin/subscribers?{query}")
        assert answer.status_code == 400, query
        assert "This filter cannot be used" in answer.get_data(as_text=True)


# --- adding a webhook ------------------------------------------------------------------


def test_an_editor_adds_a_webhook_and_the_secret_shown_once_signs_its_deliveries(
    site: Site, receiver: ScriptedServer
) -> None:
    editor = site.client("erin", "editor")
    url = receiver.route("/hook", status=200)
    answer = send(
        editor,
        "/admin/subscribers/webhooks",
        {"url": f"  {url}  ", "components": "payments", "component_updates": "y"},
    )
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    shown = SECRET.findall(answer.get_data(as_text=True))
    assert len(shown) == 1
    secret = shown[0]
    [hook] = subscribers(site.store)
    assert (hook.kind, hook.address, hook.state) == (SubscriberKind.WEBHOOK, url, State.ACTIVE)
    assert (hook.all_components, hook.component_ids, hook.component_updates) == (
        False,
        ("payments",),
        True,
    )
    assert hook.created_by == "user:erin"
    assert hook.secret_encrypted and unseal(hook.secret_encrypted, key(site)) == secret
    # Shown once: not on the list, not in the audit log.
    assert secret not in editor.get("/admin/subscribers").get_data(as_text=True)
    [entry] = [e for e in audit.recent(site.store) if e.action == "subscriber.create"]
    assert entry.actor == "user:erin" and entry.after is not None
    assert entry.after["address"] == url and entry.after["components"] == ["payments"]
    assert "secret" not in str(entry.after)

    # The worker of `statuspage run` signs with the same key: the receiver
    # verifies a real delivery with the secret the editor was shown.
    assert key(site) == secret_key_for(make_config(), site.store.url)
    open_incident(site)
    worker = start_worker(make_config(), site.store, site.clock)
    assert worker.run_once() == 1
    [seen] = receiver.seen
    assert verify(secret, seen.headers, seen.body, time.time())["incident"]["name"] == (
        "Payments outage"
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "is a cloud metadata address"),
        ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
        ("ftp://hooks.example.com/", "use an http:// or https:// URL"),
        ("https://me:pw@hooks.example.com/", "a user name or password is not accepted"),
        ("", "Enter the URL to post to."),
    ],
)
def test_a_refused_url_is_a_field_error_and_nothing_is_stored(
    site: Site, url: str, error: str
) -> None:
    editor = site.client("erin", "editor")
    answer = send(editor, "/admin/subscribers/webhooks", {"url": url})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert error in page and 'class="field-errors"' in page
    assert not SECRET.search(page)
    assert subscribers(site.store) == []
    assert "subscriber.create" not in {a for _, a in actions(site.store)}


def test_without_allow_private_a_name_for_loopback_is_refused(
    sqlite_store: Store, clock: FakeClock
) -> None:
    site = make_site(make_config(allow_private=False), sqlite_store, clock)
    editor = site.client("erin", "editor")
    for url, error in (
        ("http://localhost:8080/hook", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://2130706433/", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
    ):
        page = send(editor, "/admin/subscribers/webhooks", {"url": url}).get_data(as_text=True)
        assert f"Refused: {error}." in page, url
    assert subscribers(site.store) == []


def test_the_same_url_twice_is_refused(site: Site) -> None:
    add_webhook(site, "http://127.0.0.1:9/status")
    editor = site.client("erin", "editor")
    answer = send(editor, "/admin/subscribers/webhooks", {"url": "http://127.0.0.1:9/status"})
    assert "This URL is already a webhook subscriber." in answer.get_data(as_text=True)
    assert len(subscribers(site.store)) == 1


def test_adding_without_a_csrf_token_is_refused(site: Site) -> None:
    editor = site.client("erin", "editor")
    answer = editor.post("/admin/subscribers/webhooks", data={"url": "https://x.example.com/"})
    assert answer.status_code == 400
    assert subscribers(site.store) == []


# --- re-enabling, new secrets, deleting --------------------------------------------------


def test_a_quarantined_webhook_is_on_the_dashboard_until_an_editor_re_enables_it(
    site: Site,
) -> None:
    hook = add_webhook(site, "https://hooks.example.com/status")
    repo = SubscriberRepository()
    with site.store.transaction() as conn:
        for _ in range(10):
            repo.record_failure(conn, hook, "HTTP 503")
        repo.set_state(conn, hook, State.QUARANTINED, site.clock(), "10 failed attempts in a row")
    editor = site.client("erin", "editor")
    dashboard = editor.get("/admin/").get_data(as_text=True)
    assert 'id="quarantined-webhooks"' in dashboard and "1 webhook quarantined" in dashboard
    listing = editor.get("/admin/subscribers?state=quarantined").get_data(as_text=True)
    assert "10 failed attempts in a row" in listing and "Re-enable" in listing

    page = followed(editor, send(editor, f"/admin/subscribers/{hook}/enable"))
    assert "Re-enabled https://hooks.example.com/status" in page
    [found] = subscribers(site.store)
    assert (found.state, found.consecutive_failures) == (State.ACTIVE, 0)
    assert ("user:erin", "subscriber.enable") in actions(site.store)
    assert 'id="quarantined-webhooks"' not in editor.get("/admin/").get_data(as_text=True)

    # An active (or unsubscribed) subscriber is not "re-enabled".
    page = followed(editor, send(editor, f"/admin/subscribers/{hook}/enable"))
    assert "only a disabled or quarantined subscriber can be re-enabled" in page
    assert actions(site.store).count(("user:erin", "subscriber.enable")) == 1


def test_a_new_secret_replaces_the_old_one_and_is_shown_once(site: Site) -> None:
    hook = add_webhook(site, "https://hooks.example.com/status")
    [before] = subscribers(site.store)
    assert before.secret_encrypted
    old = unseal(before.secret_encrypted, key(site))
    editor = site.client("erin", "editor")
    answer = send(editor, f"/admin/subscribers/{hook}/rotate")
    assert answer.status_code == 200
    [secret] = SECRET.findall(answer.get_data(as_text=True))
    assert secret != old
    [after] = subscribers(site.store)
    assert after.secret_encrypted and unseal(after.secret_encrypted, key(site)) == secret
    [entry] = [e for e in audit.recent(site.store) if e.action == "subscriber.rotate_secret"]
    assert entry.actor == "user:erin" and secret not in str(entry.after)
    # An email subscriber has no secret.
    email = add_email(site, "jane@example.com")
    assert send(editor, f"/admin/subscribers/{email}/rotate").status_code == 404
    assert send(editor, "/admin/subscribers/nosuchid/rotate").status_code == 404


def test_deleting_a_subscriber_removes_its_deliveries_and_is_audited(
    site: Site, receiver: ScriptedServer
) -> None:
    hook = add_webhook(site, receiver.route("/hook", status=500))
    open_incident(site)
    run_worker(site)
    assert len(deliveries(site.store)) == 1
    editor = site.client("erin", "editor")
    page = followed(editor, send(editor, f"/admin/subscribers/{hook}/delete"))
    assert f"Deleted the webhook subscriber {receiver.url}/hook" in page
    assert subscribers(site.store) == [] and deliveries(site.store) == []
    [entry] = [e for e in audit.recent(site.store) if e.action == "subscriber.delete"]
    assert entry.before is not None and entry.before["address"] == f"{receiver.url}/hook"
    assert entry.after is None


# --- deliveries ----------------------------------------------------------------------------


def run_worker(site: Site) -> int:
    worker = OutboxWorker(
        make_config(), site.store, key(site), _channels(site), site.clock, jitter=lambda: 1.0
    )
    return worker.run_once()


def _channels(site: Site) -> dict[SubscriberKind, Any]:
    from statuspage.notify.webhook import WebhookChannel

    return {SubscriberKind.WEBHOOK: WebhookChannel(make_config(), key(site))}


def deliveries(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return OutboxRepository().deliveries(conn)


def cell(page: str, delivery_id: int, name: str) -> str:
    row = re.search(rf'<tr id="delivery-{delivery_id}">(.*?)</tr>', page, re.DOTALL)
    assert row, f"delivery {delivery_id} is not listed"
    found = re.search(rf'<td class="{name}">(.*?)</td>', row.group(1), re.DOTALL)
    assert found, name
    return found.group(1).strip()


def test_the_deliveries_view_shows_attempts_next_try_and_last_error_and_retries_now(
    site: Site, receiver: ScriptedServer
) -> None:
    hook = add_webhook(site, receiver.route("/hook", status=503, body="down for maintenance"))
    open_incident(site)
    assert run_worker(site) == 1
    [delivery] = deliveries(site.store)
    viewer = site.client("vera", "viewer")
    page = viewer.get("/admin/deliveries").get_data(as_text=True)
    assert cell(page, delivery.id, "state") == "pending"
    assert cell(page, delivery.id, "attempts") == "1"
    assert cell(page, delivery.id, "last-error") == "HTTP 503: down for maintenance"
    due = site.clock() + timedelta(seconds=30)
    assert f'datetime="{due.isoformat(timespec="seconds")}"' in cell(page, delivery.id, "next-try")
    assert delivery.message_id in page and "incident.created" in page
    assert re.search(r'id="depth-pending">1<', page)
    assert "Retry now" not in page  # viewers look

    only_this = viewer.get(f"/admin/deliveries?subscriber={hook}&state=pending")
    assert f'id="delivery-{delivery.id}"' in only_this.get_data(as_text=True)
    sent_only = viewer.get("/admin/deliveries?state=sent").get_data(as_text=True)
    assert f'id="delivery-{delivery.id}"' not in sent_only
    assert viewer.get("/admin/deliveries?state=lost").status_code == 400

    # Not due for 30 s; "retry now" makes it due at once.
    assert run_worker(site) == 0
    editor = site.client("erin", "editor")
    assert "Retry now" in editor.get("/admin/deliveries").get_data(as_text=True)
    receiver.route("/hook", status=200)
    answer = send(
        editor,
        f"/admin/deliveries/{delivery.id}/retry",
        {"back": f"/admin/deliveries?subscriber={hook}"},
    )
    assert answer.location == f"/admin/deliveries?subscriber={hook}"
    assert f"Delivery {delivery.id} will be sent again at once." in followed(editor, answer)
    [waiting] = deliveries(site.store)
    assert (waiting.state, waiting.next_attempt_at) == (DeliveryState.PENDING, site.clock())
    assert ("user:erin", "delivery.retry") in actions(site.store)
    assert run_worker(site) == 1
    [done] = deliveries(site.store)
    assert (done.state, done.attempts) == (DeliveryState.SENT, 2)
    page = editor.get("/admin/deliveries").get_data(as_text=True)
    assert cell(page, done.id, "state").startswith("sent")
    assert cell(page, done.id, "next-try") == ""

    # A sent delivery is not sent again; a `back` elsewhere is not followed.
    answer = send(
        editor, f"/admin/deliveries/{done.id}/retry", {"back": "https://evil.example.com/"}
    )
    assert answer.location == "/admin/deliveries"
    assert "is not waiting or failed: nothing to retry" in followed(editor, answer)
    assert actions(site.store).count(("user:erin", "delivery.retry")) == 1


def test_every_subscriber_change_is_audited_with_who_did_it(
    site: Site, receiver: ScriptedServer
) -> None:
    editor = site.client("erin", "editor")
    send(editor, "/admin/subscribers/webhooks", {"url": receiver.route("/hook", status=500)})
    [hook] = subscribers(site.store)
    with site.store.transaction() as conn:
        SubscriberRepository().set_state(conn, hook.id, State.DISABLED, site.clock(), "HTTP 410")
    send(editor, f"/admin/subscribers/{hook.id}/enable")
    send(editor, f"/admin/subscribers/{hook.id}/rotate")
    open_incident(site)
    run_worker(site)
    [delivery] = deliveries(site.store)
    send(editor, f"/admin/deliveries/{delivery.id}/retry")
    send(editor, f"/admin/subscribers/{hook.id}/delete")
    mine = [a for who, a in reversed(actions(site.store)) if who == "user:erin"]
    assert [a for a in mine if a.startswith(("subscriber.", "delivery."))] == [
        "subscriber.create",
        "subscriber.enable",
        "subscriber.rotate_secret",
        "delivery.retry",
        "subscriber.delete",
    ]
