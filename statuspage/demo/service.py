"""One simulated service: a tiny HTTP app with `/healthz`, `/metrics`,
synthetic traffic, and a mode a person can change while it runs.

Modes, each a way the seed outage (see DESIGN.md) looked from outside:

- `healthy`: answers fast.
- `slow`: every answer takes `slow_seconds`, and the metrics show it.
- `down`: answers 503 `{"status": "error"}`.
- `dead`: nothing listens: connections are refused.
- `metrics_dead`: the service is fine but `/metrics` answers 503, so
  Prometheus marks the target down: the loss of monitoring visibility.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from werkzeug.wrappers import Request, Response

from statuspage.demo.canary import CanaryAccount
from statuspage.demo.metrics import METRICS_CONTENT_TYPE, ServiceMetrics, synthetic_request
from statuspage.demo.wsgi import JOIN_TIMEOUT_S, Listener, json_response, read_json

DEFAULT_SLOW_SECONDS = 3.0
MAX_SLOW_SECONDS = 600.0
TRAFFIC_INTERVAL_S = 0.5

Handler = Callable[[Request], Response]


class Mode(StrEnum):
    HEALTHY = "healthy"
    SLOW = "slow"
    DOWN = "down"
    DEAD = "dead"
    METRICS_DEAD = "metrics_dead"


def parse_mode(value: object) -> Mode:
    """A Mode from its name; ValueError naming the known ones otherwise."""
    for mode in Mode:
        if value == mode.value:
            return mode
    raise ValueError(f"unknown mode {value!r} (known: {', '.join(Mode)})")


def check_slow_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("slow_seconds must be a number of seconds")
    if not 0 <= value <= MAX_SLOW_SECONDS:
        raise ValueError(f"slow_seconds must be between 0 and {MAX_SLOW_SECONDS:g}")
    return float(value)


class ServiceState(TypedDict):
    """What `GET /_sim` and the control server say about a service."""

    service: str
    url: str
    mode: str
    slow_seconds: float
    subscriptions_expired: NotRequired[bool]


class SimulatedService:
    """One small HTTP service whose behaviour can be changed while it runs.

    With a `canary`, it is the payments service and also serves the
    workflow API: `POST /login` and `GET /subscriptions/canary`.
    """

    def __init__(
        self,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
        canary: CanaryAccount | None = None,
        traffic_interval_s: float = TRAFFIC_INTERVAL_S,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.metrics = ServiceMetrics(name)
        self.canary = canary
        self._port = port
        self._mode = Mode.HEALTHY
        self._slow_seconds = check_slow_seconds(slow_seconds)
        self._traffic_interval_s = traffic_interval_s
        self._rng = rng or random.Random()
        # Held while the mode changes (which may close or open the
        # listener); reads of the mode need no lock.
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: Listener | None = None
        self._traffic: threading.Thread | None = None
        self._running = False
        self._metrics_dead = False

    # --- life cycle ---------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def slow_seconds(self) -> float:
        return self._slow_seconds

    def start(self) -> None:
        """Listen (unless `dead`) and start the synthetic traffic. Raises
        OSError when the port is taken."""
        with self._lock:
            if self._running:
                return
            self._stopping.clear()
            if self._mode is not Mode.DEAD:
                self._open()
            self._running = True
        self._traffic = threading.Thread(
            target=self._generate_traffic, name=f"demo-{self.name}-traffic", daemon=True
        )
        self._traffic.start()

    def stop(self) -> None:
        """Close the listener, stop the traffic, and cut short slow answers."""
        self._stopping.set()
        with self._lock:
            self._running = False
            self._close()
        if self._traffic is not None:
            self._traffic.join(JOIN_TIMEOUT_S)

    def set_mode(self, mode: Mode | str, slow_seconds: float | None = None) -> None:
        """Change how the service behaves. `dead` closes the listener; any
        other mode after `dead` opens it again on the same port (OSError if
        something else took the port meanwhile; the service stays dead)."""
        new = parse_mode(mode)
        seconds = None if slow_seconds is None else check_slow_seconds(slow_seconds)
        with self._lock:
            if seconds is not None:
                self._slow_seconds = seconds
            old, self._mode = self._mode, new
            try:
                if self._running and new is Mode.DEAD:
                    self._close()
                elif self._running:
                    self._open()
            except OSError:
                self._mode = old
                raise

    def _open(self) -> None:
        if self._listener is None:
            self._listener = Listener(self.host, self._port, self.wsgi, self.name)
            self._port = self._listener.port

    def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _generate_traffic(self) -> None:
        while True:
            request = synthetic_request(self._mode, self._slow_seconds, self._rng)
            if request is not None:
                self.metrics.observe(request.seconds, request.code)
            if self._stopping.wait(self._traffic_interval_s):
                return

    # --- control ------------------------------------------------------------

    def state(self) -> ServiceState:
        state = ServiceState(
            service=self.name, url=self.url, mode=str(self._mode), slow_seconds=self._slow_seconds
        )
        if self.canary is not None:
            state["subscriptions_expired"] = self.canary.subscriptions_expired
        return state

    def apply_mode(self, body: Any) -> ServiceState:
        """`{"mode": "slow", "slow_seconds": 5}` from a control request."""
        if not isinstance(body, dict) or "mode" not in body:
            raise ValueError('send {"mode": "<mode>"}, optionally with "slow_seconds"')
        if unknown := set(body) - {"mode", "slow_seconds"}:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        self.set_mode(body["mode"], body.get("slow_seconds"))
        return self.state()

    def apply_flags(self, body: Any) -> ServiceState:
        """`{"subscriptions_expired": true}` from a control request (payments only)."""
        if self.canary is None:
            raise ValueError(f"{self.name} has no flags (only payments does)")
        if not isinstance(body, dict) or set(body) != {"subscriptions_expired"}:
            raise ValueError('send {"subscriptions_expired": true} or false')
        if not isinstance(body["subscriptions_expired"], bool):
            raise ValueError("subscriptions_expired must be true or false")
        self.canary.subscriptions_expired = body["subscriptions_expired"]
        return self.state()

    def control(self, action: str, request: Request) -> Response:
        """`GET ""` (the state), `POST mode`, `POST flags`: the control API,
        served both under this service's `/_sim` and by the control server."""
        appliers = {"mode": self.apply_mode, "flags": self.apply_flags}
        if action == "":
            if request.method not in ("GET", "HEAD"):
                return json_response({"error": "use GET"}, 405)
            return json_response(self.state())
        if action not in appliers:
            return json_response({"error": f"no control {action!r} (use mode or flags)"}, 404)
        if request.method != "POST":
            return json_response({"error": "use POST"}, 405)
        try:
            return json_response(appliers[action](read_json(request)))
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return json_response({"error": f"could not listen again: {reason}"}, 409)

    # --- the service itself -------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """The WSGI entry point the listener serves."""
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/metrics":
            return self._metrics()
        if request.path == "/_sim" or request.path.startswith("/_sim/"):
            return self.control(request.path.removeprefix("/_sim").strip("/"), request)
        started = time.monotonic()
        mode = self._mode
        if mode is Mode.SLOW:
            self._stopping.wait(self._slow_seconds)
        if mode in (Mode.DOWN, Mode.DEAD):
            # `dead` here is a request that raced the listener's closing.
            response = json_response({"status": "error"}, 503)
        else:
            response = self._route(request)
        self.metrics.observe(time.monotonic() - started, response.status_code)
        return response

    def set_metrics_dead(self, dead: bool) -> None:
        """Blind Prometheus whatever the mode: the replayed outage slows a
        service and kills its exporter at once."""
        self._metrics_dead = dead

    def _metrics(self) -> Response:
        if self._mode is Mode.METRICS_DEAD or self._metrics_dead:
            return Response("metrics exporter is down (simulated)\n", 503, mimetype="text/plain")
        return Response(self.metrics.exposition(), content_type=METRICS_CONTENT_TYPE)

    def _route(self, request: Request) -> Response:
        routes: dict[str, dict[str, Handler]] = {"/healthz": {"GET": _healthy}}
        if self.canary is not None:
            routes["/login"] = {"POST": self._log_in}
            routes["/subscriptions/canary"] = {"GET": self._subscription}
        methods = routes.get(request.path)
        if methods is None:
            return json_response({"error": "not found"}, 404)
        method = "GET" if request.method == "HEAD" else request.method
        if method not in methods:
            return json_response({"error": f"use {', '.join(methods)}"}, 405)
        return methods[method](request)

    def _log_in(self, request: Request) -> Response:
        assert self.canary is not None
        try:
            body = read_json(request)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        if not isinstance(body, dict):
            return json_response({"error": 'send {"user": ..., "password": ...}'}, 400)
        token = self.canary.log_in(body.get("user"), body.get("password"))
        if token is None:
            return json_response({"error": "wrong user or password"}, 401)
        return json_response({"token": token})

    def _subscription(self, request: Request) -> Response:
        assert self.canary is not None
        if not self.canary.holds_token(request.headers.get("Authorization")):
            return json_response({"error": "log in first (Authorization: Bearer <token>)"}, 401)
        return json_response({"status": self.canary.subscription_status()})


def _healthy(request: Request) -> Response:
    return json_response({"status": "ok"})
