"""`type: http` against real servers on loopback: each way a service can be
down, slow or wrong gives its status and a short, exact reason."""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from statuspage.checks import http as http_module
from statuspage.checks import network
from statuspage.checks.base import CheckResult
from statuspage.checks.http import HttpCheck, run_http_check
from statuspage.checks.network import is_metadata_address, probe_client
from statuspage.domain import ComponentStatus
from tests.loopback import (
    ScriptedServer,
    closed_port_url,
    drip_server,
    scripted_server,
    silent_listener,
)

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
REFUSED = "refused: {} is a cloud metadata address"

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE


def http_check(url: str, /, **fields: Any) -> HttpCheck:
    """A check as the config would hold it, its defaults already applied."""
    data: dict[str, Any] = {"type": "http", "name": "API", "url": url}
    data |= {"timeout": "2s", "interval": "30s"} | fields
    return HttpCheck.model_validate(data)


def run(spec: HttpCheck) -> CheckResult:
    return run_http_check(spec, now=lambda: FIXED)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        yield s


# --- the service answers ---------------------------------------------------------


def test_healthy_service_is_operational(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok")
    result = run(http_check(url))
    assert (result.status, result.reason) == (OPERATIONAL, "status 200")
    assert result.at == FIXED
    assert result.ok and result.has_data
    assert result.latency_ms is not None and 0 < result.latency_ms < 2000
    assert [(s.method, s.path) for s in server.seen] == [("GET", "/health")]


def test_wrong_status_is_an_outage_with_what_was_seen(server: ScriptedServer) -> None:
    url = server.route("/health", status=500, body="oops")
    result = run(http_check(url))
    assert (result.status, result.reason) == (MAJOR, "status (500) == 200")
    assert result.at == FIXED
    assert result.latency_ms is not None


@pytest.mark.parametrize(
    ("expect", "status", "outcome"),
    [
        ({"status": "2xx"}, 204, (OPERATIONAL, "status 204")),
        ({"status": [200, 503]}, 503, (OPERATIONAL, "status 503")),
        ({"status": "200-204"}, 206, (MAJOR, "status (206) == 200-204")),
        ({"status": 404}, 200, (MAJOR, "status (200) == 404")),
    ],
)
def test_expected_status(
    server: ScriptedServer, expect: dict[str, Any], status: int, outcome: tuple[Any, str]
) -> None:
    url = server.route("/health", status=status)
    result = run(http_check(url, expect=expect))
    assert (result.status, result.reason) == outcome


@pytest.mark.parametrize(
    ("body", "expect", "reason"),
    [
        ("all fine", {"body_contains": "ok"}, 'body contains "ok"'),
        ("ok db", {"body_contains": ["ok", "cache"]}, 'body contains "cache"'),
        ("ok db cache", {"body_contains": ["ok", "cache"]}, None),
        ("ok, error: disk", {"body_not_contains": "error"}, 'body does not contain "error"'),
        ("ok", {"body_not_contains": ["error", "fail"]}, None),
        ("version 1.9", {"body_regex": r"version 2\.\d+"}, r"body matches /version 2\.\d+/"),
        ("version 2.10", {"body_regex": r"version 2\.\d+"}, None),
        (
            '{"status": "expired"}',
            {"json": {"$.status": "active"}},
            'json $.status ("expired") == "active"',
        ),
        ('{"status": "active"}', {"json": {"$.status": "active"}}, None),
        ("<html>oops</html>", {"json": {"$.status": "active"}}, "body is JSON (it did not parse)"),
        ('{"queue": 250}', {"json": {"$.queue": {"lt": 100}}}, "json $.queue (250) < 100"),
        (
            '{"a": 1}',
            {"json": {"$.a": 1, "$.b": {"exists": True}}},
            "json $.b (missing) exists true",
        ),
    ],
)
def test_body_assertions(
    server: ScriptedServer, body: str, expect: dict[str, Any], reason: str | None
) -> None:
    url = server.route("/health", body=body, content_type="application/json")
    result = run(http_check(url, expect=expect))
    if reason is None:
        assert (result.status, result.reason) == (OPERATIONAL, "status 200")
    else:
        assert (result.status, result.reason) == (MAJOR, reason)


def test_status_is_judged_before_the_body(server: ScriptedServer) -> None:
    url = server.route("/health", status=503, body="maintenance")
    result = run(http_check(url, expect={"body_contains": "ok", "json": {"$.ok": True}}))
    assert result.reason == "status (503) == 200"


def test_body_is_decoded_with_its_charset(server: ScriptedServer) -> None:
    url = server.route(
        "/health", body="état: prêt".encode("latin-1"), content_type="text/plain; charset=latin-1"
    )
    result = run(http_check(url, expect={"body_contains": "prêt"}))
    assert (result.status, result.reason) == (OPERATIONAL, "status 200")


def test_body_is_read_up_to_a_limit(server: ScriptedServer) -> None:
    body = b"a" * (http_module.MAX_BODY_BYTES + 10) + b"TAIL"
    url = server.route("/health", body=body)
    result = run(http_check(url, expect={"body_contains": "TAIL"}))
    assert (result.status, result.reason) == (MAJOR, 'body contains "TAIL"')
    head = run(http_check(url, expect={"body_contains": "aaaa"}))
    assert head.status is OPERATIONAL


def test_method_headers_and_json_body_are_sent(server: ScriptedServer) -> None:
    url = server.route("/rpc", body="ok")
    spec = http_check(url, method="post", headers={"X-Probe": "statuspage"}, json={"ping": 1})
    assert run(spec).status is OPERATIONAL
    [seen] = server.seen
    assert (seen.method, seen.body) == ("POST", b'{"ping":1}')
    assert seen.headers["x-probe"] == "statuspage"
    assert seen.headers["content-type"] == "application/json"


def test_head_request_has_no_body_to_read(server: ScriptedServer) -> None:
    url = server.route("/health", body="ignored")
    result = run(http_check(url, method="HEAD", expect={"status": 200}))
    assert (result.status, result.reason) == (OPERATIONAL, "status 200")
    assert server.seen[0].method == "HEAD"


# --- latency -------------------------------------------------------------------

LATENCY_REASON = re.compile(r"latency \((\d+)ms\) < (\d+ms|\d+s)")


def test_slow_answer_is_degraded_performance(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok", delay=0.15)
    result = run(http_check(url, latency={"degraded": "50ms", "outage": "5s"}))
    assert result.status is DEGRADED
    m = LATENCY_REASON.fullmatch(result.reason)
    assert m is not None, result.reason
    assert m.group(2) == "50ms"
    assert 150 <= int(m.group(1)) < 2000
    assert result.latency_ms is not None and result.latency_ms >= 150


def test_very_slow_answer_is_an_outage(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok", delay=0.15)
    result = run(http_check(url, latency={"degraded": "20ms", "outage": "100ms"}))
    assert result.status is MAJOR
    m = LATENCY_REASON.fullmatch(result.reason)
    assert m is not None and m.group(2) == "100ms", result.reason


def test_slow_side_feature_is_a_partial_outage_not_major(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok", delay=0.15)
    spec = http_check(url, latency={"outage": "100ms"}, failure_status="partial_outage")
    result = run(spec)
    assert result.status is PARTIAL
    assert LATENCY_REASON.fullmatch(result.reason), result.reason


def test_fast_answer_under_the_thresholds_is_operational(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok")
    result = run(http_check(url, latency={"degraded": "1s", "outage": "1500ms"}))
    assert (result.status, result.reason) == (OPERATIONAL, "status 200")


def test_failed_assertion_wins_over_latency(server: ScriptedServer) -> None:
    url = server.route("/health", status=500, delay=0.15)
    result = run(http_check(url, latency={"degraded": "10ms"}))
    assert (result.status, result.reason) == (MAJOR, "status (500) == 200")


# --- the service does not answer -------------------------------------------------


def test_connection_refused() -> None:
    result = run(http_check(closed_port_url()))
    assert (result.status, result.reason) == (MAJOR, "connection refused")
    assert result.at == FIXED
    assert result.latency_ms is None


def test_server_that_accepts_and_never_answers_times_out() -> None:
    with silent_listener() as url:
        start = time.monotonic()
        result = run(http_check(url, timeout="300ms"))
        elapsed = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 300ms")
    assert 0.25 < elapsed < 1.5
    assert result.latency_ms is not None and result.latency_ms >= 250


def test_answer_slower_than_the_timeout_times_out(server: ScriptedServer) -> None:
    url = server.route("/health", body="ok", delay=2)
    result = run(http_check(url, timeout="200ms"))
    assert (result.status, result.reason) == (MAJOR, "timed out after 200ms")


def test_body_dripping_slower_than_the_timeout_is_cut_by_the_total_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
    # A byte every 50 ms never trips a 400 ms read timeout; only the deadline ends it.
    with drip_server(head, drip=b"ok ", every=0.05) as dripper:
        start = time.monotonic()
        result = run(http_check(dripper.url, timeout="400ms"))
        elapsed = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 400ms")
    assert 0.35 < elapsed < 1.2
    assert dripper.bytes_dripped >= 3  # it was dripping, not silent


def test_headers_dripping_slower_than_the_timeout_are_cut_by_the_total_deadline() -> None:
    # Still in the status line and headers: no body loop to notice the time.
    with drip_server(b"HTTP/1.1 200 OK\r\n", drip=b"X-Slow: yes\r\n", every=0.05) as dripper:
        start = time.monotonic()
        result = run(http_check(dripper.url, timeout="400ms"))
        elapsed = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 400ms")
    assert 0.35 < elapsed < 1.2
    assert dripper.bytes_dripped >= 3


def test_connection_closed_without_an_answer() -> None:
    with drip_server(b"") as closer:
        result = run(http_check(closer.url))
    assert (result.status, result.reason) == (
        MAJOR,
        "connection closed without a valid response",
    )


def test_connection_closed_in_the_middle_of_the_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok"
    with drip_server(head) as closer:
        result = run(http_check(closer.url))
    assert (result.status, result.reason) == (MAJOR, "connection closed in the middle of the body")


def test_something_that_is_not_http() -> None:
    with drip_server(b"SSH-2.0-OpenSSH_9.2\r\n\r\n") as ssh:
        result = run(http_check(ssh.url))
    assert (result.status, result.reason) == (MAJOR, "not a valid HTTP response")


def test_unknown_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = run(http_check("http://status.example.invalid/health"))
    assert (result.status, result.reason) == (MAJOR, "host name not found")


# --- redirects -------------------------------------------------------------------


def test_redirect_is_not_followed_by_default(server: ScriptedServer) -> None:
    server.route("/login", body="ok")
    url = server.route("/health", status=302, headers={"Location": "/login"})
    result = run(http_check(url))
    assert (result.status, result.reason) == (MAJOR, "status (302) == 200")
    assert [s.path for s in server.seen] == ["/health"]


def test_redirect_is_followed_when_asked(server: ScriptedServer) -> None:
    server.route("/login", body="ok")
    url = server.route("/health", status=302, headers={"Location": "/login"})
    result = run(http_check(url, follow_redirects=True, expect={"body_contains": "ok"}))
    assert (result.status, result.reason) == (OPERATIONAL, "status 200")
    assert [s.path for s in server.seen] == ["/health", "/login"]


def test_redirect_loop(server: ScriptedServer) -> None:
    url = server.route("/loop", status=301, headers={"Location": "/loop"})
    result = run(http_check(url, follow_redirects=True))
    assert (result.status, result.reason) == (MAJOR, "too many redirects")


# --- failure_status ----------------------------------------------------------------


def test_failure_status_applies_to_every_kind_of_failure(server: ScriptedServer) -> None:
    side = {"failure_status": "partial_outage"}
    wrong = run(http_check(server.route("/a", status=500), **side))
    assert (wrong.status, wrong.reason) == (PARTIAL, "status (500) == 200")
    body = run(http_check(server.route("/b", body="no"), expect={"body_contains": "ok"}, **side))
    assert (body.status, body.reason) == (PARTIAL, 'body contains "ok"')
    refused = run(http_check(closed_port_url(), **side))
    assert (refused.status, refused.reason) == (PARTIAL, "connection refused")
    with silent_listener() as url:
        silent = run(http_check(url, timeout="200ms", failure_status="degraded_performance"))
    assert (silent.status, silent.reason) == (DEGRADED, "timed out after 200ms")
    healthy = run(http_check(server.route("/c", body="ok"), **side))
    assert healthy.status is OPERATIONAL


# --- cloud metadata addresses (HOOK-16) ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://169.254.169.254./latest/meta-data/", "169.254.169.254"),
        ("http://169.254.170.2/v2/credentials", "169.254.170.2"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254"),
        ("http://100.100.100.200/latest/meta-data/", "100.100.100.200"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal"),
        ("https://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/", "metadata.google.internal"),
        ("http://2852039166/latest/meta-data/", "2852039166"),
        ("http://0xa9fea9fe/", "0xa9fea9fe"),
    ],
)
def test_metadata_addresses_are_refused_in_the_config(url: str, host: str) -> None:
    with pytest.raises(ValidationError) as caught:
        http_check(url)
    [error] = caught.value.errors()
    assert error["loc"] == ("url",)
    assert (
        error["msg"]
        == f"Value error, {host} is a cloud metadata address; a check may not target it"
    )


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/health", "http://10.0.0.5/", "http://[::1]/", "http://db.internal/"],
)
def test_private_targets_are_allowed(url: str) -> None:
    assert http_check(url).url == url


def test_name_resolving_to_a_metadata_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, server: ScriptedServer
) -> None:
    real = socket.getaddrinfo

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "creds.example.test":
            return real("169.254.169.254", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    result = run(http_check("http://creds.example.test/latest/meta-data/", timeout="300ms"))
    assert (result.status, result.reason) == (
        MAJOR,
        "refused: 169.254.169.254 is a cloud metadata address",
    )


@pytest.fixture
def loopback_2_is_metadata(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """127.0.0.2 stands in for a metadata address, with a server on it that
    must never see a request."""
    monkeypatch.setattr(
        network, "METADATA_ADDRESSES", frozenset({ipaddress.ip_address("127.0.0.2")})
    )
    with scripted_server("127.0.0.2") as metadata:
        metadata.route("/latest/meta-data/", body="secret")
        yield metadata
    assert metadata.seen == []


def test_dns_rebinding_is_caught_on_the_connected_address(
    monkeypatch: pytest.MonkeyPatch, loopback_2_is_metadata: ScriptedServer
) -> None:
    # The first lookup says a harmless address, every later one the metadata one.
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "192.0.2.10" if len(lookups) == 1 else "127.0.0.2"
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.example.test:{loopback_2_is_metadata.port}/latest/meta-data/"
    result = run(http_check(url))
    assert (result.status, result.reason) == (
        MAJOR,
        "refused: 127.0.0.2 is a cloud metadata address",
    )
    assert len(lookups) == 2


def test_redirect_to_a_metadata_address_is_refused(
    server: ScriptedServer, loopback_2_is_metadata: ScriptedServer
) -> None:
    target = f"http://127.0.0.2:{loopback_2_is_metadata.port}/latest/meta-data/"
    url = server.route("/health", status=302, headers={"Location": target})
    result = run(http_check(url, follow_redirects=True))
    assert (result.status, result.reason) == (
        MAJOR,
        "refused: 127.0.0.2 is a cloud metadata address",
    )


@pytest.mark.parametrize(
    ("host", "is_metadata"),
    [
        ("169.254.169.254", True),
        ("[fd00:ec2::254]", True),
        ("fd00:ec2:0:0::254", True),
        ("169.254.43518", True),
        ("169.254.169.253", False),
        ("127.0.0.1", False),
        ("fe80::1%eth0", False),
        ("example.com", False),
    ],
)
def test_is_metadata_address(host: str, is_metadata: bool) -> None:
    assert is_metadata_address(host) is is_metadata


# --- the spec ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.com/"}, "must be an http:// or https:// URL with a host"),
        ({"url": "http:///path"}, "must be an http:// or https:// URL with a host"),
        ({"method": "FETCH"}, "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
        ({"body": "x", "json": {"a": 1}}, "give either body or json, not both"),
        ({"latency": {"degraded": "2s", "outage": "1s"}}, "outage must be longer than degraded"),
        (
            {"expect": {"status": "7xx"}},
            "'7xx' is not a status code, class (2xx) or range (200-299)",
        ),
        (
            {"expect": {"body_regex": "("}},
            "'(' is not a valid regular expression (missing ), unterminated subpattern at position 0)",
        ),
        ({"expect": {"bodycontains": "ok"}}, "Extra inputs are not permitted"),
    ],
)
def test_spec_mistakes_are_refused_when_the_config_loads(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        http_check("http://127.0.0.1/health", **fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]


def test_an_invalid_url_that_slipped_past_the_config_is_a_failed_run() -> None:
    spec = http_check("http://127.0.0.1/health").model_copy(update={"url": "http://[::1/"})
    result = run(spec)
    assert (result.status, result.reason) == (MAJOR, "invalid URL (Invalid port: ':1')")


def test_a_given_probe_client_keeps_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
    with drip_server(head, drip=b"x", every=0.05) as dripper, probe_client() as client:
        start = time.monotonic()
        result = run_http_check(http_check(dripper.url, timeout="300ms"), lambda: FIXED, client)
        assert time.monotonic() - start < 1.0
    assert result.reason == "timed out after 300ms"


def test_a_mock_transport_client_can_stand_in_for_the_network() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "expired"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        spec = http_check("http://api.internal/health", expect={"json": {"$.status": "active"}})
        result = run_http_check(spec, lambda: FIXED, client)
    assert (result.status, result.reason) == (MAJOR, 'json $.status ("expired") == "active"')
