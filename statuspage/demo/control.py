"""The control server: one port to break and mend every simulated service.

It lives apart from the services so that a `dead` service, which listens
on nothing, can still be brought back:

    curl http://127.0.0.1:<control>/
    curl -X POST http://127.0.0.1:<control>/api/mode -d '{"mode": "slow", "slow_seconds": 90}'
    curl -X POST http://127.0.0.1:<control>/payments/mode -d '{"mode": "dead"}'
    curl -X POST http://127.0.0.1:<control>/payments/flags -d '{"subscriptions_expired": true}'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from statuspage.demo.service import Mode, SimulatedService
from statuspage.demo.wsgi import json_response


class ControlApp:
    """WSGI app: `GET /`, `GET /<service>`, `POST /<service>/mode|flags`."""

    def __init__(self, services: Mapping[str, SimulatedService]) -> None:
        self._services = services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self._dispatch(request)(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        name, _, action = request.path.strip("/").partition("/")
        if not name:
            if request.method not in ("GET", "HEAD"):
                return json_response({"error": "use GET"}, 405)
            return json_response(self.overview())
        service = self._services.get(name)
        if service is None:
            known = ", ".join(self._services)
            return json_response({"error": f"no service {name!r} (known: {known})"}, 404)
        return service.control(action, request)

    def overview(self) -> dict[str, Any]:
        """Every service's state, and how to change it."""
        return {
            "services": {name: service.state() for name, service in self._services.items()},
            "modes": [str(mode) for mode in Mode],
            "usage": {
                "change a mode": 'POST /<service>/mode {"mode": "slow", "slow_seconds": 5}',
                "expire subscriptions": 'POST /payments/flags {"subscriptions_expired": true}',
            },
        }
