"""`type: dns` against a real authoritative server on loopback (dnslib, UDP
and TCP on one port, zone data set per test), and the system resolver."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import dns.resolver
import pytest
from dnslib import QTYPE, RCODE, RR, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer
from pydantic import ValidationError

from statuspage.checks import dns as dns_module
from statuspage.checks.base import CheckResult
from statuspage.checks.dns import DnsCheck, run_dns_check, split_nameserver
from statuspage.domain import ComponentStatus

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)

OPERATIONAL = ComponentStatus.OPERATIONAL
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE

ZONE = """
www.example.test.     60 IN CNAME web.example.test.
web.example.test.     60 IN A     1.2.3.4
web.example.test.     60 IN A     1.2.3.5
v6.example.test.      60 IN AAAA  2001:db8::1
example.test.         60 IN MX    10 mail.example.test.
example.test.         60 IN MX    20 backup.example.test.
example.test.         60 IN TXT   "v=spf1 include:_spf.example.test -all"
_dmarc.example.test.  60 IN TXT   "v=DMARC1; p=reject"
"""


def _name(label: DNSLabel) -> str:
    return str(label).rstrip(".").lower()


class Zone(BaseResolver):
    """Answers from its records, following CNAMEs as a resolver would; a
    name in `rcodes` gets that code instead. Records what was asked, how."""

    def __init__(self) -> None:
        self.records: list[RR] = []
        self.rcodes: dict[str, int] = {}
        self.asked: list[tuple[str, str, str]] = []

    def load(self, text: str) -> None:
        self.records = RR.fromZone(text)

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        name, qtype = _name(request.q.qname), request.q.qtype
        self.asked.append((name, QTYPE[qtype], handler.protocol))
        if name in self.rcodes:
            reply.header.rcode = self.rcodes[name]
            return reply
        if not any(_name(rr.rname) == name for rr in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for _ in range(8):
            here = [rr for rr in self.records if _name(rr.rname) == name]
            found = [rr for rr in here if rr.rtype == qtype]
            aliases = [rr for rr in here if rr.rtype == QTYPE.CNAME]
            if found or not aliases:
                reply.add_answer(*found)
                break
            reply.add_answer(*aliases)
            name = _name(aliases[0].rdata.label)
        return reply


class Handler(DNSHandler):
    udplen = 512  # a longer answer goes out truncated over UDP, as DNS says


@contextmanager
def dns_server(zone_text: str = ZONE) -> Iterator[tuple[Zone, str]]:
    """The zone and its `nameserver` (127.0.0.1:PORT), UDP and TCP."""
    zone = Zone()
    zone.load(zone_text)
    quiet = DNSLogger(logf=lambda *args: None)
    for _ in range(20):
        udp = DNSServer(zone, address="127.0.0.1", port=0, logger=quiet, handler=Handler)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(
                zone, address="127.0.0.1", port=port, tcp=True, logger=quiet, handler=Handler
            )
            break
        except OSError:  # the TCP port was taken: try another pair
            udp.server.server_close()
    else:
        pytest.fail("no free UDP+TCP port pair")
    # A short poll, so that stopping (which waits for the loop) is quick.
    for server in (udp, tcp):
        threading.Thread(
            target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        for server in (udp, tcp):
            server.stop()
            server.server.server_close()


@pytest.fixture
def server() -> Iterator[tuple[Zone, str]]:
    with dns_server() as running:
        yield running


def dns_check(host: str, /, **fields: Any) -> DnsCheck:
    """A check as the config would hold it, its defaults already applied."""
    data: dict[str, Any] = {"type": "dns", "name": "DNS", "host": host}
    data |= {"timeout": "2s", "interval": "30s"} | fields
    return DnsCheck.model_validate(data)


def run(spec: DnsCheck) -> CheckResult:
    return run_dns_check(spec, now=lambda: FIXED)


# --- answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "record", "answer"),
    [
        ("web.example.test", "A", "[1.2.3.4, 1.2.3.5]"),
        ("www.example.test", "A", "[1.2.3.4, 1.2.3.5]"),
        ("www.example.test", "CNAME", "[web.example.test]"),
        ("v6.example.test", "AAAA", "[2001:db8::1]"),
        ("example.test", "MX", "[10 mail.example.test, 20 backup.example.test]"),
        ("example.test", "TXT", '["v=spf1 include:_spf.example.test -all"]'),
        ("_dmarc.example.test", "txt", '["v=DMARC1; p=reject"]'),
    ],
)
def test_each_record_type_is_answered(
    server: tuple[Zone, str], host: str, record: str, answer: str
) -> None:
    zone, nameserver = server
    result = run(dns_check(host, record=record, nameserver=nameserver))
    assert (result.status, result.reason) == (OPERATIONAL, f"answer {answer}")
    assert result.at == FIXED
    assert result.latency_ms is not None and 0 < result.latency_ms < 2000
    assert zone.asked == [(host.lower(), record.upper(), "udp")]


@pytest.mark.parametrize(
    ("host", "record", "expect"),
    [
        ("web.example.test", "A", ["1.2.3.5"]),
        ("web.example.test", "A", ["1.2.3.4", "1.2.3.5"]),
        ("v6.example.test", "AAAA", ["2001:DB8:0::1"]),
        ("www.example.test", "CNAME", ["Web.Example.Test."]),
        ("example.test", "MX", ["mail.example.test", "20 backup.example.test"]),
        ("example.test", "TXT", "v=spf1 include:_spf.example.test -all"),
    ],
)
def test_expected_values_in_the_answer_are_operational(
    server: tuple[Zone, str], host: str, record: str, expect: Any
) -> None:
    _, nameserver = server
    result = run(dns_check(host, record=record, expect=expect, nameserver=nameserver))
    assert result.status is OPERATIONAL, result.reason


@pytest.mark.parametrize(
    ("zone_text", "host", "record", "expect", "reason"),
    [
        (
            "api.example.test. 60 IN A 1.2.3.4",
            "api.example.test",
            "A",
            ["5.6.7.8"],
            "answer [1.2.3.4] lacks 5.6.7.8",
        ),
        (
            ZONE,
            "web.example.test",
            "A",
            ["1.2.3.4", "9.9.9.9", "8.8.8.8"],
            "answer [1.2.3.4, 1.2.3.5] lacks 9.9.9.9, 8.8.8.8",
        ),
        (
            ZONE,
            "example.test",
            "MX",
            ["10 backup.example.test"],
            "answer [10 mail.example.test, 20 backup.example.test] lacks 10 backup.example.test",
        ),
        (
            ZONE,
            "example.test",
            "TXT",
            ["site-verification=abc"],
            'answer ["v=spf1 include:_spf.example.test -all"] lacks "site-verification=abc"',
        ),
    ],
)
def test_missing_values_are_named(
    zone_text: str, host: str, record: str, expect: list[str], reason: str
) -> None:
    with dns_server(zone_text) as (_, nameserver):
        result = run(dns_check(host, record=record, expect=expect, nameserver=nameserver))
    assert (result.status, result.reason) == (MAJOR, reason)


def test_a_long_answer_comes_over_tcp_after_a_truncated_udp_one() -> None:
    texts = "\n".join(f'big.example.test. 60 IN TXT "token-{i:02d}-{"x" * 40}"' for i in range(30))
    with dns_server(texts) as (zone, nameserver):
        spec = dns_check("big.example.test", record="TXT", nameserver=nameserver)
        spec.expect = [f"token-29-{'x' * 40}"]
        result = run(spec)
    assert result.status is OPERATIONAL, result.reason
    assert result.reason.endswith(", ... 20 more]")
    assert [how for *_, how in zone.asked] == ["udp", "tcp"]


# --- failures ----------------------------------------------------------------------


def test_a_name_that_does_not_exist_is_nxdomain(server: tuple[Zone, str]) -> None:
    _, nameserver = server
    result = run(dns_check("gone.example.test", nameserver=nameserver))
    assert (result.status, result.reason) == (MAJOR, "NXDOMAIN")


def test_a_name_without_the_record_is_no_answer(server: tuple[Zone, str]) -> None:
    _, nameserver = server
    result = run(dns_check("web.example.test", record="AAAA", nameserver=nameserver))
    assert (result.status, result.reason) == (MAJOR, "no answer")


@pytest.mark.parametrize(
    ("rcode", "reason"), [(RCODE.SERVFAIL, "SERVFAIL"), (RCODE.REFUSED, "REFUSED")]
)
def test_a_failing_server_says_how(server: tuple[Zone, str], rcode: int, reason: str) -> None:
    zone, nameserver = server
    zone.rcodes["web.example.test"] = rcode
    result = run(dns_check("web.example.test", nameserver=nameserver))
    assert (result.status, result.reason) == (MAJOR, reason)


def test_a_server_that_never_answers_times_out() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        nameserver = f"127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        result = run(dns_check("web.example.test", nameserver=nameserver, timeout="300ms"))
        took = time.monotonic() - start
    finally:
        silent.close()
    assert (result.status, result.reason) == (MAJOR, "timed out after 300ms")
    assert took < 1.0


def test_failure_status_applies(server: tuple[Zone, str]) -> None:
    _, nameserver = server
    spec = dns_check("gone.example.test", nameserver=nameserver, failure_status="partial_outage")
    result = run(spec)
    assert (result.status, result.reason) == (PARTIAL, "NXDOMAIN")


# --- the system resolver -----------------------------------------------------------


def test_the_system_resolver_knows_localhost() -> None:
    result = run(dns_check("localhost", expect=["127.0.0.1"]))
    assert result.status is OPERATIONAL, result.reason
    assert result.reason.startswith("answer [127.0.0.1")


def test_a_name_the_system_does_not_know(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", not_found)
    result = run(dns_check("gone.example.test", record="AAAA"))
    assert (result.status, result.reason) == (MAJOR, "not found (NXDOMAIN or no AAAA record)")


def test_a_hung_system_resolver_is_cut_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def hung(*args: Any, **kwargs: Any) -> Any:
        released.wait(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hung)
    start = time.monotonic()
    result = run(dns_check("web.example.test", timeout="200ms"))
    took = time.monotonic() - start
    released.set()
    assert (result.status, result.reason) == (MAJOR, "timed out after 200ms")
    assert took < 1.0


def test_other_records_ask_the_name_servers_of_resolv_conf(
    monkeypatch: pytest.MonkeyPatch, server: tuple[Zone, str]
) -> None:
    zone, nameserver = server
    address, port = split_nameserver(nameserver)

    class Configured:
        def __init__(self) -> None:
            self.nameservers, self.port = [address], port

    monkeypatch.setattr(dns_module.dns.resolver, "Resolver", Configured)
    result = run(dns_check("example.test", record="MX", expect="mail.example.test"))
    assert result.status is OPERATIONAL, result.reason
    assert zone.asked == [("example.test", "MX", "udp")]


def test_no_name_server_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    def unconfigured() -> Any:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns_module.dns.resolver, "Resolver", unconfigured)
    result = run(dns_check("example.test", record="TXT"))
    assert (result.status, result.reason) == (
        MAJOR,
        "no name server configured (/etc/resolv.conf)",
    )


# --- the spec ----------------------------------------------------------------------


def test_defaults() -> None:
    spec = DnsCheck.model_validate({"type": "dns", "name": "DNS", "host": "example.com"})
    assert (spec.record, spec.expect, spec.nameserver) == ("A", [], None)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("9.9.9.9", ("9.9.9.9", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
        ("[::1]", ("::1", 53)),
    ],
)
def test_nameserver_forms(text: str, parsed: tuple[str, int]) -> None:
    assert split_nameserver(text) == parsed
    assert dns_check("example.com", nameserver=text).nameserver == text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "x;id"}, "'x;id' is not a valid host name or IP address"),
        ({"host": "$(id)"}, "'$(id)' is not a valid host name or IP address"),
        ({"host": "`id`"}, "'`id`' is not a valid host name or IP address"),
        ({"host": "1.2.3.4"}, "'1.2.3.4' is an IP address; a dns check looks up a host name"),
        ({"record": "SRV"}, "Input should be 'A', 'AAAA', 'CNAME', 'MX' or 'TXT'"),
        ({"expect": ["nope"]}, "'nope' is not an IPv4 address (record A)"),
        (
            {"record": "AAAA", "expect": ["1.2.3.4"]},
            "'1.2.3.4' is not an IPv6 address (record AAAA)",
        ),
        (
            {"record": "MX", "expect": ["ten mail.example.com"]},
            "'ten mail.example.com' is not `host` or `preference host` (record MX)",
        ),
        ({"expect": [" "]}, "an expected value may not be empty"),
        (
            {"nameserver": "ns1.example.com"},
            "'ns1.example.com' is not an IP address with an optional :port",
        ),
        ({"nameserver": "1.2.3.4:x"}, "'1.2.3.4:x' is not an IP address with an optional :port"),
        ({"nameserver": "[::1]53"}, "'[::1]53' is not an IP address with an optional :port"),
        ({"nameserver": "1.2.3.4:0"}, "'1.2.3.4:0': port must be between 1 and 65535"),
        (
            {"nameserver": "169.254.169.254"},
            "169.254.169.254 is a cloud metadata address; a check may not target it",
        ),
        ({"query": "example.com"}, "Extra inputs are not permitted"),
    ],
)
def test_spec_mistakes_are_refused_when_the_config_loads(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        dns_check(fields.pop("host", "example.com"), **fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]
