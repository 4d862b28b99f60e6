"""The public subscription pages end to end: the Flask app (with CSRF on),
the outbox worker and the email channel sending to a real SMTP server
(aiosmtpd on loopback), time from the fake clock."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from statuspage import audit
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incident_desk import IncidentDesk, NewIncident, NewUpdate
from statuspage.monitor import Monitor
from statuspage.notify.email import EmailChannel
from statuspage.notify.tokens import LinkSigner, unseal
from statuspage.notify.worker import OutboxWorker
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.incidents import IncidentRepository
from statuspage.store.outbox import DeliveryState, OutboxRepository
from statuspage.store.subscribers import (
    Subscriber,
    SubscriberKind,
    SubscriberRepository,
    SubscriberState,
)
from statuspage.web import create_app
from statuspage.web.admin import secret_key_for
from tests.conftest import FakeClock
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 (fixture)

SITE = "https://status.acme.example"
JANE = "jane@example.com"


def make_config(email: dict[str, Any] | None, **signup: Any) -> Config:
    notifications: dict[str, Any] = {"signup": signup} if signup else {}
    if email is not None:
        notifications["email"] = email
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": SITE},
            "components": [
                {"id": "api", "name": "API", "group": "Platform"},
                {"id": "payments", "name": "Payments", "group": "Platform"},
                {"id": "website", "name": "Website"},
            ],
            "notifications": notifications,
        },
        env={},
    )


@dataclass
class Site:
    config: Config
    store: Store
    clock: FakeClock
    app: Flask
    worker: OutboxWorker
    smtp: SmtpServer | None

    def client(self, ip: str = "203.0.113.7") -> FlaskClient:
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        return client

    def subscriber(self, address: str = JANE) -> Subscriber:
        with self.store.engine.connect() as conn:
            found = SubscriberRepository().find(conn, SubscriberKind.EMAIL, address)
        assert found is not None, f"no subscriber {address}"
        return found

    def deliver(self) -> list[EmailMessage]:
        """Run the worker once; the mails that arrived meanwhile."""
        assert self.smtp is not None
        before = len(self.smtp.received)
        self.worker.run_once()
        return [r.message() for r in self.smtp.received[before:]]

    def open_incident(self, name: str = "Payments outage", component: str = "payments") -> str:
        desk = IncidentDesk(self.store, self.config.site.tz, "user:alice", self.clock())
        with self.store.transaction() as conn:
            return desk.open(
                conn,
                NewIncident(
                    name=name,
                    status=IncidentStatus.INVESTIGATING,
                    impact=IncidentImpact.MAJOR,
                    components={component: ComponentStatus.MAJOR_OUTAGE},
                    body="We are looking into it.",
                    display_at=None,
                    notify=True,
                ),
            )

    def post_update(self, incident_id: str, body: str) -> None:
        desk = IncidentDesk(self.store, self.config.site.tz, "user:alice", self.clock())
        incident = IncidentRepository(self.store).get(incident_id)
        assert incident is not None
        with self.store.transaction() as conn:
            desk.post_update(
                conn,
                incident,
                NewUpdate(
                    status=IncidentStatus.IDENTIFIED,
                    body=body,
                    components={},
                    display_at=None,
                    notify=True,
                ),
            )


def build_site(config: Config, store: Store, clock: FakeClock, smtp: SmtpServer | None) -> Site:
    Monitor(config, store, clock).start()
    app = create_app(config, store, clock)
    app.testing = True
    key = secret_key_for(config, store.url)
    channels: dict[SubscriberKind, Any] = {}
    if config.notifications.email is not None:
        channels[SubscriberKind.EMAIL] = EmailChannel(config, clock)
    worker = OutboxWorker(config, store, key, channels, clock, name="test", jitter=lambda: 0.0)
    worker.fan_out()  # what starting the monitor enqueued is not about subscribers
    return Site(config, store, clock, app, worker, smtp)


@pytest.fixture
def site(sqlite_store: Store, clock: FakeClock, smtp_server: SmtpServer) -> Site:  # noqa: F811
    return build_site(make_config(smtp_server.settings()), sqlite_store, clock, smtp_server)


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def submit(
    client: FlaskClient, page: str, data: dict[str, Any], action: str | None = None
) -> TestResponse:
    """Fill the form of `page` as a browser would: its CSRF token, over
    https (with the Referer Flask-WTF checks there)."""
    html = client.get(page, base_url=SITE).get_data(as_text=True)
    return client.post(
        action or page,
        base_url=SITE,
        data={**data, "csrf_token": csrf_token(html)},
        headers={"Referer": SITE + page},
    )


def sign_up(client: FlaskClient, address: str = JANE, **more: Any) -> TestResponse:
    return submit(client, "/subscribe", {"via": "email", "address": address, **more})


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    """The path of the first `SITE/path...` link in the mail's text."""
    found = re.search(re.escape(SITE) + r"(/" + re.escape(path) + r"/[^\s>]+)", text_of(message))
    assert found, f"no /{path}/ link in:\n{text_of(message)}"
    return found.group(1)


