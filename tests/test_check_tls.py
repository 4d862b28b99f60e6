"""`type: tls` against real TLS servers on loopback, with certificates made
for each test by trustme: a chain that verifies or not, and the days left."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from cryptography import x509
from pydantic import ValidationError

from statuspage.checks.base import CheckResult
from statuspage.checks.tls import TlsCheck, judge_expiry, run_tls_check
from statuspage.domain import ComponentStatus
from tests.loopback import TalkServer, closed_port_url, drip_server, silent_listener, talk_server

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE

NAME = "status.example.test"


def tls_check(port: int, /, **fields: Any) -> TlsCheck:
    """A check as the config would hold it, its defaults already applied."""
    data: dict[str, Any] = {"type": "tls", "name": "API certificate", "host": "127.0.0.1"}
    data |= {"port": port, "server_name": NAME, "timeout": "2s", "interval": "30s"} | fields
    return TlsCheck.model_validate(data)


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def now() -> datetime:
    """The real time: OpenSSL judges the dates by it too."""
    return datetime.now(UTC)


@contextmanager
def tls_server(certificate: trustme.LeafCert) -> Iterator[TalkServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    with talk_server(handshake(context), timeout=2) as server:
        yield server


def handshake(context: ssl.SSLContext) -> Callable[[socket.socket, TalkServer], None]:
    """The server side of a TLS handshake, then wait for the client to close.
    An OSError (the client refused the certificate) ends it quietly."""

    def talk(conn: socket.socket, server: TalkServer) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return talk


def issue(ca: trustme.CA, now: datetime, not_after: timedelta, **kwargs: Any) -> trustme.LeafCert:
    return ca.issue_cert(
        kwargs.pop("name", NAME),
        not_before=now - timedelta(days=60),
        not_after=now + not_after,
        **kwargs,
    )


def run(spec: TlsCheck, now: datetime) -> CheckResult:
    return run_tls_check(spec, lambda: now)


def day(at: datetime) -> str:
    return at.date().isoformat()


# --- a certificate that verifies ------------------------------------------------------


def test_a_valid_certificate_from_a_private_ca_is_operational(
    ca: trustme.CA, ca_file: str, now: datetime
) -> None:
    with tls_server(issue(ca, now, timedelta(days=90, hours=1))) as server:
        result = run(tls_check(server.port, ca_file=ca_file), now)
    expires = now + timedelta(days=90, hours=1)
    assert (result.status, result.reason) == (
        OPERATIONAL,
        f"certificate expires in 90 days ({day(expires)})",
    )
    assert result.at == now
    assert result.value is not None and 90.0 <= result.value <= 90.05
    assert result.latency_ms is not None and 0 < result.latency_ms < 2000


@pytest.mark.parametrize(
    ("left", "status", "days"),
    [
        (timedelta(days=20, hours=1), OPERATIONAL, "20 days"),
        (timedelta(days=5, hours=1), DEGRADED, "5 days"),
        (timedelta(days=2, hours=1), MAJOR, "2 days"),
        (timedelta(hours=5), MAJOR, "less than a day"),
    ],
)
def test_days_left_give_the_status(
    ca: trustme.CA, ca_file: str, now: datetime, left: timedelta, status: Any, days: str
) -> None:
    with tls_server(issue(ca, now, left)) as server:
        result = run(tls_check(server.port, ca_file=ca_file), now)
    assert (result.status, result.reason) == (
        status,
        f"certificate expires in {days} ({day(now + left)})",
    )


def test_the_windows_and_the_failure_status_are_the_checks_own(
    ca: trustme.CA, ca_file: str, now: datetime
) -> None:
    left = timedelta(days=20, hours=1)
    with tls_server(issue(ca, now, left)) as server:
        spec = tls_check(
            server.port,
            ca_file=ca_file,
            degraded_days=60,
            outage_days=30,
            failure_status="partial_outage",
        )
        result = run(spec, now)
    assert (result.status, result.reason) == (
        PARTIAL,
        f"certificate expires in 20 days ({day(now + left)})",
    )


def test_an_expired_certificate_says_when_it_expired(
    ca: trustme.CA, ca_file: str, now: datetime
) -> None:
    left = -timedelta(days=2, hours=1)
    with tls_server(issue(ca, now, left)) as server:
        result = run(tls_check(server.port, ca_file=ca_file), now)
        unverified = run(tls_check(server.port, verify=False), now)
    expected = (MAJOR, f"certificate expired 2 days ago ({day(now + left)})")
    assert (result.status, result.reason) == expected
    assert result.value is not None and -2.1 < result.value < -2.0
    assert (unverified.status, unverified.reason) == expected


# --- a certificate that does not verify -----------------------------------------------


def test_a_certificate_for_another_name_is_a_hostname_mismatch(
    ca: trustme.CA, ca_file: str, now: datetime
) -> None:
    with tls_server(issue(ca, now, timedelta(days=90))) as server:
        result = run(tls_check(server.port, ca_file=ca_file, server_name="api.example.test"), now)
        by_address = run(tls_check(server.port, ca_file=ca_file, server_name=None), now)
    assert (result.status, result.reason) == (
        MAJOR,
        "certificate verify failed: hostname mismatch",
    )
    assert (by_address.status, by_address.reason) == (
        MAJOR,
        "certificate verify failed: IP address mismatch",
    )


def test_a_certificate_from_an_unknown_ca_fails(ca: trustme.CA, now: datetime) -> None:
    with tls_server(issue(ca, now, timedelta(days=90))) as server:
        result = run(tls_check(server.port), now)
    assert (result.status, result.reason) == (
        MAJOR,
        "certificate verify failed: unable to get local issuer certificate",
    )


def test_a_self_signed_certificate_fails(now: datetime) -> None:
    alone = trustme.CA()  # its own certificate is self-signed; the server shows that one
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with alone.cert_pem.tempfile() as cert, alone.private_key_pem.tempfile() as key:
        context.load_cert_chain(cert, key)
    server = TalkServer(handshake(context), timeout=2)
    try:
        result = run(tls_check(server.port), now)
        unverified = run(tls_check(server.port, verify=False), now)
    finally:
        server.close()
    assert (result.status, result.reason) == (
        MAJOR,
        "certificate verify failed: self-signed certificate",
    )
    # Without verification only the dates count (trustme's CA lasts for years).
    assert unverified.status is OPERATIONAL
    assert unverified.reason.startswith("certificate expires in ")


def test_verify_false_still_reads_the_expiry(ca: trustme.CA, now: datetime) -> None:
    left = timedelta(days=5, hours=1)
    with tls_server(issue(ca, now, left, name="other.example.test")) as server:
        result = run(tls_check(server.port, verify=False), now)
    assert (result.status, result.reason) == (
        DEGRADED,
        f"certificate expires in 5 days ({day(now + left)})",
    )


# --- no handshake ----------------------------------------------------------------------


def test_a_closed_port_is_refused(now: datetime) -> None:
    result = run(tls_check(port_of(closed_port_url())), now)
    assert (result.status, result.reason) == (MAJOR, "connection refused")


def test_a_server_that_never_does_the_handshake_times_out(now: datetime) -> None:
    with silent_listener() as url:
        start = time.monotonic()
        result = run(tls_check(port_of(url), timeout="300ms"), now)
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 300ms")
    assert took < 1.0


def test_a_handshake_dripped_a_byte_at_a_time_is_cut_by_the_one_deadline(now: datetime) -> None:
    # A TLS record header that announces 16 KiB, then its body byte by byte.
    with drip_server(b"\x16\x03\x03\x40\x00", drip=b"\x00", every=0.05) as dripper:
        start = time.monotonic()
        result = run(tls_check(port_of(dripper.url), timeout="300ms"), now)
        took = time.monotonic() - start
    assert (result.status, result.reason) == (MAJOR, "timed out after 300ms")
    assert took < 1.0


def test_a_server_that_is_not_tls_fails_the_handshake(now: datetime) -> None:
    with drip_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as plain:
        result = run(tls_check(port_of(plain.url)), now)
    assert (result.status, result.reason) == (MAJOR, "TLS handshake failed: wrong version number")


def test_a_server_that_hangs_up_fails_the_handshake(now: datetime) -> None:
    with drip_server(b"") as hang_up:
        result = run(tls_check(port_of(hang_up.url)), now)
    assert (result.status, result.reason) == (MAJOR, "connection closed during the TLS handshake")


# --- the dates, at their edges --------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(ca: trustme.CA) -> x509.Certificate:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    leaf = ca.issue_cert(NAME, not_before=start, not_after=start + timedelta(days=90))
    return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())


@pytest.mark.parametrize(
    ("before_expiry", "status", "reason"),
    [
        (timedelta(days=14, seconds=1), OPERATIONAL, "certificate expires in 14 days (2026-08-30)"),
        (timedelta(days=14), OPERATIONAL, "certificate expires in 14 days (2026-08-30)"),
        (timedelta(days=14, seconds=-1), DEGRADED, "certificate expires in 13 days (2026-08-30)"),
        (timedelta(days=3), DEGRADED, "certificate expires in 3 days (2026-08-30)"),
        (timedelta(days=3, seconds=-1), MAJOR, "certificate expires in 2 days (2026-08-30)"),
        (timedelta(days=1), MAJOR, "certificate expires in 1 day (2026-08-30)"),
        (timedelta(seconds=1), MAJOR, "certificate expires in less than a day (2026-08-30)"),
        (timedelta(0), MAJOR, "certificate expired less than a day ago (2026-08-30)"),
        (timedelta(days=-1), MAJOR, "certificate expired 1 day ago (2026-08-30)"),
        (timedelta(days=-40), MAJOR, "certificate expired 40 days ago (2026-08-30)"),
        (timedelta(days=91), MAJOR, "certificate not valid before 2026-06-01"),
    ],
)
def test_judging_the_dates(
    certificate: x509.Certificate, before_expiry: timedelta, status: Any, reason: str
) -> None:
    at = certificate.not_valid_after_utc - before_expiry
    result = judge_expiry(tls_check(443), at, certificate)
    assert (result.status, result.reason) == (status, reason)
    assert result.value == round(before_expiry / timedelta(days=1), 2)


# --- the spec ----------------------------------------------------------------------------


def test_defaults() -> None:
    spec = TlsCheck.model_validate({"type": "tls", "name": "web", "host": "www.example.com"})
    assert (spec.port, spec.server_name, spec.sni, spec.verify, spec.ca_file) == (
        443,
        None,
        "www.example.com",
        True,
        None,
    )
    assert (spec.degraded_days, spec.outage_days, spec.failure_status) == (14, 3, "major_outage")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "x;id"}, "'x;id' is not a valid host name or IP address"),
        ({"host": "$(id)"}, "'$(id)' is not a valid host name or IP address"),
        (
            {"host": "169.254.169.254"},
            "169.254.169.254 is a cloud metadata address; a check may not target it",
        ),
        ({"server_name": "a b"}, "'a b' is not a valid host name or IP address"),
        ({"ca_file": "/nonexistent/ca.pem"}, "/nonexistent/ca.pem: no such file"),
        ({"outage_days": 20}, "outage_days must not be more than degraded_days"),
        ({"verify": False, "ca_file": "CA"}, "ca_file has no effect with verify: false"),
        ({"port": 0}, "Input should be greater than or equal to 1"),
        ({"degraded_days": -1}, "Input should be greater than or equal to 0"),
        ({"verfy": False}, "Extra inputs are not permitted"),
    ],
)
def test_spec_mistakes_are_refused_when_the_config_loads(
    fields: dict[str, Any], message: str, ca_file: str
) -> None:
    if fields.get("ca_file") == "CA":
        fields = fields | {"ca_file": ca_file}
    with pytest.raises(ValidationError) as caught:
        tls_check(443, **fields)
    assert [e["msg"].removeprefix("Value error, ") for e in caught.value.errors()] == [message]


def test_a_ca_file_that_is_not_pem_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ValidationError) as caught:
        tls_check(443, ca_file=str(junk))
    [error] = caught.value.errors()
    assert error["msg"].startswith(f"Value error, {junk}: not a PEM file of CA certificates (")


def test_a_ca_file_gone_since_the_config_loaded_is_a_failed_run(
    ca: trustme.CA, tmp_path: Path, now: datetime
) -> None:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    spec = tls_check(443, ca_file=str(path))
    path.unlink()
    result = run(spec, now)
    assert (result.status, result.reason) == (MAJOR, "CA file: No such file or directory")
