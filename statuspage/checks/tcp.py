"""`type: tcp`: connect, optionally send a line and look for text in the answer.

For services that do not speak HTTP (Redis, SMTP, a database port). The
host names met here also serve `tls` and `dns`: they are checked to be a
host name or an IP literal when the config loads (SEC-08: nothing here ever
reaches a shell, and a name like `$(id)` is refused rather than looked up),
and a connection goes to the very address that was checked against the
cloud metadata list (HOOK-16), so a name cannot resolve differently between
the check and the connect.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import socket
import threading
import time
from typing import Any, Literal

from pydantic import Field, field_validator

from statuspage.checks.base import CheckResult, CheckSpec, describe_seconds
from statuspage.checks.http import LatencyThresholds
from statuspage.checks.network import METADATA_HOSTS, is_metadata_address
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus

# Enough for any banner or reply a health probe looks at; reading more is a risk.
MAX_ANSWER_BYTES = 64 * 1024

# A DNS label: letters, digits, `-` (not first or last) and `_` (as in
# `_dmarc`); never a space, quote, `;`, `$` or backtick.
_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?", re.ASCII)


def check_host_name(host: str) -> str:
    """`host` if it is a host name or an IP literal, else ValueError.

    An IPv6 literal may be written in brackets; it is kept without them.
    """
    bracketed = host.startswith("[") and host.endswith("]")
    text = host[1:-1] if bracketed else host
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if not bracketed and len(text.rstrip(".")) <= 253 and _HOST_NAME.fullmatch(text):
        return text
    raise ValueError(f"{host!r} is not a valid host name or IP address")


def check_target_host(host: str) -> str:
    """A host a check may connect to: valid, and not a cloud metadata address."""
    host = check_host_name(host)
    bare = host.lower().rstrip(".")
    if bare in METADATA_HOSTS or is_metadata_address(bare):
        raise ValueError(f"{bare} is a cloud metadata address; a check may not target it")
    return host


class MetadataRefused(OSError):
    """The host name resolved to a cloud metadata address."""


def remaining(ends_at: float) -> float:
    """Seconds left until `ends_at` (time.monotonic()); TimeoutError if none."""
    left = ends_at - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def resolve_within(
    host: str, port: int | None, ends_at: float, family: int = socket.AF_UNSPEC
) -> list[Any]:
    """`socket.getaddrinfo` for TCP, given up at the deadline.

    The OS resolver has no timeout of its own (a dead name server holds it
    for many seconds), so it runs in a daemon thread that is left to finish
    alone if the check's time is up.
    """
    found: list[Any] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))
        except BaseException as exc:
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    if not done.wait(remaining(ends_at)):
        raise TimeoutError("name lookup took too long")
    if failed:
        raise failed[0]
    return found


def open_connection(host: str, port: int, ends_at: float) -> socket.socket:
    """A TCP connection to `host` made before `ends_at`, never to a metadata
    address. Tries each resolved address in turn; the socket keeps the time
    that is left as its timeout."""
    addresses = resolve_within(host, port, ends_at)
    for *_, sockaddr in addresses:
        if is_metadata_address(str(sockaddr[0])):
            raise MetadataRefused(f"{sockaddr[0]} is a cloud metadata address")
    first_error: OSError | None = None
    for family, kind, proto, _, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(remaining(ends_at))
            sock.connect(sockaddr)
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            first_error = first_error or exc
            continue
        return sock
    raise first_error or OSError("the host name has no address")


def describe_connect_error(exc: OSError) -> str:
    """A short reason for a failed connect or lookup."""
    if isinstance(exc, MetadataRefused):
        return f"refused: {exc}"
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return "host name not found"
        return f"host name lookup failed: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if exc.errno == errno.ENETUNREACH:
        return "network unreachable"
    if exc.errno == errno.EHOSTUNREACH:
        return "host unreachable"
    return f"could not connect: {exc.strerror or exc}"


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return line[:120]


class TcpCheck(CheckSpec):
    """A port that accepts connections, and optionally answers as it should."""

    type: Literal["tcp"]
    host: str
    port: int = Field(ge=1, le=65535)
    # Text sent once connected (UTF-8); YAML's "\r\n" gives a line ending.
    send: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_BYTES)
    # Text that must appear in the first MAX_ANSWER_BYTES of the answer.
    expect: str | None = Field(default=None, min_length=1, max_length=4096)
    latency: LatencyThresholds | None = None

    @field_validator("host")
    @classmethod
    def _target_host(cls, host: str) -> str:
        return check_target_host(host)


def run_tcp_check(spec: TcpCheck, now: Clock) -> CheckResult:
    """Connect (and talk) under one deadline and judge it. Never raises."""
    started_at = now()
    timeout = spec.effective_timeout().total_seconds()
    failed = ComponentStatus(spec.failure_status)
    start = time.monotonic()
    try:
        answer = _converse(spec, start + timeout)
    except TimeoutError:
        latency_ms = (time.monotonic() - start) * 1000
        return CheckResult(
            started_at, failed, f"timed out after {describe_seconds(timeout)}", latency_ms
        )
    except OSError as exc:
        return CheckResult(started_at, failed, describe_connect_error(exc))
    except Exception as exc:  # a check never raises
        return CheckResult(started_at, failed, f"{type(exc).__name__}: {first_line(str(exc))}")
    elapsed = time.monotonic() - start
    latency_ms = elapsed * 1000
    if spec.expect is not None:
        if not answer:
            return CheckResult(
                started_at, failed, "connection closed without an answer", latency_ms
            )
        if spec.expect.encode() not in answer:
            reason = f"answer contains {json.dumps(spec.expect)}"
            return CheckResult(started_at, failed, reason, latency_ms)
    if spec.latency is not None and (slow := spec.latency.judge(elapsed, failed)):
        return CheckResult(started_at, slow[0], slow[1], latency_ms)
    reason = "connected" if spec.expect is None else "expected answer received"
    return CheckResult(started_at, ComponentStatus.OPERATIONAL, reason, latency_ms)


def _converse(spec: TcpCheck, ends_at: float) -> bytes | None:
    with open_connection(spec.host, spec.port, ends_at) as sock:
        if spec.send is not None:
            sock.settimeout(remaining(ends_at))
            sock.sendall(spec.send.encode())
        if spec.expect is None:
            return None
        return _read_until(sock, spec.expect.encode(), ends_at)


def _read_until(sock: socket.socket, needle: bytes, ends_at: float) -> bytes:
    """What the server says until `needle` shows, it hangs up, the bound is
    reached or time is up. Time up with nothing said is a timeout; with
    something said, that is the answer to judge."""
    answer = b""
    while needle not in answer and len(answer) < MAX_ANSWER_BYTES:
        try:
            sock.settimeout(remaining(ends_at))
            chunk = sock.recv(MAX_ANSWER_BYTES - len(answer))
        except TimeoutError:
            if answer:
                return answer
            raise
        if not chunk:
            break
        answer += chunk
    return answer
