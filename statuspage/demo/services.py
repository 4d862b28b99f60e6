"""The five simulated services of `statuspage demo`, and their control server.

The names are those of the seed outage in DESIGN.md: `api` got slow,
`payments` expired every subscription while its health stayed 200, and
`projects`, `providers` and `notifications` stayed fine.

    with SimulatedServices() as services:
        services.url("api")                  # http://127.0.0.1:41234
        services.set_mode("api", "slow")
        services.control_url                 # curl it to break and mend by hand
"""

from __future__ import annotations

from types import TracebackType

from statuspage.demo.canary import CanaryAccount
from statuspage.demo.control import ControlApp
from statuspage.demo.service import (
    DEFAULT_SLOW_SECONDS,
    TRAFFIC_INTERVAL_S,
    Mode,
    ServiceState,
    SimulatedService,
)
from statuspage.demo.wsgi import Listener

SERVICE_NAMES = ("api", "payments", "projects", "providers", "notifications")
DEFAULT_CANARY_USER = "canary"
DEFAULT_CANARY_PASSWORD = "canary-password"  # noqa: S105 (a demo account on loopback)


class SimulatedServices:
    """Five services on loopback and one control server.

    Ports are picked free by the OS unless `base_port` is given; then the
    services take `base_port` .. `base_port + 4` in `SERVICE_NAMES` order
    and the control server `base_port + 5`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        *,
        canary_user: str = DEFAULT_CANARY_USER,
        canary_password: str = DEFAULT_CANARY_PASSWORD,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
        traffic_interval_s: float = TRAFFIC_INTERVAL_S,
    ) -> None:
        self.host = host
        self.canary = CanaryAccount(canary_user, canary_password)
        self._base_port = base_port
        self._slow_seconds = slow_seconds
        self._services = {
            name: SimulatedService(
                name,
                host,
                self._port_for(index),
                slow_seconds=slow_seconds,
                canary=self.canary if name == "payments" else None,
                traffic_interval_s=traffic_interval_s,
            )
            for index, name in enumerate(SERVICE_NAMES)
        }
        self._control: Listener | None = None

    def _port_for(self, index: int) -> int:
        return 0 if self._base_port is None else self._base_port + index

    def start(self) -> SimulatedServices:
        """Start every service and the control server. Raises OSError (with
        nothing left running) when a port is taken."""
        try:
            for service in self._services.values():
                service.start()
            control_port = self._port_for(len(SERVICE_NAMES))
            self._control = Listener(self.host, control_port, ControlApp(self._services), "control")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything; safe to call twice."""
        if self._control is not None:
            self._control.close()
            self._control = None
        for service in self._services.values():
            service.stop()

    def __enter__(self) -> SimulatedServices:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- lookups ------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return SERVICE_NAMES

    def service(self, name: str) -> SimulatedService:
        """The service called `name`; KeyError naming the known ones otherwise."""
        try:
            return self._services[name]
        except KeyError:
            raise KeyError(f"no service {name!r} (known: {', '.join(SERVICE_NAMES)})") from None

    def url(self, name: str) -> str:
        """Base URL of a service, e.g. `http://127.0.0.1:41234` (no trailing /)."""
        return self.service(name).url

    def urls(self) -> dict[str, str]:
        return {name: service.url for name, service in self._services.items()}

    def targets(self) -> dict[str, str]:
        """`host:port` per service, as Prometheus's static targets want them."""
        return {
            name: service.url.removeprefix("http://") for name, service in self._services.items()
        }

    @property
    def control_url(self) -> str:
        if self._control is None:
            raise RuntimeError("the services are not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._control.port}"

    # --- changes ------------------------------------------------------------

    def mode(self, name: str) -> Mode:
        return self.service(name).mode

    def set_mode(self, name: str, mode: Mode | str, slow_seconds: float | None = None) -> None:
        """Break or mend a service; see `Mode`. ValueError for an unknown mode."""
        self.service(name).set_mode(mode, slow_seconds)

    def set_subscriptions_expired(self, expired: bool) -> None:
        """Replay the seed outage: payments says every subscription expired
        while its health endpoint still answers 200."""
        self.canary.subscriptions_expired = expired

    def set_metrics_dead(self, dead: bool) -> None:
        """Every exporter stops (or resumes) answering Prometheus."""
        for service in self._services.values():
            service.set_metrics_dead(dead)

    def reset(self) -> None:
        """Every service healthy again, subscriptions active."""
        for service in self._services.values():
            service.set_mode(Mode.HEALTHY, self._slow_seconds)
            service.set_metrics_dead(False)
        self.canary.subscriptions_expired = False

    def states(self) -> dict[str, ServiceState]:
        return {name: service.state() for name, service in self._services.items()}
