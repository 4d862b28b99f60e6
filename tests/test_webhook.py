"""Webhooks against real receivers on loopback: the signature checked by an
implementation of Standard Webhooks written here from the spec, the payload
shapes, retries with the same id, 410, redirects, quarantine, and the
address rules (literal addresses in every spelling, names that resolve to
private addresses, rebinding, the address actually connected to)."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

import dns.resolver
import httpcore
import pytest

from statuspage import audit
from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.notify.channel import Links, Result
from statuspage.notify.settings import WebhookSettings
from statuspage.notify.tokens import new_webhook_secret, seal
from statuspage.notify.webhook import (
    USER_AGENT,
    WebhookChannel,
    address_refusal,
    validate_webhook_url,
)
from statuspage.notify.worker import OutboxWorker
from statuspage.store import Store
from statuspage.store.outbox import DeliveryState, EventKind, OutboxRepository, Task
from statuspage.store.subscribers import Subscriber, SubscriberKind, SubscriberRepository
from statuspage.store.subscribers import SubscriberState as State
from statuspage.uptime import Transition
from tests.conftest import FakeClock
from tests.loopback import Reply, ScriptedServer, Seen, drip_server, scripted_server
from tests.test_check_dns import dns_server
from tests.test_outbox import open_incident as open_incident_on

KEY = "webhook-test-key-" + "x" * 32
SITE = "https://status.acme.test"
MAJOR = ComponentStatus.MAJOR_OUTAGE
OK = ComponentStatus.OPERATIONAL
PUBLIC_IP = "93.184.216.34"
TOLERANCE_S = 5 * 60


# --- Standard Webhooks, as a receiver implements it from the spec ----------------


class Invalid(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> dict[str, Any]:
    """The receiver's side of https://www.standardwebhooks.com: the signed
    content is `msg_id.timestamp.payload`, HMAC-SHA256 keyed with the base64
    part of `whsec_...`; the header holds space-separated `v1,<base64>`
    entries; a timestamp more than five minutes off is refused."""
    msg_id = headers["webhook-id"]
    stamp = headers["webhook-timestamp"]
    if abs(now - int(stamp)) > TOLERANCE_S:
        raise Invalid("timestamp outside the tolerance")
    key = base64.b64decode(secret.split("_", 1)[1])
    content = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.digest(key, content, "sha256"))
    for entry in headers["webhook-signature"].split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), expected):
            return json.loads(body)
    raise Invalid("no matching signature")


# --- the site: config, store, a webhook subscriber, a worker ---------------------


def make_config(**webhooks: Any) -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": SITE},
            "components": [{"id": "api", "name": "API"}, {"id": "payments", "name": "Payments"}],
            "notifications": {"webhooks": {"allow_private": True, **webhooks}},
        },
        env={},
    )


@pytest.fixture
def db(sqlite_store: Store, clock: FakeClock) -> Store:
    components = [
        {"id": cid, "name": name, "description": "", "group_name": None, "checks": []}
        for cid, name in (("api", "API"), ("payments", "Payments"))
    ]
    with sqlite_store.transaction() as conn:
        sqlite_store.sync_components(conn, components, clock())
    return sqlite_store


@pytest.fixture
def receiver() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        yield server


def add_webhook(store: Store, clock: FakeClock, url: str, component_updates: bool = False) -> str:
    """A webhook subscriber; returns its secret."""
    secret = new_webhook_secret()
    with store.transaction() as conn:
        created = SubscriberRepository().add_webhook(
            conn,
            url,
            secret_encrypted=seal(secret, KEY),
            component_ids=None,
            component_updates=component_updates,
            now=clock(),
            created_by="test",
        )
    assert created is not None
    return secret


def make_worker(config: Config, store: Store, clock: FakeClock, **kw: Any) -> OutboxWorker:
    channel = WebhookChannel(config, KEY, **kw)
    return OutboxWorker(
        config, store, KEY, {SubscriberKind.WEBHOOK: channel}, clock, name="w1", jitter=lambda: 1.0
    )


def open_incident(store: Store, clock: FakeClock, name: str = "Payments outage") -> str:
    return open_incident_on(store, clock, {"payments": MAJOR}, name=name)


def only_subscriber(store: Store) -> Subscriber:
    with store.engine.connect() as conn:
        [found] = SubscriberRepository().listing(conn)
    return found


def deliveries(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return OutboxRepository().deliveries(conn, limit=1000)


def posts(server: ScriptedServer, path: str = "/hook") -> list[Seen]:
    return [s for s in server.seen if s.method == "POST" and s.path == path]


# --- signature and payload ---------------------------------------------------------


def test_a_receiver_verifies_the_signed_incident_payload(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    secret = add_webhook(db, clock, receiver.route("/hook", status=204))
    open_incident(db, clock)
    assert make_worker(make_config(), db, clock).run_once() == 1
    [seen] = posts(receiver)
    payload = verify(secret, seen.headers, seen.body, now=time.time())
    [delivery] = deliveries(db)
    assert delivery.state is DeliveryState.SENT
    assert seen.headers["webhook-id"] == delivery.message_id
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == USER_AGENT
    assert list(payload) == ["meta", "page", "incident"]
    subscriber = only_subscriber(db)
    assert payload["meta"]["unsubscribe"].startswith(f"{SITE}/unsubscribe/")
    assert payload["meta"]["documentation"].startswith(SITE)
    assert payload["meta"]["event"] == "incident.created"
    assert payload["page"]["url"] == SITE
    assert payload["page"]["status_indicator"] in ("none", "minor", "major", "critical")
    assert payload["incident"]["name"] == "Payments outage"
    assert payload["incident"]["status"] == "investigating"
    assert [u["body"] for u in payload["incident"]["incident_updates"]] == [
        "We are looking into it."
    ]
    # The secret is the subscriber's own: another secret, or a changed
    # byte, or a replay after the tolerance, does not verify.
    assert subscriber.secret_encrypted and secret not in subscriber.secret_encrypted
    with pytest.raises(Invalid, match="no matching"):
        verify(new_webhook_secret(), seen.headers, seen.body, now=time.time())
    with pytest.raises(Invalid, match="no matching"):
        verify(secret, seen.headers, seen.body.replace(b"Payments", b"Paymentz"), time.time())
    sent_at = int(seen.headers["webhook-timestamp"])
    assert abs(sent_at - time.time()) < 60
    verify(secret, seen.headers, seen.body, now=sent_at + TOLERANCE_S)
    with pytest.raises(Invalid, match="timestamp"):
        verify(secret, seen.headers, seen.body, now=sent_at + TOLERANCE_S + 1)


def test_a_component_change_is_a_component_update_payload(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    secret = add_webhook(db, clock, receiver.route("/hook", status=200), component_updates=True)
    with db.transaction() as conn:
        db.insert_transition(conn, "api", Transition(clock(), OK, MAJOR, "checks"), clock())
    make_worker(make_config(), db, clock).run_once()
    [seen] = posts(receiver)
    payload = verify(secret, seen.headers, seen.body, now=time.time())
    assert list(payload) == ["meta", "page", "component_update", "component"]
    assert payload["meta"]["event"] == "component.updated"
    update = payload["component_update"]
    assert (update["old_status"], update["new_status"]) == ("operational", "major_outage")
    assert payload["component"]["name"] == "API"
    assert payload["component"]["status"] == "major_outage"
    assert update["component_id"] == payload["component"]["id"]


def test_hostile_incident_text_round_trips_in_the_signed_bytes(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    # HOOK-02, SEC-04: quotes, backslashes, newlines, U+2028 and template
    # syntax arrive as they were written, in the very bytes that were signed.
    name = 'Outage "quoted" \\ back\nslash \u2028 {{ 7*7 }} ${7*7} <%= 7*7 %>'
    secret = add_webhook(db, clock, receiver.route("/hook", status=200))
    open_incident(db, clock, name=name)
    make_worker(make_config(), db, clock).run_once()
    [seen] = posts(receiver)
    assert seen.body.isascii()
    assert verify(secret, seen.headers, seen.body, time.time())["incident"]["name"] == name


# --- retries, 410, redirects, quarantine -------------------------------------------


def test_a_failed_delivery_is_retried_after_the_backoff_with_the_same_id(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    answers = [Reply(500, "database is down"), Reply(200, "ok")]
    secret = add_webhook(db, clock, receiver.route("/hook", lambda seen: answers.pop(0)))
    open_incident(db, clock)
    worker = make_worker(make_config(), db, clock)
    worker.run_once()
    [delivery] = deliveries(db)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.last_error == "HTTP 500: database is down"
    assert (delivery.next_attempt_at - clock()).total_seconds() == 30
    clock.advance(29)
    assert worker.run_once() == 0  # not due yet: one second before
    clock.advance(1)
    assert worker.run_once() == 1
    first, second = posts(receiver)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    verify(secret, second.headers, second.body, time.time())
    [delivery] = deliveries(db)
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)
    assert only_subscriber(db).consecutive_failures == 0
    clock.advance(3600)
    assert worker.run_once() == 0
    assert len(posts(receiver)) == 2


def test_410_disables_the_webhook_and_nothing_more_is_sent(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    add_webhook(db, clock, receiver.route("/hook", status=410, body="gone"))
    open_incident(db, clock)
    worker = make_worker(make_config(), db, clock)
    worker.run_once()
    subscriber = only_subscriber(db)
    assert subscriber.state is State.DISABLED
    assert subscriber.last_error == "HTTP 410: gone (the receiver asked to stop)"
    [delivery] = deliveries(db)
    assert delivery.state is DeliveryState.FAILED
    open_incident(db, clock, name="Another outage")
    clock.advance(3600)
    worker.run_once()
    assert len(posts(receiver)) == 1
    assert [d.state for d in deliveries(db)] == [DeliveryState.FAILED]


def test_a_redirect_is_a_failure_and_its_target_is_never_contacted(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    with scripted_server() as elsewhere:
        target = elsewhere.route("/collect", status=200)
        add_webhook(db, clock, receiver.route("/hook", status=307, headers={"Location": target}))
        open_incident(db, clock)
        make_worker(make_config(), db, clock).run_once()
        assert elsewhere.seen == []
    [delivery] = deliveries(db)
    assert delivery.state is DeliveryState.PENDING
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("HTTP 307: a redirect (to 127.0.0.1) is not followed")
    assert only_subscriber(db).consecutive_failures == 1


def test_a_webhook_failing_n_times_in_a_row_is_quarantined_and_audited(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    add_webhook(db, clock, receiver.route("/hook", status=503, body="maintenance"))
    open_incident(db, clock)
    worker = make_worker(make_config(quarantine_after=3), db, clock)
    for _ in range(3):
        assert worker.run_once() == 1
        clock.advance(3600)
    subscriber = only_subscriber(db)
    assert subscriber.state is State.QUARANTINED
    assert subscriber.consecutive_failures == 3
    entries = [e for e in audit.recent(db) if e.action == "subscriber.quarantined"]
    assert [(e.actor, e.target_id) for e in entries] == [("automation", subscriber.id)]
    assert entries[0].after is not None
    assert "3 failed attempts in a row; last: HTTP 503: maintenance" in entries[0].after["reason"]
    open_incident(db, clock, name="Later")
    assert worker.run_once() == 0
    assert len(posts(receiver)) == 3


def test_a_receiver_that_drips_is_cut_at_the_timeout(db: Store, clock: FakeClock) -> None:
    # Each byte of the headers comes well within the 500 ms per-step
    # timeout; only the total limit ends the exchange (HOOK-08).
    with drip_server(b"HTTP/1.1 200 OK\r\nX-Slow: ", drip=b"a", every=0.1) as server:
        add_webhook(db, clock, server.url)
        open_incident(db, clock)
        started = time.monotonic()
        make_worker(make_config(timeout="500ms"), db, clock).run_once()
        took = time.monotonic() - started
    assert took < 3
    [delivery] = deliveries(db)
    assert delivery.state is DeliveryState.PENDING
    assert delivery.last_error == "no answer within 0.5s"


def test_a_long_error_answer_is_cut_short_for_staff(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    add_webhook(db, clock, receiver.route("/hook", status=500, body="<html>" + "x" * 5_000_000))
    open_incident(db, clock)
    make_worker(make_config(), db, clock).run_once()
    [delivery] = deliveries(db)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("HTTP 500: <html>xxx")
    assert len(delivery.last_error) <= 220


def test_the_secret_is_in_no_log_line_and_no_error(
    db: Store, clock: FakeClock, receiver: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    answers = [Reply(500, "no"), Reply(410, "bye")]
    secret = add_webhook(db, clock, receiver.route("/hook", lambda seen: answers.pop(0)))
    open_incident(db, clock)
    worker = make_worker(make_config(), db, clock)
    with caplog.at_level(logging.DEBUG):
        worker.run_once()
        clock.advance(3600)
        worker.run_once()
    key_bytes = secret.removeprefix("whsec_")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook msg_" in logged  # the sends were logged
    stored = " ".join(str(d.last_error) for d in deliveries(db)) + str(only_subscriber(db))
    for text in (logged, stored):
        assert secret not in text and key_bytes not in text


def test_a_secret_sealed_with_another_key_is_not_sent_and_says_why(
    db: Store, clock: FakeClock, receiver: ScriptedServer
) -> None:
    add_webhook(db, clock, receiver.route("/hook", status=200))
    open_incident(db, clock)
    channel = WebhookChannel(make_config(), "another-key-" + "y" * 32)
    worker = OutboxWorker(
        make_config(), db, KEY, {SubscriberKind.WEBHOOK: channel}, clock, jitter=lambda: 1.0
    )
    worker.run_once()
    assert posts(receiver) == []
    [delivery] = deliveries(db)
    assert delivery.last_error is not None
    assert "cannot be read with this secret key: rotate it in the admin" in delivery.last_error


# --- which URLs: literal addresses in every spelling ---------------------------------

REFUSED_URLS = [
    ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
    ("http://127.1/", "127.0.0.1 is a loopback address"),
    ("http://2130706433/", "127.0.0.1 is a loopback address"),
    ("http://0x7f.1/", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1/", "127.0.0.1 is a loopback address"),
    ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is a loopback address"),
    ("http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1 (NAT64 127.0.0.1) is a loopback address"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1:: (6to4 127.0.0.1) is a loopback address"),
    ("http://[::127.0.0.1]/", "::7f00:1 (IPv4-compatible 127.0.0.1) is a loopback address"),
    ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
    ("http://0/", "0.0.0.0 is an unspecified address"),
    ("http://[::]/", ":: is an unspecified address"),
    ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ("http://172.16.0.1/", "172.16.0.1 is a private address"),
    ("http://192.168.1.10:8080/x", "192.168.1.10 is a private address"),
    ("http://[fd12::1]/", "fd12::1 is a private (ULA) address"),
    ("http://169.254.1.1/", "169.254.1.1 is a link-local address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("http://100.64.0.1/", "100.64.0.1 is a shared (CGNAT) address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://[ff02::1]/", "ff02::1 is a multicast address"),
    ("http://255.255.255.255/", "255.255.255.255 is the broadcast address"),
    ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ("http://198.18.0.1/", "198.18.0.1 is not a public address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://2852039166/", "169.254.169.254 is a cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/", "(IPv4-mapped 169.254.169.254) is a cloud metadata"),
    ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
    ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
    ("http://metadata.google.internal/", "metadata.google.internal is a cloud metadata address"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_literal_addresses_that_are_not_public_are_refused(url: str, reason: str) -> None:
    refused = validate_webhook_url(url, WebhookSettings(), resolver=_no_dns)
    assert refused is not None and reason in refused


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "use an http:// or https:// URL"),
        ("gopher://example.com/", "use an http:// or https:// URL"),
        ("ftp://example.com/", "use an http:// or https:// URL"),
        ("javascript:alert(1)", "use an http:// or https:// URL"),
        ("data:text/html,hi", "use an http:// or https:// URL"),
        ("dict://example.com:11211/", "use an http:// or https:// URL"),
        ("hooks.example.com/x", "use an http:// or https:// URL"),
        ("https://user:pw@hooks.example.com/", "a user name or password is not accepted"),
        ("https://hooks.example.com@127.0.0.1/", "a user name or password is not accepted"),
        # urlsplit sees example.com, urllib3 127.0.0.1:6379 (HOOK-12).
        ("http://127.0.0.1:6379\\@example.com/", "a backslash"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com:99999/", "port"),
        ("https:///path", "no host name"),
        ("http://[::1/hook", "the URL cannot be read"),
        ("https://hooks.example.com/" + "x" * 2000, "longer than 2000"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url: str, reason: str) -> None:
    refused = validate_webhook_url(url, WebhookSettings(), resolver=_public)
    assert refused is not None and reason in refused


def test_a_public_address_and_a_public_name_are_accepted() -> None:
    settings = WebhookSettings()
    assert validate_webhook_url("https://93.184.216.34/hook", settings) is None
    assert validate_webhook_url("https://[2606:4700::1111]/hook", settings) is None
    assert validate_webhook_url("HTTPS://hooks.example.com/hook?x=1", settings, _public) is None
    # A public address spelled oddly is refused, with the plain spelling.
    assert (
        validate_webhook_url("http://1572395042/", settings) == "write the address as 93.184.216.34"
    )


def test_allow_private_and_allowed_networks_lift_the_private_rule_only() -> None:
    open_ = WebhookSettings(allow_private=True)
    assert validate_webhook_url("http://10.1.2.3:8080/hook", open_) is None
    assert validate_webhook_url("http://127.0.0.1/", open_) is None
    listed = WebhookSettings.model_validate({"allowed_networks": ["10.0.0.0/8", "fd00::/8"]})
    assert validate_webhook_url("http://10.1.2.3/", listed) is None
    assert validate_webhook_url("http://[fd12::1]/", listed) is None
    assert validate_webhook_url("http://192.168.1.1/", listed) == (
        "192.168.1.1 is a private address"
    )
    # Metadata, multicast and unspecified stay refused whatever the config says.
    everything = WebhookSettings.model_validate(
        {"allow_private": True, "allowed_networks": ["169.254.0.0/16", "100.64.0.0/10", "::/0"]}
    )
    for address in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "224.0.0.1", "0.0.0.0"):
        assert address_refusal(address, everything) is not None, address
    assert validate_webhook_url("http://metadata.google.internal/", everything) is not None


# --- which URLs: names ----------------------------------------------------------------


def _no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} should not need a lookup")


def _public(host: str, port: int) -> list[str]:
    return [PUBLIC_IP]


def resolver_of(answers: dict[str, Sequence[str]]) -> Any:
    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["10.0.0.7"], "hooks.example.test resolves to 10.0.0.7, a private address"),
        ([PUBLIC_IP, "127.0.0.1"], "hooks.example.test resolves to 127.0.0.1, a loopback address"),
        (["::ffff:169.254.169.254"], "a cloud metadata address"),
        ([], "hooks.example.test does not resolve to an address"),
    ],
)
def test_a_name_that_resolves_to_a_refused_address_is_refused(
    answers: list[str], reason: str
) -> None:
    resolver = resolver_of({"hooks.example.test": answers})
    refused = validate_webhook_url("https://hooks.example.test/x", WebhookSettings(), resolver)
    assert refused is not None and reason in refused


def test_names_are_checked_with_the_system_resolver_by_default() -> None:
    # /etc/hosts answers for localhost: a real lookup, no network needed.
    assert validate_webhook_url("http://localhost:8080/hook", WebhookSettings()) == (
        "localhost resolves to 127.0.0.1, a loopback address"
    )
    assert validate_webhook_url("http://nowhere.invalid/", WebhookSettings()) == (
        "nowhere.invalid does not resolve to an address"
    )


def test_a_name_served_by_a_real_dns_server_is_checked_on_its_answers() -> None:
    zone_text = (
        "public.example.test.   60 IN A 93.184.216.34\n"
        "internal.example.test. 60 IN A 93.184.216.34\n"
        "internal.example.test. 60 IN A 192.168.7.7\n"
    )
    with dns_server(zone_text) as (zone, nameserver):
        host, port = nameserver.split(":")
        lookup = dns.resolver.Resolver(configure=False)
        lookup.nameservers, lookup.port, lookup.lifetime = [host], int(port), 2.0

        def resolve(name: str, _port: int) -> list[str]:
            # A resolver says "no such name" as getaddrinfo does: OSError.
            try:
                return [answer.to_text() for answer in lookup.resolve(name, "A")]
            except dns.resolver.NXDOMAIN as exc:
                raise socket.gaierror(socket.EAI_NONAME, str(exc)) from exc

        settings = WebhookSettings()
        assert validate_webhook_url("https://public.example.test/", settings, resolve) is None
        assert validate_webhook_url("https://internal.example.test/", settings, resolve) == (
            "internal.example.test resolves to 192.168.7.7, a private address"
        )
        assert validate_webhook_url("https://missing.example.test/", settings, resolve) == (
            "missing.example.test does not resolve to an address"
        )
        assert {name for name, _, _ in zone.asked} >= {"public.example.test"}


# --- at connect time ------------------------------------------------------------------


def send_once(channel: WebhookChannel, url: str, secret: str = "") -> Any:
    """One delivery straight through the channel, outside the worker."""
    secret = secret or new_webhook_secret()
    subscriber = Subscriber(
        id="sub1", kind=SubscriberKind.WEBHOOK, address=url, state=State.ACTIVE,
        all_components=True, component_ids=(), component_updates=False, confirm_nonce=None,
        link_version=1, secret_encrypted=seal(secret, KEY), consecutive_failures=0,
        last_error=None, created_by="test", created_at=FakeClock()(), confirmed_at=None,
    )  # fmt: skip
    task = Task(
        delivery_id=1, message_id="msg_1_sub1", attempts=1, created_at=FakeClock()(),
        event_id=1, event_kind=EventKind.INCIDENT_CREATED,
        document={"event": "incident.created", "page": {"id": "p"}, "incident": {"id": "i"}},
        subscriber_id="sub1",
    )  # fmt: skip
    links = Links(manage=f"{SITE}/subscriptions/t", unsubscribe=f"{SITE}/unsubscribe/t")
    return channel.send(task, subscriber, links)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost"]
)
def test_loopback_in_any_spelling_is_refused_when_connecting(
    receiver: ScriptedServer, host: str
) -> None:
    # The form would refuse these; a URL stored before the config changed,
    # or written to the database another way, is refused again here.
    receiver.route("/hook", status=200)
    channel = WebhookChannel(make_config(allow_private=False), KEY)
    outcome = send_once(channel, f"http://{host}:{receiver.port}/hook")
    assert outcome.result is Result.RETRY
    assert outcome.detail.startswith("refused address: ")
    assert "loopback" in outcome.detail
    assert receiver.seen == []


@pytest.mark.parametrize(
    "webhooks",
    [{"allow_private": True}, {"allow_private": False, "allowed_networks": ["127.0.0.0/8"]}],
)
def test_loopback_is_reached_when_the_config_allows_it(
    receiver: ScriptedServer, webhooks: dict[str, Any]
) -> None:
    receiver.route("/hook", status=200)
    channel = WebhookChannel(make_config(**webhooks), KEY)
    for host in ("127.0.0.1", "2130706433", "localhost"):
        outcome = send_once(channel, f"http://{host}:{receiver.port}/hook")
        assert outcome.result is Result.SENT, (host, outcome)
    assert len(posts(receiver)) == 3
    assert posts(receiver)[2].headers["host"] == f"localhost:{receiver.port}"


def test_an_allowed_network_that_does_not_cover_the_address_refuses_it(
    receiver: ScriptedServer,
) -> None:
    receiver.route("/hook", status=200)
    channel = WebhookChannel(make_config(allow_private=False, allowed_networks=["10.0.0.0/8"]), KEY)
    outcome = send_once(channel, f"http://127.0.0.1:{receiver.port}/hook")
    assert outcome.detail == "refused address: 127.0.0.1 is a loopback address"
    assert receiver.seen == []


def test_a_name_with_one_private_answer_is_refused_before_any_connection(
    receiver: ScriptedServer,
) -> None:
    receiver.route("/hook", status=200)
    resolver = resolver_of({"hooks.example.test": [PUBLIC_IP, "127.0.0.1"]})
    channel = WebhookChannel(make_config(allow_private=False), KEY, resolver=resolver)
    outcome = send_once(channel, f"http://hooks.example.test:{receiver.port}/hook")
    assert outcome.detail == "refused address: 127.0.0.1 is a loopback address"
    assert receiver.seen == []


def test_dns_rebinding_is_refused_at_connect_time(receiver: ScriptedServer) -> None:
    # HOOK-14: public when the form checks, loopback when the worker sends.
    receiver.route("/hook", status=200)
    answers = [[PUBLIC_IP], ["127.0.0.1"]]

    def rebinding(host: str, port: int) -> list[str]:
        return answers.pop(0)

    settings = WebhookSettings()
    url = f"http://rebind.example.test:{receiver.port}/hook"
    assert validate_webhook_url(url, settings, rebinding) is None
    channel = WebhookChannel(make_config(allow_private=False), KEY, resolver=rebinding)
    outcome = send_once(channel, url)
    assert outcome.detail == "refused address: 127.0.0.1 is a loopback address"
    assert receiver.seen == []


def test_the_connection_goes_to_the_vetted_address_without_a_second_lookup(
    receiver: ScriptedServer,
) -> None:
    # The name is resolved once, by our resolver; the socket is opened to
    # the address it vetted, while Host keeps the name.
    receiver.route("/hook", status=200)
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    channel = WebhookChannel(make_config(), KEY, resolver=resolve)
    outcome = send_once(channel, f"http://hooks.example.test:{receiver.port}/hook")
    assert outcome.result is Result.SENT
    assert asked == ["hooks.example.test"]
    assert posts(receiver)[0].headers["host"] == f"hooks.example.test:{receiver.port}"


class LandsOnLoopback(httpcore.NetworkBackend):
    """A network that sends every connection to 127.0.0.1 (a transparent
    proxy, a NAT rule): what the socket reaches is not what was vetted."""

    def __init__(self) -> None:
        self.inner = httpcore.SyncBackend()
        self.asked: list[str] = []

    def connect_tcp(self, host: str, port: int, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        self.asked.append(host)
        return self.inner.connect_tcp("127.0.0.1", port, *args, **kw)


def test_the_address_actually_connected_to_is_checked(receiver: ScriptedServer) -> None:
    receiver.route("/hook", status=200)
    resolver = resolver_of({"hooks.example.test": [PUBLIC_IP]})
    channel = WebhookChannel(make_config(allow_private=False), KEY, resolver=resolver)
    network = LandsOnLoopback()
    transport: Any = channel.client()._transport
    transport._pool._network_backend._backend = network
    outcome = send_once(channel, f"http://hooks.example.test:{receiver.port}/hook")
    assert network.asked == [PUBLIC_IP]
    assert outcome.detail == ("refused address (connected to): 127.0.0.1 is a loopback address")
    assert receiver.seen == []


def test_a_bad_scheme_in_the_database_is_not_sent() -> None:
    channel = WebhookChannel(make_config(), KEY, resolver=_no_dns)
    outcome = send_once(channel, "file:///etc/passwd")
    assert (outcome.result, outcome.detail) == (
        Result.RETRY,
        "refused URL: use an http:// or https:// URL",
    )


def test_retry_after_is_read_in_seconds_and_as_a_date() -> None:
    from datetime import UTC, datetime, timedelta

    from statuspage.notify.webhook import retry_after

    now = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
    assert retry_after("120", now) == timedelta(seconds=120)
    assert retry_after("Tue, 15 Sep 2026 05:10:00 GMT", now) == timedelta(minutes=10)
    assert retry_after("Tue, 15 Sep 2026 04:00:00 GMT", now) == timedelta(0)
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