def page_text(answer: TestResponse) -> str:
    return answer.get_data(as_text=True)


def confirm(site: Site, message: EmailMessage) -> TestResponse:
    path = link_in(message, "subscribe/confirm")
    return submit(site.client(), path, {})


def active_subscriber(site: Site, address: str) -> str:
    with site.store.transaction() as conn:
        repo = SubscriberRepository()
        signup = repo.subscribe_email(
            conn, address, component_ids=None, component_updates=False, now=site.clock()
        )
        found = repo.get(conn, signup.subscriber_id)
        assert found is not None and found.confirm_nonce is not None
        assert repo.confirm(conn, found.id, found.confirm_nonce, site.clock())
    return signup.subscriber_id


# --- the whole way: sign up, confirm, a notification, one-click unsubscribe --------------


def test_subscribe_confirm_notify_and_unsubscribe_in_one_click(site: Site) -> None:
    client = site.client()
    form = client.get("/subscribe", base_url=SITE)
    assert form.status_code == 200
    assert 'name="address"' in page_text(form)

    answer = sign_up(client, component_updates="1")
    assert answer.status_code == 200
    assert "Check your inbox" in page_text(answer)
    assert site.subscriber().state is SubscriberState.PENDING

    # MAIL-01: exactly one confirmation mail, and nothing else to a pending address.
    [mail] = site.deliver()
    assert mail["To"] == JANE
    assert mail["Subject"] == "[Acme Status] Confirm your subscription to Acme Status"
    site.open_incident("Before confirming")
    assert site.deliver() == []

    # MAIL-07: following the link (as a mail scanner would) changes nothing.
    path = link_in(mail, "subscribe/confirm")
    shown = site.client("198.51.100.1").get(path, base_url=SITE)
    assert shown.status_code == 200
    assert "Confirm subscription" in page_text(shown)
    assert site.subscriber().state is SubscriberState.PENDING

    browser = site.client()
    token = csrf_token(page_text(browser.get(path, base_url=SITE)))

    def press_confirm() -> TestResponse:
        return browser.post(
            path, base_url=SITE, data={"csrf_token": token}, headers={"Referer": SITE + path}
        )

    done = press_confirm()
    assert done.status_code == 200, page_text(done)
    assert "You are subscribed" in page_text(done)
    assert site.subscriber().state is SubscriberState.ACTIVE
    # Single use: pressing again, or opening the link again, confirms nothing.
    again = press_confirm()
    assert again.status_code == 410
    assert "This link was used already" in page_text(again)
    assert site.client().get(path, base_url=SITE).status_code == 410

    incident_id = site.open_incident()
    [notice] = site.deliver()
    assert notice["Subject"] == "[Acme Status] Payments outage \u2013 Investigating"
    assert notice["To"] == JANE
    assert site.deliver() == []  # exactly once

    # RFC 8058: the mail provider posts the header's link, no cookie, no token.
    header = notice["List-Unsubscribe"]
    assert header.startswith(f"<{SITE}/unsubscribe/") and header.endswith(">")
    one_click = site.app.test_client().post(
        header[1:-1].removeprefix(SITE),
        base_url=SITE,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert one_click.get_data(as_text=True) == "Unsubscribed.\n"
    assert "Set-Cookie" not in one_click.headers
    assert site.subscriber().state is SubscriberState.UNSUBSCRIBED
    # MAIL-06: asking again is fine.
    repeat = site.app.test_client().post(
        header[1:-1].removeprefix(SITE), base_url=SITE, data={"List-Unsubscribe": "One-Click"}
    )
    assert repeat.status_code == 200

    site.post_update(incident_id, "Found it.")
    assert site.deliver() == []
    entries = [(e.actor, e.action) for e in audit.recent(site.store)]
    assert ("subscriber", "subscriber.unsubscribe") in entries
    assert ("subscriber", "subscriber.confirm") in entries
    assert ("ip:203.0.113.7", "subscriber.signup") in entries


def test_a_get_on_the_unsubscribe_link_only_shows_a_button(site: Site) -> None:
    active_subscriber(site, JANE)
    site.open_incident()
    [notice] = site.deliver()
    path = link_in(notice, "unsubscribe")
    shown = site.client().get(path, base_url=SITE)
    assert shown.status_code == 200
    assert "<button" in page_text(shown) and "Unsubscribe" in page_text(shown)
    assert site.subscriber().state is SubscriberState.ACTIVE
    # The page's button: an ordinary form post, no token needed either.
    done = site.client().post(path, base_url=SITE)
    assert done.status_code == 200
    assert "You are unsubscribed" in page_text(done)
    assert site.subscriber().state is SubscriberState.UNSUBSCRIBED
    assert site.client().get(path, base_url=SITE).status_code == 410


def test_an_old_unsubscribe_link_does_not_end_a_new_subscription(site: Site) -> None:
    active_subscriber(site, JANE)
    site.open_incident()
    [old] = site.deliver()
    old_path = link_in(old, "unsubscribe")
    assert site.client().post(old_path, base_url=SITE).status_code == 200
    # Subscribed again later, and confirmed.
    sign_up(site.client())
    [mail] = site.deliver()
    assert confirm(site, mail).status_code == 200
    answer = site.client().post(old_path, base_url=SITE, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 410
    assert site.subscriber().state is SubscriberState.ACTIVE


def test_the_manage_link_changes_components(site: Site) -> None:
    active_subscriber(site, JANE)
    site.open_incident("API slow", component="api")
    [notice] = site.deliver()
    path = link_in(notice, "subscriptions")
    page = site.client().get(path, base_url=SITE)
    assert page.status_code == 200
    assert 'value="payments"' in page_text(page)

    saved = submit(site.client(), path, {"component": ["payments"], "component_updates": "1"})
    assert saved.status_code == 200
    assert "Your choices are saved" in page_text(saved)
    found = site.subscriber()
    assert (found.all_components, found.component_ids, found.component_updates) == (
        False,
        ("payments",),
        True,
    )
    site.open_incident("Website down", component="website")
    assert site.deliver() == []
    site.open_incident("Payments down", component="payments")
    # The incident, and (asked for now) the component's change of status.
    assert sorted(m["Subject"] for m in site.deliver()) == [
        "[Acme Status] Payments down \u2013 Investigating",
        "[Acme Status] Payments: Major Outage",
    ]

    unknown = submit(site.client(), path, {"component": ["nope"]})
    assert unknown.status_code == 422
    assert "Choose among the components listed" in page_text(unknown)


# --- no enumeration, no bombing --------------------------------------------------------


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(site: Site) -> None:
    """MAIL-03."""
    active_subscriber(site, "active@example.com")
    sign_up(site.client("192.0.2.1"), "pending@example.com")
    site.deliver()

    answers = {}
    for address in ("new@example.com", "pending@example.com", "active@example.com"):
        answer = sign_up(site.client("192.0.2.2"), address)
        body = page_text(answer).replace(address, "ADDRESS")
        answers[address] = (answer.status_code, body)
    assert answers["new@example.com"] == answers["pending@example.com"]
    assert answers["new@example.com"] == answers["active@example.com"]
    # Only the addresses that are not subscribed get a confirmation mail.
    assert sorted(m["To"] for m in site.deliver()) == ["new@example.com", "pending@example.com"]
    assert site.subscriber("active@example.com").state is SubscriberState.ACTIVE


def test_sign_ups_are_limited_per_address(
    sqlite_store: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    site = build_site(
        make_config(smtp_server.settings(), per_address_per_hour=2, per_ip_per_hour=50),
        sqlite_store,
        clock,
        smtp_server,
    )
    for ip in ("192.0.2.1", "192.0.2.2"):
        assert sign_up(site.client(ip)).status_code == 200
    clock.advance(minutes=10)
    limited = sign_up(site.client("192.0.2.3"))
    assert limited.status_code == 429
    assert "Too many sign-ups" in page_text(limited)
    assert limited.headers["Retry-After"] == str(50 * 60 + 1)
    assert len(site.deliver()) == 2
    # Another address from the same network is not held back.
    assert sign_up(site.client("192.0.2.3"), "other@example.com").status_code == 200
    clock.advance(minutes=50, seconds=1)
    assert sign_up(site.client("192.0.2.3")).status_code == 200


def test_sign_ups_are_limited_per_client_address(
    sqlite_store: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    site = build_site(
        make_config(smtp_server.settings(), per_ip_per_hour=3), sqlite_store, clock, smtp_server
    )
    client = site.client("198.51.100.9")
    for n in range(3):
        assert sign_up(client, f"user{n}@example.com").status_code == 200
    assert sign_up(client, "user3@example.com").status_code == 429
    with site.store.engine.connect() as conn:
        assert SubscriberRepository().find(conn, SubscriberKind.EMAIL, "user3@example.com") is None
    assert sign_up(site.client("198.51.100.10"), "user3@example.com").status_code == 200
    clock.advance(hours=1, seconds=1)
    assert sign_up(client, "user4@example.com").status_code == 200


# --- links that are expired, used, replaced or forged ------------------------------------


def test_an_expired_confirmation_link(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_up(site.client())
    [mail] = site.deliver()
    path = link_in(mail, "subscribe/confirm")
    later = int(time.time()) + 48 * 3600 + 1  # the link was signed just now, in real time
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)
    answer = site.client().get(path, base_url=SITE)
    assert answer.status_code == 410
    assert "This link has expired" in page_text(answer)
    assert 'href="/subscribe"' in page_text(answer)
    assert site.subscriber().state is SubscriberState.PENDING


def test_a_second_sign_up_replaces_the_first_link(site: Site) -> None:
    sign_up(site.client())
    [first] = site.deliver()
    sign_up(site.client())
    [second] = site.deliver()
    stale = site.client().get(link_in(first, "subscribe/confirm"), base_url=SITE)
    assert stale.status_code == 410
    assert "This link was used already" in page_text(stale)
    assert confirm(site, second).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/subscribe/confirm/not-a-token",
        "/subscribe/confirm/WyJhYmMiLCJub25jZSJd.ZZZZZZ.forged",
        "/unsubscribe/WyJhYmMiLDFd.forged",
        "/subscriptions/WyJhYmMiLDFd.forged",
    ],
)
def test_a_forged_link_gets_a_plain_refusal(site: Site, path: str) -> None:
    """MAIL-08."""
    answer = site.client().get(path, base_url=SITE)
    assert answer.status_code == 404
    assert "This link is not valid" in page_text(answer)


def test_a_forged_one_click_post_changes_nothing(site: Site) -> None:
    active_subscriber(site, JANE)
    answer = site.app.test_client().post(
        "/unsubscribe/WyJhYmMiLDFd.forged", data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 404
    assert site.subscriber().state is SubscriberState.ACTIVE


# --- CSRF, caching, headers ------------------------------------------------------------


def test_forms_need_their_csrf_token(site: Site) -> None:
    client = site.client()
    client.get("/subscribe", base_url=SITE)
    answer = client.post(
        "/subscribe",
        base_url=SITE,
        data={"via": "email", "address": JANE},
        headers={"Referer": SITE + "/subscribe"},
    )
    assert answer.status_code == 400
    assert "The form could not be accepted" in page_text(answer)
    with site.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.subscribers)).scalar_one() == 0
        assert OutboxRepository().waiting_events(conn) == []

    sign_up(client)
    [mail] = site.deliver()
    path = link_in(mail, "subscribe/confirm")
    client.get(path, base_url=SITE)
    refused = client.post(path, base_url=SITE, headers={"Referer": SITE + path})
    assert refused.status_code == 400
    assert site.subscriber().state is SubscriberState.PENDING


def test_the_pages_are_not_cached_and_send_no_referrer(site: Site) -> None:
    client = site.client()
    for _ in range(2):
        answer = client.get("/subscribe", base_url=SITE)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert "ETag" not in answer.headers
    assert len(site.app.extensions["statuspage"]["render_cache"]) == 0


def test_the_public_page_links_to_the_subscribe_page(site: Site) -> None:
    assert 'href="/subscribe"' in page_text(site.client().get("/"))


# --- the form's checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("", "Enter your email address"),
        ("jane@example.com\r\nBcc: x@evil.example", "one line"),
        ("jane@example.com, bob@example.com", "not an email address"),
        ("Jane <jane@example.com>", "not an email address"),
        ("jane", "not an email address"),
        ("jane@localhost", "not an email address"),
        ('"jane doe"@example.com', "not an email address"),
        ("x" * 250 + "@example.com", "at most 254"),
        ("jöe@example.com", "non-ASCII"),
    ],
)
def test_a_bad_address_shows_the_form_again(site: Site, address: str, says: str) -> None:
    answer = sign_up(site.client(), address, component="api")
    assert answer.status_code == 422
    html = page_text(answer)
    assert says in html
    assert 'aria-invalid="true"' in html
    assert 'value="api" checked' in html  # the choice is kept
    with site.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.subscribers)).scalar_one() == 0


