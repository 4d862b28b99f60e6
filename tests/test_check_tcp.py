"""`type: tcp` against real sockets on loopback: connect, talk, judge, all
under one deadline; host names that are no host names never get that far."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from statuspage.checks import network
from statuspage.checks import tcp as tcp_module
from statuspage.checks.base import CheckResult
from statuspage.checks.tcp import TcpCheck, check_host_name, run_tcp_check
from statuspage.domain import ComponentStatus
from tests.loopback import TalkServer, closed_port_url, drip_server, silent_listener, talk_server

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE


def tcp_check(host: str, port: int = 6379, /, **fields: Any) -> TcpCheck:
    """A check as the config would hold it, its defaults already applied."""
    data: dict[str, Any] = {"type": "tcp", "name": "Redis", "host": host, "port": port}
    data |= {"timeout": "2s", "interval": "30s"} | fields
    return TcpCheck.model_validate(data)


def run(spec: TcpCheck) -> CheckResult:
    return run_tcp_check(spec, now=lambda: FIXED)


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def answers(reply: bytes, delay: float = 0.0, hang_up: bool = False) -> Callable[..., None]:
    """Read one request, wait `delay`, reply; then hold the line (as Redis
    does) until the client leaves, or hang up."""

    def talk(conn: socket.socket, server: TalkServer) -> None:
        server.received.append(conn.recv(65536))
        if delay:
            server.closing.wait(delay)
        conn.sendall(reply)
        if not hang_up:
            while conn.recv(65536) and not server.closing.is_set():
                pass

    return talk


def banner(text: bytes) -> Callable[..., None]:
    def talk(conn: socket.socket, server: TalkServer) -> None:
        conn.sendall(text)
        server.closing.wait(2)

    return talk


# --- the service answers ---------------------------------------------------------


def test_an_open_port_is_operational() -> None:
    with silent_listener() as url:
        result = run(tcp_check("127.0.0.1", port_of(url)))
    assert (result.status, result.reason) == (OPERATIONAL, "connected")
    assert result.at == FIXED
    assert result.latency_ms is not None and 0 < result.latency_ms < 2000


def test_the_expected_answer_is_operational() -> None:
    with talk_server(answers(b"+PONG\r\n")) as server:
        result = run(tcp_check("127.0.0.1", server.port, send="PING\r\n", expect="+PONG"))
    assert (result.status, result.reason) == (OPERATIONAL, "expected answer received")
    assert server.received == [b"PING\r\n"]


def test_a_banner_is_read_without_sending_anything() -> None:
    with talk_server(banner(b"SSH-2.0-OpenSSH_9.6\r\n")) as server:
        result = run(tcp_check("127.0.0.1", server.port, expect="SSH-2.0"))
    assert (result.status, result.reason) == (OPERATIONAL, "expected answer received")


def test_a_wrong_answer_on_a_line_held_open_is_judged_at_the_deadline() -> None:
    with talk_server(answers(b"-NOAUTH Authentication required.\r\n")) as server:
        start = time.monotonic()
        spec = tcp_check("127.0.0.1", server.port, send="PING\r\n", expect="+PONG", timeout="300ms")
        result = run(spec)
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, 'answer contains "+PONG"')
    assert 0.25 < took < 1.0


def test_a_wrong_answer_then_hang_up_is_judged_at_once() -> None:
    with talk_server(answers(b"-ERR unknown command\r\n", hang_up=True)) as server:
        start = time.monotonic()
        result = run(tcp_check("127.0.0.1", server.port, send="PING\r\n", expect="+PONG"))
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, 'answer contains "+PONG"')
    assert took < 1.0


def test_hanging_up_without_a_word_is_a_failure() -> None:
    def hang_up(conn: socket.socket, server: TalkServer) -> None:
        pass

    with talk_server(hang_up) as server:
        result = run(tcp_check("127.0.0.1", server.port, expect="220 "))
    assert (result.status, result.reason) == (MAJOR, "connection closed without an answer")


def test_text_split_across_reads_is_found() -> None:
    with drip_server(b"", drip=b"+PONG\r\n", every=0.01, limit=7) as dripper:
        spec = tcp_check("127.0.0.1", port_of(dripper.url), send="PING\r\n", expect="+PONG")
        result = run(spec)
    assert (result.status, result.reason) == (OPERATIONAL, "expected answer received")


def test_the_answer_is_read_up_to_a_limit() -> None:
    flood = b"x" * tcp_module.MAX_ANSWER_BYTES + b"+PONG\r\n"
    with talk_server(answers(flood)) as server:
        result = run(tcp_check("127.0.0.1", server.port, send="PING\r\n", expect="+PONG"))
    assert (result.status, result.reason) == (MAJOR, 'answer contains "+PONG"')


# --- the service does not answer --------------------------------------------------


def test_a_closed_port_is_refused() -> None:
    result = run(tcp_check("127.0.0.1", port_of(closed_port_url())))
    assert (result.status, result.reason) == (MAJOR, "connection refused")


def test_silence_after_connecting_is_a_timeout() -> None:
    with silent_listener() as url:
        start = time.monotonic()
        spec = tcp_check(
            "127.0.0.1", port_of(url), send="PING\r\n", expect="+PONG", timeout="200ms"
        )
        result = run(spec)
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 200ms")
    assert result.latency_ms is not None and result.latency_ms >= 200
    assert took < 1.0


def test_a_dripping_server_is_cut_by_the_one_deadline() -> None:
    with drip_server(b"", drip=b"-", every=0.05, limit=100) as dripper:
        start = time.monotonic()
        spec = tcp_check(
            "127.0.0.1", port_of(dripper.url), send="PING\r\n", expect="+PONG", timeout="300ms"
        )
        result = run(spec)
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, 'answer contains "+PONG"')
    assert took < 1.0


def test_an_unknown_host_name_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", not_found)
    result = run(tcp_check("redis.example.test", 6379))
    assert (result.status, result.reason) == (MAJOR, "host name not found")


def test_a_hung_name_lookup_is_cut_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def hung(*args: Any, **kwargs: Any) -> Any:
        released.wait(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    start = time.monotonic()
    result = run(tcp_check("redis.example.test", 6379, timeout="200ms"))
    took = time.monotonic() - start
    released.set()
    assert (result.status, result.reason) == (MAJOR, "timed out after 200ms")
    assert took < 1.0


def test_each_resolved_address_is_tried_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    refused_port = port_of(closed_port_url())
    real = socket.getaddrinfo
    with silent_listener() as url:
        port = port_of(url)

        def two_addresses(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host != "redis.example.test":
                return real(host, *args, **kwargs)
            first = real("127.0.0.1", refused_port, type=socket.SOCK_STREAM)
            return first + real("127.0.0.1", port, type=socket.SOCK_STREAM)

        monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
        result = run(tcp_check("redis.example.test", port))
    assert (result.status, result.reason) == (OPERATIONAL, "connected")


# --- latency and failure_status ---------------------------------------------------

LATENCY_REASON = re.compile(r"latency \((\d+)ms\) < (\d+ms|\d+s)")


def test_a_slow_answer_is_degraded_performance() -> None:
    with talk_server(answers(b"+PONG\r\n", delay=0.15)) as server:
        spec = tcp_check(
            "127.0.0.1",
            server.port,
            send="PING\r\n",
            expect="+PONG",
            latency={"degraded": "50ms", "outage": "5s"},
        )
        result = run(spec)
    assert result.status is DEGRADED
    m = LATENCY_REASON.fullmatch(result.reason)
    assert m is not None and m.group(2) == "50ms", result.reason
    assert 150 <= int(m.group(1)) < 2000


def test_a_very_slow_answer_takes_the_failure_status() -> None:
    with talk_server(answers(b"+PONG\r\n", delay=0.15)) as server:
        spec = tcp_check(
            "127.0.0.1",
            server.port,
            send="PING\r\n",
            expect="+PONG",
            latency={"outage": "100ms"},
            failure_status="partial_outage",
        )
        result = run(spec)
    assert result.status is PARTIAL
    m = LATENCY_REASON.fullmatch(result.reason)
    assert m is not None and m.group(2) == "100ms", result.reason


def test_failure_status_applies_to_a_refused_connection() -> None:
    spec = tcp_check("127.0.0.1", port_of(closed_port_url()), failure_status="partial_outage")
    result = run(spec)
    assert (result.status, result.reason) == (PARTIAL, "connection refused")


# --- host names never reach a shell (SEC-08) ----------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "x;id",
        "$(id)",
        "`id`",
        "a b",
        "-oProxyCommand=id",
        "db|nc",
        "db&&id",
        "db\nid",
        "db'",
        "",
        "a..b",
        ".db",
        "db-.internal",
        "[db.internal]",
        "x" * 64 + ".internal",
        ".".join(["a" * 60] * 5),
        "dé.internal",
    ],
)
def test_hosts_that_are_not_host_names_are_refused_in_the_config(host: str) -> None:
    with pytest.raises(ValidationError) as caught:
        tcp_check(host, 6379)
    [error] = caught.value.errors()
    assert error["loc"] == ("host",)
    assert error["msg"] == f"Value error, {host!r} is not a valid host name or IP address"


@pytest.mark.parametrize(
    ("host", "kept"),
    [
        ("localhost", "localhost"),
        ("redis.internal.", "redis.internal."),
        ("cache-1.eu-west.example.com", "cache-1.eu-west.example.com"),
        ("_redis._tcp.example.com", "_redis._tcp.example.com"),
        ("10.0.0.5", "10.0.0.5"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_host_names_and_ip_literals_are_accepted(host: str, kept: str) -> None:
    assert tcp_check(host, 6379).host == kept
    assert check_host_name(host) == kept


def test_a_check_runs_no_program(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a check ran a program")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(os, "popen", forbidden)
    with silent_listener() as url:
        assert run(tcp_check("localhost", port_of(url))).reason == "connected"


# --- cloud metadata addresses (HOOK-16) ----------------------------------------------


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("169.254.169.254.", "169.254.169.254"),
        ("[fd00:ec2::254]", "fd00:ec2::254"),
        ("100.100.100.200", "100.100.100.200"),
        ("METADATA.google.internal", "metadata.google.internal"),
        ("2852039166", "2852039166"),
        ("0xa9fea9fe", "0xa9fea9fe"),
    ],
)
def test_metadata_addresses_are_refused_in_the_config(host: str, shown: str) -> None:
    with pytest.raises(ValidationError) as caught:
        tcp_check(host, 80)
    [error] = caught.value.errors()
    assert error["msg"] == (
        f"Value error, {shown} is a cloud metadata address; a check may not target it"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "192.168.1.10", "db.internal"])
def test_private_targets_are_allowed(host: str) -> None:
    assert tcp_check(host, 5432).host == host


def test_a_name_resolving_to_a_metadata_address_is_never_connected_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 127.0.0.2 stands in for a metadata address, with a listener on it.
    monkeypatch.setattr(
        network, "METADATA_ADDRESSES", frozenset({ipaddress.ip_address("127.0.0.2")})
    )
    metadata = socket.socket()
    metadata.bind(("127.0.0.2", 0))
    metadata.listen(4)
    metadata.setblocking(False)
    port = metadata.getsockname()[1]
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.2" if host == "creds.example.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        result = run(tcp_check("creds.example.test", port))
        with pytest.raises(BlockingIOError):
            metadata.accept()
    finally:
        metadata.close()
    assert (result.status, result.reason) == (
        MAJOR,
        "refused: 127.0.0.2 is a cloud metadata address",
    )


# --- the spec ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"port": 0}, "Input should be greater than or equal to 1"),
        ({"port": 65536}, "Input should be less than or equal to 65535"),
        ({"expect": ""}, "String should have at least 1 character"),
        ({"send": ""}, "String should have at least 1 character"),
        ({"latency": {"degraded": "2s", "outage": "1s"}}, "outage must be longer than degraded"),
        ({"expext": "+PONG"}, "Extra inputs are not permitted"),
    ],
)
def test_spec_mistakes_are_refused_when_the_config_loads(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        tcp_check("127.0.0.1", **fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]


def test_defaults_come_from_the_config() -> None:
    from statuspage.config import Defaults, apply_defaults

    spec = TcpCheck.model_validate({"type": "tcp", "name": "db", "host": "db", "port": 5432})
    apply_defaults(spec, Defaults())
    assert spec.effective_timeout().total_seconds() == 10
    assert (spec.send, spec.expect, spec.latency, spec.failure_status) == (
        None,
        None,
        None,
        "major_outage",
    )
