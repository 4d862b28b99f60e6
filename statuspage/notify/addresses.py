"""Which addresses a webhook may be posted to, and a connection that keeps
to them when it connects.

Anyone can enter a webhook URL (the public subscribe form), so the URL is a
request forgery risk: it could point the server at its own loopback
services, the office network or the cloud's metadata endpoint. The rule is
stricter than for checks, whose targets the operator writes (see
`statuspage.checks.network`):

- `validate_webhook_url` says why a URL is refused when it is entered: only
  http/https, no credentials, no literal address in any spelling that is
  not public, no name that resolves to one.
- `webhook_transport` checks again when it connects, because DNS answers
  change (rebinding): it resolves the name once, refuses when any answer is
  not public, connects to a vetted address itself (TLS SNI and `Host` keep
  the name), and checks the address the socket actually reached.

`notifications.webhooks.allow_private` (or `allowed_networks`) lifts the
private-address rule for an internal page; metadata, multicast and
unspecified addresses stay refused whatever the config says.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from statuspage.checks.network import (
    METADATA_ADDRESSES,
    METADATA_HOSTS,
    _ProbeStream,
    _within_deadline,
)
from statuspage.notify.settings import WebhookSettings

MAX_URL_CHARS = 2000  # the subscribers.address column

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A name and port in, the addresses it resolves to out (strings); raises
# OSError when it does not resolve. Tests inject their own.
Resolver = Callable[[str, int], Sequence[str]]


def host_of(url: str) -> str | None:
    """The URL's host name, or None when there is none or it cannot be read."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# --- which addresses ------------------------------------------------------------

_net = ipaddress.ip_network

# Refused whatever the config says: nothing legitimate listens there.
ALWAYS_REFUSED = (
    (_net("0.0.0.0/8"), "an unspecified address"),
    (_net("::/128"), "an unspecified address"),
    (_net("224.0.0.0/4"), "a multicast address"),
    (_net("ff00::/8"), "a multicast address"),
    (_net("255.255.255.255/32"), "the broadcast address"),
    (_net("2001::/32"), "a Teredo tunnel address"),
)
# Refused unless `allow_private` or `allowed_networks` say otherwise.
PRIVATE = (
    (_net("127.0.0.0/8"), "a loopback address"),
    (_net("::1/128"), "a loopback address"),
    (_net("10.0.0.0/8"), "a private address"),
    (_net("172.16.0.0/12"), "a private address"),
    (_net("192.168.0.0/16"), "a private address"),
    (_net("fc00::/7"), "a private (ULA) address"),
    (_net("fec0::/10"), "a private (site-local) address"),
    (_net("169.254.0.0/16"), "a link-local address"),
    (_net("fe80::/10"), "a link-local address"),
    (_net("100.64.0.0/10"), "a shared (CGNAT) address"),
    (_net("64:ff9b:1::/48"), "a local NAT64 address"),
    (_net("240.0.0.0/4"), "a reserved address"),
    (_net("::/8"), "a reserved address"),
)
NAT64 = _net("64:ff9b::/96")
IPV4_TRANSLATED = _net("::ffff:0:0:0/96")
IPV4_COMPATIBLE = _net("::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 one carries, and the form that carries it:
    packets for `::ffff:127.0.0.1` or `64:ff9b::7f00:1` end up at 127.0.0.1."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64:
        return low, "NAT64"
    if address in IPV4_TRANSLATED:
        return low, "IPv4-translated"
    if address in IPV4_COMPATIBLE and int(address) > 1:
        return low, "IPv4-compatible"
    return None


def _category(address: IPAddress, table: Iterable[tuple[Any, str]]) -> str | None:
    return next((label for network, label in table if address in network), None)


def address_refusal(address: str | IPAddress, settings: WebhookSettings) -> str | None:
    """Why a webhook may not be sent to `address`, or None."""
    found = _refusal(address, settings)
    return None if found is None else f"{found[0]} is {found[1]}"


def _refusal(address: str | IPAddress, settings: WebhookSettings) -> tuple[str, str] | None:
    """(the address as shown, what kind it is) when it is refused."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    target: IPAddress = address
    shown = str(address)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            target = embedded[0]
            shown = f"{address} ({embedded[1]} {target})"
    if address in METADATA_ADDRESSES or target in METADATA_ADDRESSES:
        return shown, "a cloud metadata address"
    label = _category(target, ALWAYS_REFUSED)
    if label is not None:
        return shown, label
    label = _category(target, PRIVATE)
    if label is None and not target.is_global:
        label = "not a public address"
    if label is None or settings.allow_private:
        return None
    if any(target in network or address in network for network in settings.allowed_networks):
        return None
    return shown, label


def literal_address(host: str) -> IPAddress | None:
    """The address `host` is, when it is one, in any spelling the system
    resolver takes: `127.0.0.1`, `::1`, but also `127.1`, `2130706433`,
    `0x7f.1` and `0177.0.0.1`."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if not text or not all(c.isalnum() or c == "." for c in text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def url_refusal(url: str) -> str | None:
    """What is wrong with the URL itself, before any address is looked at."""
    if len(url) > MAX_URL_CHARS:
        return f"the URL is longer than {MAX_URL_CHARS} characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        return "the URL contains spaces, control characters or a backslash"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed `[` of an IPv6 address
        return "the URL cannot be read"
    if parts.scheme.lower() not in ("http", "https"):
        return "use an http:// or https:// URL"
    if "@" in parts.netloc:
        # Parsers disagree on where such a host ends (HOOK-12); a receiver
        # that wants a password can take one in the path or query.
        return "a URL with a user name or password is not accepted"
    if not parts.hostname:
        return "the URL has no host name"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "the URL's port is not a number from 1 to 65535"
    return None


def validate_webhook_url(
    url: str, settings: WebhookSettings, resolver: Resolver | None = None
) -> str | None:
    """Why `url` may not be a webhook, as a sentence for the person who
    entered it, or None. Names are resolved now (with `resolver`, by
    default the system's): every address must be allowed."""
    reason = url_refusal(url)
    if reason is not None:
        return reason
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.rstrip(".") in METADATA_HOSTS:
        return f"{host} is a cloud metadata address"
    address = literal_address(host)
    if address is not None:
        reason = address_refusal(address, settings)
        if reason is not None:
            return reason
        if host.strip("[]") != str(address):
            return f"write the address as {address}"
        return None
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        answers = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError):
        answers = []
    if not answers:
        return f"{host} does not resolve to an address"
    for answer in answers:
        found = _refusal(answer, settings)
        if found is not None:
            return f"{host} resolves to {found[0]}, {found[1]}"
    return None