def test_without_email_settings_the_page_offers_feeds_and_webhooks(
    sqlite_store: Store, clock: FakeClock
) -> None:
    site = build_site(make_config(None), sqlite_store, clock, None)
    page = page_text(site.client().get("/subscribe", base_url=SITE))
    assert "Email notifications are not set up" in page
    assert 'name="address"' not in page
    assert 'name="url"' in page and "/history.rss" in page
    refused = sign_up(site.client())
    assert refused.status_code == 422
    with site.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.subscribers)).scalar_one() == 0


# --- webhooks from the public form ------------------------------------------------------


def test_a_webhook_gets_its_secret_once(site: Site) -> None:
    url = "https://93.184.215.14/hooks/status"  # a public literal address: no DNS needed
    answer = submit(site.client(), "/subscribe", {"via": "webhook", "url": url})
    assert answer.status_code == 200, page_text(answer)
    html = page_text(answer)
    found = re.search(r'<code class="secret">(whsec_[A-Za-z0-9+/=]+)</code>', html)
    assert found
    with site.store.engine.connect() as conn:
        hook = SubscriberRepository().find(conn, SubscriberKind.WEBHOOK, url)
    assert hook is not None and hook.state is SubscriberState.ACTIVE
    assert hook.secret_encrypted is not None and found.group(1) not in hook.secret_encrypted
    assert unseal(hook.secret_encrypted, site.app.config["SECRET_KEY"]) == found.group(1)
    manage = re.search(re.escape(SITE) + r"(/subscriptions/[^\"<\s]+)", html)
    assert manage and site.client().get(manage.group(1), base_url=SITE).status_code == 200
    # Never shown again: adding the same URL is refused, without the secret.
    again = submit(site.client(), "/subscribe", {"via": "webhook", "url": url})
    assert again.status_code == 422
    assert found.group(1) not in page_text(again)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/hook", "http://169.254.169.254/latest", "file:///etc/passwd"]
)
def test_a_webhook_to_a_private_address_is_refused(site: Site, url: str) -> None:
    answer = submit(site.client(), "/subscribe", {"via": "webhook", "url": url})
    assert answer.status_code == 422
    assert "This URL cannot be used" in page_text(answer)
    with site.store.engine.connect() as conn:
        assert SubscriberRepository().listing(conn, SubscriberKind.WEBHOOK) == []


