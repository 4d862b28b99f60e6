"""HTTP plumbing of the demo: a threaded werkzeug server in a thread that
can be closed for real (so a `dead` service refuses connections) and opened
again, and the JSON helpers its small apps share.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger(__name__)

# How often the serve loop looks for a shutdown request: bounds how long
# closing a listener takes.
POLL_INTERVAL_S = 0.05
JOIN_TIMEOUT_S = 5.0
# Control and login bodies are a few bytes; refuse anything big unread.
MAX_BODY_BYTES = 64 * 1024


class QuietRequestHandler(WSGIRequestHandler):
    """One request per connection, logged at debug level.

    HTTP/1.0 closes every connection after its answer, so no pooled
    keep-alive connection (Prometheus keeps them) outlives a listener that
    was closed to make a service `dead`. Scrapes every 2 s by five targets
    would also bury the demo's console, hence the debug level.
    """

    protocol_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', getattr(self, "requestline", ""), code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.WARNING if type == "error" else logging.DEBUG
        log.log(level, message, *args)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one. Raises OSError.

    We bind it ourselves because werkzeug's own bind calls `sys.exit` when
    the port is taken, and a library must raise instead.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class Listener:
    """A running server for `app` on `host:port`, until `close()`."""

    def __init__(self, host: str, port: int, app: WSGIApp, name: str) -> None:
        sock = bind_socket(host, port)
        try:
            self._server: BaseWSGIServer = make_server(
                host,
                sock.getsockname()[1],
                app,
                threaded=True,
                request_handler=QuietRequestHandler,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate of the socket
        self.port: int = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name=f"demo-{name}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and close the socket; returns once connections are
        refused. Requests in flight finish on their own threads."""
        self._server.shutdown()
        self._thread.join(JOIN_TIMEOUT_S)
        self._server.server_close()


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data) + "\n", status=status, mimetype="application/json")


def read_json(request: Request) -> Any:
    """The request body as JSON, whatever its content type (`curl -d` says
    form-encoded). Raises ValueError with a reason fit for a 400."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ValueError(f"body is larger than {MAX_BODY_BYTES} bytes")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ValueError("send a JSON body")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"body is not JSON ({exc.args[0] if exc.args else exc})") from None