# --- the connection ---------------------------------------------------------------


class AddressRefused(httpcore.ConnectError):
    """The name resolved, or the socket connected, to a refused address."""


class _WebhookBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to vetted addresses.
    Connections keep `deadline`'s total limit (a receiver that drips a byte
    at a time is cut)."""

    def __init__(self, settings: WebhookSettings, resolver: Resolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self._backend: httpcore.NetworkBackend = httpcore.SyncBackend()

    def _addresses(self, host: str, port: int) -> list[str]:
        literal = literal_address(host)
        if literal is not None:
            return [str(literal)]
        try:
            answers = list(dict.fromkeys(self._resolver(host, port)))
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        if not answers:
            raise httpcore.ConnectError(f"{host} does not resolve to an address")
        return answers

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _within_deadline(timeout, httpcore.ConnectTimeout)
        addresses = self._addresses(host, port)
        # Every answer must pass: a name with one public and one loopback
        # answer is refused, not tried until the public one fails.
        for address in addresses:
            reason = address_refusal(address, self._settings)
            if reason is not None:
                raise AddressRefused(f"refused address: {reason}")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                stream = self._backend.connect_tcp(
                    address, port, budget, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            peer = str(stream.get_extra_info("server_addr")[0])
            reason = address_refusal(peer, self._settings)
            if reason is not None:
                stream.close()
                raise AddressRefused(f"refused address (connected to): {reason}")
            return _ProbeStream(stream)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("a webhook connects over TCP only")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class WebhookTransport(httpx.HTTPTransport):
    """httpx's transport on `_WebhookBackend`; proxies are ignored, because
    behind one the address connected to could not be checked."""

    def __init__(self, settings: WebhookSettings, resolver: Resolver) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx has no public way to pass httpcore a network backend.
        pool = self._pool
        assert isinstance(pool, httpcore.ConnectionPool)
        pool._network_backend = _WebhookBackend(settings, resolver)
