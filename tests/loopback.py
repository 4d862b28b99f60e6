"""Real servers on loopback for the check tests.

`ScriptedServer` is a threaded `http.server` whose answers each test sets
per path. `silent_listener` and `DripServer` misbehave below HTTP: the first
accepts TCP connections (the kernel does, through the backlog) and never
answers; the second answers a byte at a time, forever.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"
    # Wait this long before answering (a slow service); cut short at teardown.
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Seen], Reply]


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 (or `host`), port chosen by the OS."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Reply | Responder] = {}
        self.seen: list[Seen] = []
        self.closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                server.seen.append(seen)
                route = server.routes.get(parts.path, Reply(404, "no route"))
                reply = route(seen) if callable(route) else route
                if reply.delay:
                    server.closing.wait(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to tell it

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        # A short poll, so that closing (which waits for the loop) is quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def route(self, path: str, reply: Reply | Responder | None = None, **kwargs: object) -> str:
        """Answer `path` with `reply` (or `Reply(**kwargs)`); returns its full URL."""
        self.routes[path] = reply if reply is not None else Reply(**kwargs)  # type: ignore[arg-type]
        return self.url + path

    def close(self) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextmanager
def scripted_server(host: str = "127.0.0.1") -> Iterator[ScriptedServer]:
    server = ScriptedServer(host)
    try:
        yield server
    finally:
        server.close()


@contextmanager
def silent_listener() -> Iterator[str]:
    """A URL whose server completes the TCP handshake and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/health"
    finally:
        sock.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/health"


class DripServer:
    """Sends `head` at once, then one byte of `drip` every `every` seconds,
    each well within a read timeout, so only a total deadline stops it.
    After `limit` bytes it hangs up, so a client without a deadline fails
    the test instead of hanging it."""

    def __init__(self, head: bytes, drip: bytes, every: float, limit: int = 100) -> None:
        self.head, self.drip, self.every, self.limit = head, drip, every, limit
        self.bytes_dripped = 0
        self.stopped = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/health"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(2)
                    conn.recv(65536)  # the request; its content does not matter
                    conn.sendall(self.head)
                    for i in range(self.limit if self.drip else 0):
                        if self.stopped.wait(self.every):
                            return
                        conn.sendall(self.drip[i % len(self.drip) : i % len(self.drip) + 1])
                        self.bytes_dripped += 1
                except OSError:
                    continue  # the client hung up: it gave up, as it should

    def close(self) -> None:
        self.stopped.set()
        self._thread.join(timeout=5)
        self._sock.close()


@contextmanager
def drip_server(
    head: bytes, drip: bytes = b"", every: float = 0.05, limit: int = 100
) -> Iterator[DripServer]:
    server = DripServer(head, drip, every, limit)
    try:
        yield server
    finally:
        server.close()


class TalkServer:
    """A TCP server on 127.0.0.1 that hands each connection to `talk` (in a
    thread of its own), records what tests append to `received`, and counts
    the connections."""

    def __init__(
        self, talk: Callable[[socket.socket, TalkServer], None], timeout: float = 5.0
    ) -> None:
        self.talk = talk
        self.timeout = timeout
        self.connections = 0
        self.received: list[bytes] = []
        self.closing = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        # OSError: the client gave up, as a timed-out check does.
        with conn, suppress(OSError):
            conn.settimeout(self.timeout)
            self.talk(conn, self)

    def close(self) -> None:
        self.closing.set()
        self._thread.join(timeout=5)
        self._sock.close()


@contextmanager
def talk_server(
    talk: Callable[[socket.socket, TalkServer], None], timeout: float = 5.0
) -> Iterator[TalkServer]:
    server = TalkServer(talk, timeout)
    try:
        yield server
    finally:
        server.close()
