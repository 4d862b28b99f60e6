"""`statuspage web`: the Flask app under gunicorn.

The master process migrates the database (under the migration lock) and
builds the app once, so that a bad config or a missing secret key is
reported once, clearly, instead of by every worker as it crashes. Then the
workers (threaded, each its own database pool, made after the fork) serve.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import Application

from statuspage.wsgi import CONFIG_ENV, PROXY_HOPS_ENV, create_app

# Threads per worker: pages are mostly rendered from cache, database reads
# are short, and a thread waiting on the database costs little.
THREADS_PER_WORKER = 4
DEFAULTS: dict[str, Any] = {
    "workers": 2,
    "worker_class": "gthread",
    "threads": THREADS_PER_WORKER,
    "timeout": 30,
    # SIGTERM: requests in flight get this long to finish.
    "graceful_timeout": 20,
    "keepalive": 5,
    "accesslog": None,
    "proc_name": "statuspage-web",
    "logger_class": "statuspage.webserver.GunicornLogger",
}


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines go through the root handler that
    `statuspage.logs` set up: the same format (text or JSON), secrets
    redacted."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not logging.getLogger().handlers:
            _configure_from_env()
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                if getattr(handler, "_gunicorn", False):
                    log.removeHandler(handler)
            log.propagate = True


def _configure_from_env() -> None:
    """gunicorn started directly: take the log settings from the config."""
    from statuspage.config import load_config
    from statuspage.logs import configure_logging

    path = os.environ.get(CONFIG_ENV)
    if not path:
        configure_logging(role="web")
        return
    try:
        config = load_config(path)
    except Exception:
        configure_logging(role="web")
        return
    configure_logging(config.logging, config.secrets, role="web")


class WebServer(Application):
    """gunicorn, configured from our defaults, then an optional gunicorn
    config file, then the options given on the command line."""

    def __init__(self, options: dict[str, Any], gunicorn_config: str | None = None) -> None:
        self.options = options
        self.gunicorn_config = gunicorn_config
        super().__init__(usage=None, prog="statuspage web")

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        return None

    def load_config(self) -> None:
        for key, value in DEFAULTS.items():
            self.cfg.set(key, value)
        if self.gunicorn_config:
            self.load_config_from_file(self.gunicorn_config)
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def serve_web(
    config_path: str,
    bind: str | None,
    workers: int | None,
    proxy_hops: int | None,
    gunicorn_config: str | None,
) -> None:
    """Run gunicorn in this process until SIGTERM/SIGINT."""
    os.environ[CONFIG_ENV] = os.path.abspath(config_path)
    if proxy_hops is not None:
        os.environ[PROXY_HOPS_ENV] = str(proxy_hops)
    options: dict[str, Any] = {}
    if bind is not None:
        options["bind"] = [bind]
    if workers is not None:
        options["workers"] = workers
    WebServer(options, gunicorn_config).run()
