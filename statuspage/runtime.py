"""Putting the parts together: the all-in-one process behind `run` and `demo`."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from flask import Flask
from waitress.server import create_server

from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.export import start_exporter
from statuspage.leadership import Leadership
from statuspage.lease import Lease, lease_for, migrate
from statuspage.monitor import Monitor
from statuspage.notify.worker import start_worker
from statuspage.scheduler import CheckScheduler
from statuspage.store import Store
from statuspage.web import create_app
from statuspage.web.metrics import metrics_registry

log = logging.getLogger(__name__)

# How long stopping waits for the outbox worker's current send.
WORKER_STOP_S = 30.0


@dataclass
class Services:
    """Everything one `run` process holds, so it can be stopped in order."""

    config: Config
    store: Store
    leadership: Leadership
    app: Flask
    # The outbox worker's thread and the event that stops it.
    worker: threading.Thread | None = None
    worker_stop: threading.Event = field(default_factory=threading.Event)

    @property
    def monitor(self) -> Monitor | None:
        """The running monitor; None while another process holds the lease."""
        return self.leadership.term.monitor if self.leadership.term else None

    @property
    def scheduler(self) -> CheckScheduler | None:
        return self.leadership.term.scheduler if self.leadership.term else None

    def stop(self) -> None:
        """Let running checks finish (up to a deadline), release the lease,
        and let the outbox worker finish the delivery it is sending."""
        self.worker_stop.set()
        self.leadership.stop()
        if self.worker is not None:
            self.worker.join(timeout=WORKER_STOP_S)
        self.store.close()


def start_services(config: Config, clock: Clock = utc_now, lease: Lease | None = None) -> Services:
    """Open the store (migrating it), start the monitor and the scheduler
    (when this process gets the scheduler lease; see `statuspage.lease`),
    and build the web app. The caller serves the app.

    Raises `SchedulerAlreadyRunning` when another process runs the checks
    of this SQLite database."""
    store = Store(config.database_url())
    try:
        migrate(store)
        leadership = Leadership(config, store, clock, lease or lease_for(store))
        leadership.start()
    except BaseException:
        store.close()
        raise
    app = create_app(config, store, clock)
    metrics_registry(app).register(leadership.metrics)
    start_exporter(config, app, threading.Event())  # with export.dir; stops at exit
    services = Services(config, store, leadership, app)
    # Every `run` drains the outbox too; claims keep several from sending twice.
    worker = start_worker(config, store, clock)
    services.worker = threading.Thread(
        target=worker.run_forever, args=(services.worker_stop,), name="outbox", daemon=True
    )
    services.worker.start()
    return services


def serve(
    services: Services,
    host: str,
    port: int,
    on_ready: Callable[[str], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve the app with waitress until SIGINT/SIGTERM (or `stop_event`)."""
    server = create_server(services.app, host=host, port=port, threads=8, ident="statuspage")
    url = f"http://{host}:{server.effective_port}"  # type: ignore[union-attr]
    stopping = threading.Event()

    def stop(signum: int | None = None, frame: FrameType | None = None) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("stopping")
            server.close()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if stop_event is not None:

        def stop_when_asked() -> None:
            stop_event.wait()
            stop()

        threading.Thread(target=stop_when_asked, daemon=True).start()
    if on_ready is not None:
        on_ready(url)
    try:
        server.run()
    except (OSError, ValueError):
        if not stopping.is_set():
            raise
    finally:
        services.stop()
