"""The email channel against a real SMTP server (aiosmtpd on loopback):
the mail's headers and parts read back with Python's `email` package in
strict mode, header injection, and how each SMTP failure is sorted."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import AuthResult

from statuspage.config import Config, load_config, parse_config
from statuspage.demo.democonfig import write_demo_config
from statuspage.demo.mailbox import DemoMailbox
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.notify.channel import Links, Result
from statuspage.notify.documents import build_document
from statuspage.notify.email import EmailChannel, is_recipient_refusal
from statuspage.notify.email_content import lifetime_words, one_line
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.store.outbox import EventKind, OutboxRepository, Task, message_id
from statuspage.store.subscribers import Subscriber, SubscriberKind, SubscriberState
from statuspage.uptime import Transition
from tests.conftest import FakeClock
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 (fixture)

SITE = "https://status.acme.example"
LINKS = Links(
    manage=f"{SITE}/subscriptions/MANAGE-TOKEN",
    unsubscribe=f"{SITE}/unsubscribe/MANAGE-TOKEN",
)
PASSWORD = "s3cret-smtp-password"


def make_config(email: dict[str, Any], title: str = "Acme Status") -> Config:
    return parse_config(
        {
            "site": {"title": title, "url": SITE, "timezone": "Europe/Berlin"},
            "components": [
                {"id": "api", "name": "API"},
                {"id": "payments", "name": "Payments"},
            ],
            "notifications": {"email": email},
        },
        env={},
    )


@pytest.fixture
def config(smtp_server: SmtpServer) -> Config:  # noqa: F811
    return make_config(smtp_server.settings())


@pytest.fixture
def site(config: Config, sqlite_store: Store, clock: FakeClock) -> Store:
    Monitor(config, sqlite_store, clock).start()
    return sqlite_store


def subscriber(address: str = "jane@example.com", sid: str = "sub1") -> Subscriber:
    return Subscriber(
        id=sid,
        kind=SubscriberKind.EMAIL,
        address=address,
        state=SubscriberState.ACTIVE,
        all_components=True,
        component_ids=(),
        component_updates=False,
        confirm_nonce=None,
        link_version=1,
        secret_encrypted=None,
        consecutive_failures=0,
        last_error=None,
        created_by="public",
        created_at=FakeClock().now,
        confirmed_at=FakeClock().now,
    )


def task_for_new_events(
    config: Config, store: Store, clock: FakeClock, kind: EventKind, sid: str = "sub1"
) -> Task:
    """The task the worker would claim for the newest event of `kind`,
    with the document built by the real code."""
    with store.engine.connect() as conn:
        events = [e for e in OutboxRepository().waiting_events(conn) if e.kind is kind]
        event = events[-1]
        document = build_document(config, store, conn, event, clock())
    assert document is not None
    return Task(
        delivery_id=1,
        message_id=message_id(event.id, sid),
        attempts=1,
        created_at=clock(),
        event_id=event.id,
        event_kind=kind,
        document=document,
        subscriber_id=sid,
    )


def open_incident(
    config: Config,
    store: Store,
    clock: FakeClock,
    name: str = "Payments outage",
    body: str = "We are **looking** into failed payments.",
) -> Task:
    with store.transaction() as conn:
        IncidentRepository(store).create(
            conn,
            name=name,
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components={"payments": ComponentStatus.MAJOR_OUTAGE},
            body=body,
            author="test",
            now=clock(),
        )
    return task_for_new_events(config, store, clock, EventKind.INCIDENT_CREATED)


def only_message(server: SmtpServer) -> EmailMessage:
    messages = server.messages()
    assert len(messages) == 1, [m["Subject"] for m in messages]
    return messages[0]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# --- a notification's headers and parts ---------------------------------------------


def test_an_incident_mail_has_both_parts_and_the_list_headers(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    task = open_incident(config, site, clock)
    outcome = EmailChannel(config, clock).send(task, subscriber(), LINKS)
    assert outcome.result is Result.SENT, outcome.detail

    [received] = smtp_server.received
    assert received.mail_from == "status@acme.example"
    assert received.rcpt_tos == ["jane@example.com"]
    message = received.message()  # strict parsing: a defect raises
    assert message["From"] == "Acme Status <status@acme.example>"
    assert message["To"] == "jane@example.com"
    assert message["Subject"] == "[Acme Status] Payments outage \u2013 Investigating"
    assert parsedate_to_datetime(message["Date"]) == clock()
    assert message["Message-ID"] == f"<{task.message_id}@status.acme.example>"
    assert message["List-Id"] == "Acme Status <status.status.acme.example>"
    assert message["List-Unsubscribe"] == f"<{SITE}/unsubscribe/MANAGE-TOKEN>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    # Nothing but 7-bit on the wire, whatever the server supports.
    assert received.data.isascii()

    text, html = parts(message)
    assert "Payments outage" in text
    assert "Investigating · Tue, Sep 15, 07:00 CEST" in text  # the site's time zone
    assert "Affects: Payments" in text
    assert "We are looking into failed payments." in text  # Markdown as plain text
    assert f"{SITE}/incidents/" in text
    assert f"Manage your subscription: {SITE}/subscriptions/MANAGE-TOKEN" in text
    assert f"Unsubscribe: {SITE}/unsubscribe/MANAGE-TOKEN" in text
    assert "Current status:" in text
    assert "<strong>looking</strong>" in html
    assert f'href="{SITE}/subscriptions/MANAGE-TOKEN"' in html
    assert f'href="{SITE}/unsubscribe/MANAGE-TOKEN"' in html


def test_the_message_id_is_the_same_on_every_attempt(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    task = open_incident(config, site, clock)
    channel = EmailChannel(config, clock)
    channel.send(task, subscriber(), LINKS)
    clock.advance(minutes=5)
    channel.send(replace(task, attempts=2), subscriber(), LINKS)
    other = replace(task, message_id=message_id(task.event_id, "sub2"), subscriber_id="sub2")
    channel.send(other, subscriber("bob@example.com", "sub2"), LINKS)
    ids = [m["Message-ID"] for m in smtp_server.messages()]
    assert ids[0] == ids[1] == f"<msg_{task.event_id}_sub1@status.acme.example>"
    assert ids[2] == f"<msg_{task.event_id}_sub2@status.acme.example>"


@pytest.mark.parametrize(
    "title",
    [
        "Payments outage\r\nBcc: x@evil.example",
        "Payments outage\nBcc: x@evil.example",
        "Payments outage\rBcc: x@evil.example",
        "Payments outage\u2028Bcc: x@evil.example",
        "Payments outage\x00\x0bBcc: x@evil.example",
    ],
)
def test_a_title_with_line_breaks_never_adds_a_header(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
    title: str,
) -> None:
    """MAIL-12: a title cannot split the Subject into a header of its own."""
    task = open_incident(config, site, clock, name=title)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    [received] = smtp_server.received
    assert received.rcpt_tos == ["jane@example.com"]
    message = received.message()
    assert "Bcc" not in message
    assert (
        message["Subject"]
        == "[Acme Status] Payments outage Bcc: x@evil.example \u2013 Investigating"
    )
    head = received.data.split(b"\r\n\r\n", 1)[0].decode()
    assert not re.search(r"^bcc:", head, re.IGNORECASE | re.MULTILINE)
    text, _ = parts(message)
    assert text.splitlines()[0] == "Payments outage Bcc: x@evil.example"


def test_incident_text_is_escaped_in_html_and_never_run_as_a_template(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    """MAIL-13, SEC-04, WEB-07: the HTML part is autoescaped, the Markdown
    sanitised, template syntax shown as typed."""
    body = (
        "<script>alert(1)</script> {{ 7*7 }} {% include '/etc/passwd' %} "
        "[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    title = "<b>{{ 7*7 }}</b> ${7*7} <%= 7*7 %>"
    task = open_incident(config, site, clock, name=title, body=body)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    message = only_message(smtp_server)
    assert message["Subject"] == f"[Acme Status] {title} \u2013 Investigating"
    text, html = parts(message)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt; ${7*7} &lt;%= 7*7 %&gt;" in html
    assert "{{ 7*7 }} {% include '/etc/passwd' %}" in html
    assert "49" not in html and "49" not in text
    assert text.splitlines()[0] == title
    assert "<script>alert(1)</script> {{ 7*7 }} {% include '/etc/passwd' %}" in text


def test_the_confirmation_mail_has_the_link_its_lifetime_and_no_list_headers(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    links = replace(LINKS, confirm=f"{SITE}/subscribe/confirm/CONFIRM-TOKEN")
    task = Task(1, "msg_9_sub1", 1, clock(), 9, EventKind.SUBSCRIBER_CONFIRM, {}, "sub1")
    pending = replace(subscriber(), state=SubscriberState.PENDING, confirm_nonce="n")
    assert EmailChannel(config, clock).send(task, pending, links).result is Result.SENT
    message = only_message(smtp_server)
    assert message["Subject"] == "[Acme Status] Confirm your subscription to Acme Status"
    assert message["Message-ID"] == "<msg_9_sub1@status.acme.example>"
    for header in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert header not in message
    text, html = parts(message)
    assert f"{SITE}/subscribe/confirm/CONFIRM-TOKEN" in text
    assert f'href="{SITE}/subscribe/confirm/CONFIRM-TOKEN"' in html
    assert "48 hours" in text and "48 hours" in html
    assert "If you did not ask for this, ignore this mail" in text
    assert "MANAGE-TOKEN" not in text  # no links to a subscription that does not exist yet


def test_a_maintenance_mail_says_when(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    start = clock() + timedelta(days=2)
    MaintenanceRepository(site).create(
        title="Database upgrade",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        timezone="Europe/Berlin",
        components=["api"],
        created_by="test",
        now=clock(),
        body="Expect **short** interruptions.",
    )
    task = task_for_new_events(config, site, clock, EventKind.MAINTENANCE_SCHEDULED)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    message = only_message(smtp_server)
    assert message["Subject"] == "[Acme Status] Scheduled maintenance: Database upgrade"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert "When: Thu, Sep 17, 07:00 CEST until 09:00 CEST" in text
    assert "Affects: API" in text
    assert "Expect short interruptions." in text
    assert "<strong>short</strong>" in html


def test_a_component_status_mail(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    with site.transaction() as conn:
        site.insert_transition(
            conn,
            "payments",
            Transition(
                clock(), ComponentStatus.OPERATIONAL, ComponentStatus.PARTIAL_OUTAGE, "checks"
            ),
            clock(),
        )
    task = task_for_new_events(config, site, clock, EventKind.COMPONENT_UPDATED)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    message = only_message(smtp_server)
    assert message["Subject"] == "[Acme Status] Payments: Partial Outage"
    text, _ = parts(message)
    assert "Payments changed from Operational to Partial Outage at Tue, Sep 15, 07:00 CEST." in text


def test_reply_to_and_a_title_with_specials_in_list_id(
    smtp_server: SmtpServer,  # noqa: F811
    sqlite_store: Store,
    clock: FakeClock,
) -> None:
    config = make_config(
        smtp_server.settings(reply_to="help@acme.example"), title='Acme "Cloud" Status'
    )
    Monitor(config, sqlite_store, clock).start()
    task = open_incident(config, sqlite_store, clock)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    message = only_message(smtp_server)
    assert message["Reply-To"] == "help@acme.example"
    assert message["List-Id"] == '"Acme \\"Cloud\\" Status" <status.status.acme.example>'


# --- sorting failures: what disables a subscriber, what is retried -----------------


@pytest.mark.parametrize(
    ("rcpt", "data", "result"),
    [
        ("550 5.1.1 <jane@example.com>: Recipient address rejected", None, Result.PERMANENT),
        ("550 No such user here", None, Result.PERMANENT),
        ("553 5.1.3 Bad recipient address syntax", None, Result.PERMANENT),
        ("450 4.2.1 Mailbox busy, try again", None, Result.RETRY),
        ("452 4.3.1 Insufficient system storage", None, Result.RETRY),
        # The server refuses us, not this recipient: never disable anyone.
        ("554 5.7.1 <jane@example.com>: Relay access denied", None, Result.RETRY),
        ("550 relaying denied", None, Result.RETRY),
        ("530 5.7.0 Authentication required", None, Result.RETRY),
        ("552 5.2.2 Mailbox full", None, Result.RETRY),
        (None, "451 4.3.0 Try again later", Result.RETRY),
        (None, "554 5.7.1 Message rejected as spam", Result.RETRY),
    ],
)
def test_smtp_refusals_are_sorted(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
    rcpt: str | None,
    data: str | None,
    result: Result,
) -> None:
    task = open_incident(config, site, clock)
    smtp_server.sink.refuse_rcpt, smtp_server.sink.refuse_data = rcpt, data
    outcome = EmailChannel(config, clock).send(task, subscriber(), LINKS)
    assert outcome.result is result
    assert (rcpt or data or "")[:3] in outcome.detail
    assert smtp_server.received == []


def test_a_mail_server_that_is_down_is_retried(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    task = open_incident(config, site, clock)
    smtp_server.stop()
    outcome = EmailChannel(config, clock).send(task, subscriber(), LINKS)
    assert outcome.result is Result.RETRY
    assert outcome.detail == f"connection to 127.0.0.1:{smtp_server.port} refused"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def test_a_mail_server_that_never_answers_is_cut_by_the_timeout(
    sqlite_store: Store, clock: FakeClock, silent_port: int
) -> None:
    config = make_config(
        {"host": "127.0.0.1", "port": silent_port, "security": "none", "from": "s@acme.example"}
        | {"timeout": "300ms"}
    )
    Monitor(config, sqlite_store, clock).start()
    task = open_incident(config, sqlite_store, clock)
    outcome = EmailChannel(config, clock).send(task, subscriber(), LINKS)
    assert outcome.result is Result.RETRY
    assert outcome.detail == f"127.0.0.1:{silent_port} did not answer in time"


def test_an_unusable_address_is_permanent_without_talking_to_the_server(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    task = open_incident(config, site, clock)
    channel = EmailChannel(config, clock)
    for address in ("jane@example.com\r\nBcc: x@evil.example", "jöe@example.com"):
        outcome = channel.send(task, subscriber(address), LINKS)
        assert outcome.result is Result.PERMANENT, address
    assert smtp_server.received == []


# --- login and TLS ---------------------------------------------------------------------


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
    ok = auth.login == b"status" and auth.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server() -> Iterator[SmtpServer]:
    server = SmtpServer(
        authenticator=_authenticator, auth_required=True, auth_require_tls=False
    ).start()
    try:
        yield server
    finally:
        server.stop()


NO_TLS_WARNING = "ignore:Requiring AUTH while not requiring TLS"


@pytest.mark.filterwarnings(NO_TLS_WARNING)
def test_login_with_the_configured_credentials(
    auth_server: SmtpServer, sqlite_store: Store, clock: FakeClock
) -> None:
    config = make_config(auth_server.settings(username="status", password=PASSWORD))
    Monitor(config, sqlite_store, clock).start()
    task = open_incident(config, sqlite_store, clock)
    assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    assert len(auth_server.received) == 1


@pytest.mark.filterwarnings(NO_TLS_WARNING)
def test_a_refused_login_is_retried_and_the_password_is_never_told(
    auth_server: SmtpServer,
    sqlite_store: Store,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = make_config(auth_server.settings(username="status", password="wrong-" + PASSWORD))
    Monitor(config, sqlite_store, clock).start()
    task = open_incident(config, sqlite_store, clock)
    with caplog.at_level(logging.DEBUG):
        outcome = EmailChannel(config, clock).send(task, subscriber(), LINKS)
    assert outcome.result is Result.RETRY
    assert outcome.detail.startswith(f"login refused by 127.0.0.1:{auth_server.port}: 535")
    assert PASSWORD not in outcome.detail and PASSWORD not in caplog.text
    assert PASSWORD not in repr(config)
    assert auth_server.received == []


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_starttls_with_a_private_ca(
    ca: trustme.CA, ca_file: str, sqlite_store: Store, clock: FakeClock
) -> None:
    server = SmtpServer(tls_context=_server_context(ca), require_starttls=True).start()
    try:
        config = make_config(server.settings(security="starttls", ca_file=ca_file))
        Monitor(config, sqlite_store, clock).start()
        task = open_incident(config, sqlite_store, clock)
        assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
        assert len(server.received) == 1
        # Without the CA the certificate is not trusted: retried, not sent in clear.
        untrusting = make_config(server.settings(security="starttls"))
        outcome = EmailChannel(untrusting, clock).send(task, subscriber(), LINKS)
        assert outcome.result is Result.RETRY
        assert outcome.detail.startswith(f"TLS with 127.0.0.1:{server.port} failed")
        assert "CERTIFICATE_VERIFY_FAILED" in outcome.detail
        assert len(server.received) == 1
    finally:
        server.stop()


def test_tls_from_the_first_byte(
    ca: trustme.CA, ca_file: str, sqlite_store: Store, clock: FakeClock
) -> None:
    server = SmtpServer(ssl_context=_server_context(ca)).start()
    try:
        config = make_config(server.settings(security="tls", ca_file=ca_file))
        Monitor(config, sqlite_store, clock).start()
        task = open_incident(config, sqlite_store, clock)
        assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
        assert len(server.received) == 1
    finally:
        server.stop()


def test_starttls_refused_by_a_plain_server_is_retried(
    config: Config,
    site: Store,
    clock: FakeClock,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    """A server without STARTTLS: never fall back to sending in clear."""
    task = open_incident(config, site, clock)
    starttls = make_config(smtp_server.settings(security="starttls"))
    outcome = EmailChannel(starttls, clock).send(task, subscriber(), LINKS)
    assert outcome.result is Result.RETRY
    assert "STARTTLS" in outcome.detail
    assert smtp_server.received == []


# --- the demo's mailbox ----------------------------------------------------------------


def test_the_demo_mailbox_keeps_each_mail_as_a_file(
    tmp_path: Path, sqlite_store: Store, clock: FakeClock
) -> None:
    mailbox = DemoMailbox(tmp_path).start()
    try:
        path = write_demo_config(
            tmp_path, {"payments": "http://127.0.0.1:1"}, None, 8080, mail_port=mailbox.port
        )
        config = load_config(path)
        assert config.notifications.email is not None
        assert config.notifications.email.effective_port() == mailbox.port
        Monitor(config, sqlite_store, clock).start()
        task = open_incident(config, sqlite_store, clock)
        assert EmailChannel(config, clock).send(task, subscriber(), LINKS).result is Result.SENT
    finally:
        mailbox.stop()
    [saved] = sorted(mailbox.folder.glob("*.eml"))
    assert [p.name for p in mailbox.folder.iterdir()] == [saved.name]  # no temporary left
    message = email.message_from_bytes(saved.read_bytes(), policy=email.policy.strict)
    assert message["Subject"] == "[Demo Status] Payments outage \u2013 Investigating"
    assert message["To"] == "jane@example.com"


# --- the rules as functions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reply", "permanent"),
    [
        (550, "5.1.1 User unknown", True),
        (550, "5.1.10 Null MX", True),
        (550, "5.2.1 Mailbox disabled", True),
        (552, "5.2.2 Mailbox full", False),
        (554, "5.7.1 Relay access denied", False),
        (550, "5.7.1 Sender blocked", False),
        (550, "5.4.4 Unable to route", False),
        (450, "4.1.1 Try later", False),
        (550, "User unknown", True),
        (551, "User not local", True),
        (550, "Relaying denied", False),
        (550, "Sender rejected by policy", False),
        (554, "Transaction failed", False),
        (421, "Service not available", False),
    ],
)
def test_which_refusals_are_about_the_recipient(code: int, reply: str, permanent: bool) -> None:
    assert is_recipient_refusal(code, reply) is permanent


def test_one_line() -> None:
    assert one_line("a\r\nb\tc\x00d\u2028e\u2029f\x85g") == "a b c d e f g"
    assert one_line("  many   spaces  ") == "many spaces"
    assert one_line("x" * 300, 10) == "x" * 9 + "…"


def test_lifetime_words() -> None:
    assert lifetime_words(timedelta(hours=48)) == "48 hours"
    assert lifetime_words(timedelta(hours=1)) == "1 hour"
    assert lifetime_words(timedelta(days=7)) == "7 days"
    assert lifetime_words(timedelta(minutes=90)) == "90 minutes"
