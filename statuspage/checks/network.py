"""Connections for probes: one deadline for a whole run, and never to a
cloud metadata address (HOOK-16).

httpx's timeouts are per step: a server that sends a byte just within the
read timeout, again and again, holds a request open forever. The streams
made here take what is left of the run's `deadline` as their limit. The
same backend checks the address a name resolves to, and again the address
the socket actually connected to (a name can resolve differently twice).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

# Cloud metadata services hand out credentials to whoever asks from the
# host. Probe targets may be private (they come from the operator's config),
# but never these: not as written, not once resolved, not after a redirect.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})


def probe_client(verify_tls: bool = True, follow_redirects: bool = False) -> httpx.Client:
    """A client whose connections keep the run's deadline and refuse
    metadata addresses. It ignores proxy settings in the environment: behind
    a proxy the address actually connected to could not be checked."""
    return httpx.Client(
        transport=_ProbeTransport(verify=verify_tls),
        follow_redirects=follow_redirects,
        trust_env=False,
    )


def is_metadata_address(host: str) -> bool:
    """True for a cloud metadata IP, in any spelling of it (`::ffff:a.b.c.d`,
    `2852039166`)."""
    text = host.split("%", 1)[0].strip("[]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        try:  # the forms the resolver also takes: 2852039166, 0xa9fea9fe, 169.254.43518
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in METADATA_ADDRESSES


class MetadataAddressRefused(httpcore.ConnectError):
    """The name resolved, or the socket connected, to a metadata address."""


# When the current check run must be over (time.monotonic()); None outside a run.
_deadline: ContextVar[float | None] = ContextVar("check_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every connection of `probe_client` made in this block, in this thread,
    is done within `seconds` from now, whatever its per-step timeouts."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _within_deadline(timeout: float | None, expired: type[Exception]) -> float | None:
    """The time an I/O step may take: its own timeout, cut to what is left."""
    ends_at = _deadline.get()
    if ends_at is None:
        return timeout
    remaining = ends_at - time.monotonic()
    if remaining <= 0:
        raise expired("total deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _ProbeStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _within_deadline(timeout, httpcore.ConnectTimeout)
        return _ProbeStream(self._stream.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _ProbeBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, plus the deadline and the metadata guard,
    checked on the resolved names and again on the connected address."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _within_deadline(timeout, httpcore.ConnectTimeout)
        try:
            resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            resolved = []  # let the connect below report it
        for *_, sockaddr in resolved:
            if is_metadata_address(str(sockaddr[0])):
                raise MetadataAddressRefused(f"{sockaddr[0]} is a cloud metadata address")
        stream = self._backend.connect_tcp(host, port, budget, local_address, socket_options)
        peer = str(stream.get_extra_info("server_addr")[0])
        if is_metadata_address(peer):
            stream.close()
            raise MetadataAddressRefused(f"{peer} is a cloud metadata address")
        return _ProbeStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("a check connects over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.lru_cache(maxsize=2)
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One context per `verify` value, shared by every probe (an SSLContext
    is thread-safe). Building one loads the CA bundle: about 16 ms of CPU,
    most of a plain HTTP check's cost (see bench/scheduler_capacity.py)."""
    return httpx.create_ssl_context(verify=verify)


class _ProbeTransport(httpx.HTTPTransport):
    def __init__(self, verify: bool) -> None:
        super().__init__(verify=_ssl_context(verify), trust_env=False)
        # httpx has no public way to pass httpcore a network backend.
        pool = self._pool
        assert isinstance(pool, httpcore.ConnectionPool)
        pool._network_backend = _ProbeBackend()
