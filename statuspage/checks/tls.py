"""`type: tls`: the certificate a server presents, verified, and how long it
has left.

An expiring certificate is an outage announced weeks ahead, so the days
left are reported as the result's value and turn into degraded performance
and then the check's failure status before the date comes. Verification is
OpenSSL's (the chain to the system's CAs or a private `ca_file`, and the
host name); the expiry is read from the certificate and judged against the
injected clock.
"""

from __future__ import annotations

import re
import ssl
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from pydantic import Field, field_validator, model_validator

from statuspage.checks.base import CheckResult, CheckSpec, describe_seconds
from statuspage.checks.tcp import (
    check_host_name,
    check_target_host,
    describe_connect_error,
    first_line,
    open_connection,
    remaining,
)
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus

# OpenSSL's X509_V_ERR_* codes that get a reason of our own.
CERT_HAS_EXPIRED = 10
HOSTNAME_MISMATCH = 62
IP_ADDRESS_MISMATCH = 64

ONE_DAY = timedelta(days=1)


class TlsCheck(CheckSpec):
    """A TLS server's certificate: valid for its name, and not about to expire."""

    type: Literal["tls"]
    host: str
    port: int = Field(default=443, ge=1, le=65535)
    # The name sent as SNI and verified against the certificate; default `host`.
    server_name: str | None = None
    verify: bool = True
    # PEM file of the CA(s) to trust instead of the system's, for a private CA.
    ca_file: str | None = None
    degraded_days: int = Field(default=14, ge=0, le=3650)
    outage_days: int = Field(default=3, ge=0, le=3650)

    @field_validator("host")
    @classmethod
    def _target_host(cls, host: str) -> str:
        return check_target_host(host)

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, name: str | None) -> str | None:
        return None if name is None else check_host_name(name)

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, path: str | None) -> str | None:
        if path is None:
            return None
        if not Path(path).is_file():
            raise ValueError(f"{path}: no such file")
        try:
            ssl.create_default_context(cafile=path)
        except (ssl.SSLError, OSError) as exc:
            raise ValueError(f"{path}: not a PEM file of CA certificates ({exc})") from exc
        return path

    @model_validator(mode="after")
    def _consistent(self) -> TlsCheck:
        if self.outage_days > self.degraded_days:
            raise ValueError("outage_days must not be more than degraded_days")
        if self.ca_file is not None and not self.verify:
            raise ValueError("ca_file has no effect with verify: false")
        return self

    @property
    def sni(self) -> str:
        return (self.server_name or self.host).rstrip(".")


def run_tls_check(spec: TlsCheck, now: Clock) -> CheckResult:
    """Handshake under one deadline, then judge the certificate's dates.
    Never raises."""
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    failed = ComponentStatus(spec.failure_status)
    start = time.monotonic()
    ends_at = start + timeout
    try:
        context = _context(spec, spec.verify)
    except (ssl.SSLError, OSError) as exc:
        return CheckResult(started_at, failed, f"CA file: {exc.strerror or exc}")
    try:
        certificate = _peer_certificate(spec, context, ends_at)
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code == CERT_HAS_EXPIRED:
            # Whose? If the server's own, say when and give the days.
            expired = _expired_leaf(spec, ends_at, started_at)
            if expired is not None:
                return judge_expiry(spec, started_at, expired)
        return CheckResult(started_at, failed, describe_verify_error(exc))
    except TimeoutError:
        latency_ms = (time.monotonic() - start) * 1000
        return CheckResult(
            started_at, failed, f"timed out after {describe_seconds(timeout)}", latency_ms
        )
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        return CheckResult(started_at, failed, "connection closed during the TLS handshake")
    except ssl.SSLError as exc:
        return CheckResult(started_at, failed, f"TLS handshake failed: {describe_ssl_error(exc)}")
    except OSError as exc:
        return CheckResult(started_at, failed, describe_connect_error(exc))
    except Exception as exc:  # a check never raises
        return CheckResult(started_at, failed, f"{type(exc).__name__}: {first_line(str(exc))}")
    latency_ms = (time.monotonic() - start) * 1000
    return judge_expiry(spec, started_at, certificate, latency_ms)


def judge_expiry(
    spec: TlsCheck, at: datetime, certificate: x509.Certificate, latency_ms: float | None = None
) -> CheckResult:
    """The status for a certificate's dates seen at `at`; `value` is the
    days left (fractional, negative once expired)."""
    not_after = certificate.not_valid_after_utc
    not_before = certificate.not_valid_before_utc
    left = not_after - at
    value = round(left / ONE_DAY, 2)
    failed = ComponentStatus(spec.failure_status)
    date = not_after.date().isoformat()
    if at < not_before:
        reason = f"certificate not valid before {not_before.date().isoformat()}"
        return CheckResult(at, failed, reason, latency_ms, value)
    if left <= timedelta(0):
        reason = f"certificate expired {_describe_days(-left)} ago ({date})"
        return CheckResult(at, failed, reason, latency_ms, value)
    reason = f"certificate expires in {_describe_days(left)} ({date})"
    if left < timedelta(days=spec.outage_days):
        status = failed
    elif left < timedelta(days=spec.degraded_days):
        status = ComponentStatus.DEGRADED_PERFORMANCE
    else:
        status = ComponentStatus.OPERATIONAL
    return CheckResult(at, status, reason, latency_ms, value)


def _describe_days(span: timedelta) -> str:
    days = span // ONE_DAY
    if days == 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days} days"


def _context(spec: TlsCheck, verify: bool) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=spec.ca_file)


def _peer_certificate(spec: TlsCheck, context: ssl.SSLContext, ends_at: float) -> x509.Certificate:
    """The server's own certificate, after a handshake done by `ends_at`.

    The handshake runs on a blocking socket whose timeout is the time left:
    Python's ssl module keeps that as one deadline for the whole handshake,
    however many reads it takes.
    """
    with open_connection(spec.host, spec.port, ends_at) as sock:
        sock.settimeout(remaining(ends_at))
        with context.wrap_socket(sock, server_hostname=spec.sni) as tls:
            der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server sent no certificate")
    return x509.load_der_x509_certificate(der)


def _expired_leaf(spec: TlsCheck, ends_at: float, at: datetime) -> x509.Certificate | None:
    """After OpenSSL said "expired": the server's certificate if it is the
    expired one (not an intermediate), read again without verification."""
    try:
        certificate = _peer_certificate(spec, _context(spec, verify=False), ends_at)
    except Exception:
        return None
    return certificate if certificate.not_valid_after_utc <= at else None


def describe_verify_error(exc: ssl.SSLCertVerificationError) -> str:
    if exc.verify_code == HOSTNAME_MISMATCH:
        detail = "hostname mismatch"
    elif exc.verify_code == IP_ADDRESS_MISMATCH:
        detail = "IP address mismatch"
    else:
        detail = exc.verify_message or describe_ssl_error(exc)
    return f"certificate verify failed: {detail}"


def describe_ssl_error(exc: ssl.SSLError) -> str:
    """`wrong version number` from `[SSL: WRONG_VERSION_NUMBER] wrong version
    number (_ssl.c:1006)`."""
    found = re.search(r"\]\s*(.+?)\s*\(_ssl\.c", str(exc))
    if found:
        return found.group(1)
    if exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    return first_line(str(exc))