# --- the mail server down for a while --------------------------------------------------


def test_mail_waits_while_the_server_is_down_and_goes_out_once(site: Site) -> None:
    assert site.smtp is not None
    addresses = [f"user{n}@example.com" for n in range(3)]
    for address in addresses:
        active_subscriber(site, address)
    site.smtp.stop()
    site.open_incident()
    for _ in range(4):  # an hour and more of failed attempts
        site.worker.run_once()
        site.clock.advance(minutes=20)
    with site.store.engine.connect() as conn:
        rows = OutboxRepository().deliveries(conn)
    assert {r.state for r in rows} == {DeliveryState.PENDING}
    assert all(r.attempts >= 3 and "refused" in (r.last_error or "") for r in rows)
    for address in addresses:  # a mail server outage disables nobody
        assert site.subscriber(address).state is SubscriberState.ACTIVE

    site.smtp.start()  # the same port again
    for _ in range(3):
        site.clock.advance(hours=1)
        site.worker.run_once()
    received = site.smtp.messages()
    assert sorted(m["To"] for m in received) == addresses
    assert len({m["Message-ID"] for m in received}) == 3
    with site.store.engine.connect() as conn:
        assert {r.state for r in OutboxRepository().deliveries(conn)} == {DeliveryState.SENT}


def test_a_mailbox_that_does_not_exist_stops_that_subscriber_only(site: Site) -> None:
    assert site.smtp is not None
    active_subscriber(site, JANE)
    active_subscriber(site, "bob@example.com")
    active_subscriber(site, "carol@example.com")
    site.smtp.sink.refuse_rcpt_for = {
        "bob@example.com": "550 5.1.1 No such user",
        "carol@example.com": "451 4.3.0 Try again later",
    }
    site.open_incident()
    site.worker.run_once()
    assert [m["To"] for m in site.smtp.messages()] == [JANE]
    assert site.subscriber().state is SubscriberState.ACTIVE
    assert site.subscriber("bob@example.com").state is SubscriberState.DISABLED
    assert site.subscriber("carol@example.com").state is SubscriberState.ACTIVE
    bob = site.subscriber("bob@example.com")
    token = LinkSigner(site.app.config["SECRET_KEY"]).manage_token(bob.id, bob.link_version)
    stopped = site.client().get(f"/subscriptions/{token}", base_url=SITE)
    assert "Notifications to this address have stopped" in page_text(stopped)
    site.smtp.sink.refuse_rcpt_for = {}
    site.clock.advance(hours=1)
    site.worker.run_once()
    assert [m["To"] for m in site.smtp.messages()] == [JANE, "carol@example.com"]
