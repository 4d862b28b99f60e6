"""`type: dns`: a name resolves, and to what it should.

With `nameserver`, the question goes to that server (UDP, then TCP when
the answer is truncated) and the answer's code is reported as DNS says it
(`NXDOMAIN`, `SERVFAIL`). Without it, A and AAAA ask the operating system's
resolver, as every program on this host does (/etc/hosts, then DNS); the
other records ask the name servers of /etc/resolv.conf.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Sequence
from typing import Any, Literal

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
from pydantic import Field, field_validator, model_validator

from statuspage.checks.base import CheckResult, CheckSpec, describe_seconds
from statuspage.checks.network import is_metadata_address
from statuspage.checks.tcp import check_host_name, first_line, remaining, resolve_within
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus

RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT"]
# A reason names at most this many values of the answer.
SHOWN_VALUES = 10


class DnsFailure(Exception):
    """The lookup got an answer that is a failure (`NXDOMAIN`, `SERVFAIL`)."""


def split_nameserver(text: str) -> tuple[str, int]:
    """`1.2.3.4`, `1.2.3.4:5353`, `::1` or `[::1]:5353` as (address, port)."""
    address, port = text, "53"
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text!r} is not an IP address with an optional :port")
            port = rest[1:]
    elif text.count(":") == 1:
        address, port = text.split(":")
    try:
        ip = ipaddress.ip_address(address)
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address with an optional :port") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"{text!r}: port must be between 1 and 65535")
    return str(ip), number


class DnsCheck(CheckSpec):
    """A DNS name that resolves, optionally to the values given."""

    type: Literal["dns"]
    # The name looked up (`name` is the check's display name).
    host: str
    record: RecordType = "A"
    # Values that must all be in the answer. MX: `mail.example.com` or
    # `10 mail.example.com`; TXT: the whole text.
    expect: list[str] = Field(default_factory=list)
    nameserver: str | None = None

    @field_validator("host")
    @classmethod
    def _name(cls, host: str) -> str:
        checked = check_host_name(host)
        try:
            ipaddress.ip_address(checked)
        except ValueError:
            return checked
        raise ValueError(f"{host!r} is an IP address; a dns check looks up a host name")

    @field_validator("record", mode="before")
    @classmethod
    def _upper(cls, record: Any) -> Any:
        return record.upper() if isinstance(record, str) else record

    @field_validator("expect", mode="before")
    @classmethod
    def _one_or_more(cls, expect: Any) -> Any:
        return [expect] if isinstance(expect, str) else expect

    @field_validator("nameserver")
    @classmethod
    def _nameserver(cls, nameserver: str | None) -> str | None:
        if nameserver is None:
            return None
        address, _ = split_nameserver(nameserver)
        if is_metadata_address(address):
            raise ValueError(f"{address} is a cloud metadata address; a check may not target it")
        return nameserver

    @model_validator(mode="after")
    def _expected_values(self) -> DnsCheck:
        self.expect = [_expected_value(self.record, value) for value in self.expect]
        return self


def _expected_value(record: str, value: str) -> str:
    """An expected value in the form answers are given, or ValueError."""
    text = value.strip()
    if not text:
        raise ValueError("an expected value may not be empty")
    if record in ("A", "AAAA"):
        version = 4 if record == "A" else 6
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            address = None
        if address is None or address.version != version:
            raise ValueError(f"{value!r} is not an IPv{version} address (record {record})")
        return str(address)
    if record == "TXT":
        return value
    return text.lower().rstrip(".") if record == "CNAME" else _mx_value(text)


def _mx_value(text: str) -> str:
    preference, _, exchange = text.rpartition(" ")
    if preference and not preference.strip().isdigit():
        raise ValueError(f"{text!r} is not `host` or `preference host` (record MX)")
    exchange = exchange.lower().rstrip(".")
    return f"{int(preference)} {exchange}" if preference else exchange


def run_dns_check(spec: DnsCheck, now: Clock) -> CheckResult:
    """Look the name up under one deadline and judge the answer. Never raises."""
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    failed = ComponentStatus(spec.failure_status)
    start = time.monotonic()
    try:
        answer = _look_up(spec, start + timeout)
    except (TimeoutError, dns.exception.Timeout):
        latency_ms = (time.monotonic() - start) * 1000
        return CheckResult(
            started_at, failed, f"timed out after {describe_seconds(timeout)}", latency_ms
        )
    except DnsFailure as exc:
        latency_ms = (time.monotonic() - start) * 1000
        return CheckResult(started_at, failed, str(exc), latency_ms)
    except dns.resolver.NoResolverConfiguration:
        return CheckResult(started_at, failed, "no name server configured (/etc/resolv.conf)")
    except OSError as exc:
        return CheckResult(started_at, failed, f"name server: {exc.strerror or exc}")
    except Exception as exc:  # a check never raises
        return CheckResult(started_at, failed, f"{type(exc).__name__}: {first_line(str(exc))}")
    latency_ms = (time.monotonic() - start) * 1000
    if not answer:
        return CheckResult(started_at, failed, "no answer", latency_ms)
    shown = _show(spec.record, answer)
    missing = [value for value in spec.expect if not _answers(spec.record, value, answer)]
    if missing:
        reason = f"answer {shown} lacks {', '.join(_quote(spec.record, v) for v in missing)}"
        return CheckResult(started_at, failed, reason, latency_ms)
    return CheckResult(started_at, ComponentStatus.OPERATIONAL, f"answer {shown}", latency_ms)


def _look_up(spec: DnsCheck, ends_at: float) -> list[str]:
    if spec.nameserver is not None:
        return _ask([split_nameserver(spec.nameserver)], spec.host, spec.record, ends_at)
    if spec.record in ("A", "AAAA"):
        return _ask_the_system(spec.host, spec.record, ends_at)
    system = dns.resolver.Resolver()
    servers = [(str(server), system.port) for server in system.nameservers]
    return _ask(servers, spec.host, spec.record, ends_at)


def _ask_the_system(host: str, record: str, ends_at: float) -> list[str]:
    family = socket.AF_INET if record == "A" else socket.AF_INET6
    try:
        found = resolve_within(host, None, ends_at, family)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            # The OS does not tell a name that does not exist from one
            # without this record.
            raise DnsFailure(f"not found (NXDOMAIN or no {record} record)") from None
        raise DnsFailure(f"lookup failed: {exc.strerror or exc}") from None
    addresses = (
        str(ipaddress.ip_address(str(sockaddr[0]).split("%")[0])) for *_, sockaddr in found
    )
    return list(dict.fromkeys(addresses))


def _ask(servers: Sequence[tuple[str, int]], host: str, record: str, ends_at: float) -> list[str]:
    """Ask each server in turn until one answers NOERROR or NXDOMAIN; a
    SERVFAIL or REFUSED is reported only if no server does better."""
    query = dns.message.make_query(host, record)
    last: Exception = dns.resolver.NoResolverConfiguration("no name servers")
    for address, port in servers:
        try:
            response = _exchange(query, address, port, ends_at)
        except (OSError, dns.exception.FormError) as exc:
            if isinstance(exc, TimeoutError):
                raise
            last = exc
            continue
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            raise DnsFailure("NXDOMAIN")
        if rcode != dns.rcode.NOERROR:
            last = DnsFailure(dns.rcode.to_text(rcode))
            continue
        assert isinstance(response, dns.message.QueryMessage)
        rrset = response.resolve_chaining().answer
        return [] if rrset is None else [_value(record, rdata) for rdata in rrset]
    raise last


def _exchange(query: dns.message.Message, address: str, port: int, ends_at: float) -> Any:
    """UDP, and TCP when the answer did not fit: both within the deadline."""
    try:
        return dns.query.udp(
            query, address, timeout=remaining(ends_at), port=port, raise_on_truncation=True
        )
    except dns.message.Truncated:
        return dns.query.tcp(query, address, timeout=remaining(ends_at), port=port)


def _value(record: str, rdata: Any) -> str:
    if record in ("A", "AAAA"):
        return str(ipaddress.ip_address(rdata.address))
    if record == "CNAME":
        return str(rdata.target.to_text(omit_final_dot=True)).lower()
    if record == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True).lower()}"
    return b"".join(rdata.strings).decode("utf-8", "replace")


def _answers(record: str, expected: str, answer: list[str]) -> bool:
    if record == "MX" and " " not in expected:
        return any(value.split(" ", 1)[1] == expected for value in answer)
    return expected in answer


def _show(record: str, answer: list[str]) -> str:
    """`[1.2.3.4, 5.6.7.8]`, in a stable order so that reasons compare."""
    if record in ("A", "AAAA"):
        ordered = sorted(answer, key=ipaddress.ip_address)
    elif record == "MX":
        ordered = sorted(answer, key=lambda v: (int(v.split(" ", 1)[0]), v))
    else:
        ordered = sorted(answer)
    shown = [_quote(record, value) for value in ordered[:SHOWN_VALUES]]
    if len(ordered) > SHOWN_VALUES:
        shown.append(f"... {len(ordered) - SHOWN_VALUES} more")
    return f"[{', '.join(shown)}]"


def _quote(record: str, value: str) -> str:
    return json.dumps(value) if record == "TXT" else value
