"""Putting the parts together: the all-in-one process behind `run` and `demo`."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from flask import Flask
from waitress.server import create_server

from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.monitor import Monitor
from statuspage.scheduler import CheckScheduler
from statuspage.store import Store
from statuspage.web import create_app
from statuspage.web.metrics import metrics_registry

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything one `run` process holds, so it can be stopped in order."""

    config: Config
    store: Store
    monitor: Monitor
    scheduler: CheckScheduler
    app: Flask

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.store.close()


def start_services(config: Config, clock: Clock = utc_now) -> Services:
    """Open the store (migrating it), start the monitor and the scheduler,
    and build the web app. The caller serves the app."""
    store = Store(config.database_url())
    store.upgrade()
    monitor = Monitor(config, store, clock)
    monitor.start()
    scheduler = CheckScheduler(config, monitor, clock)
    scheduler.start()
    app = create_app(config, store, clock)
    metrics_registry(app).register(scheduler.metrics)
    return Services(config, store, monitor, scheduler, app)


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
