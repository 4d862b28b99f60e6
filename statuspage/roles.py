"""The commands for several machines: `web`, `scheduler`, `worker`, and
`backup`.

`statuspage run` is all of it in one process. Past one machine the roles
run apart and share PostgreSQL:

- `web`: the pages and APIs under gunicorn, as many as needed; never a check;
- `scheduler`: checks, states, automatic incidents, maintenance transitions,
  retention. Start two or more: one holds the lease, the others stand by;
- `worker`: delivers the notification outbox (emails, webhooks).

Every role migrates the database at start under a lock (a new version can
be rolled out role by role), and waits for the database while it cannot be
reached instead of crashing.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click

from statuspage.clock import utc_now
from statuspage.config import Config
from statuspage.lease import SchedulerAlreadyRunning, lease_for, migrate
from statuspage.logs import configure_logging
from statuspage.store import Store

log = logging.getLogger(__name__)

# Waiting for the database at start: first retry after this, doubling up to the cap.
DB_RETRY_FIRST = timedelta(seconds=1)
DB_RETRY_CAP = timedelta(seconds=15)

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="statuspage.yaml",
    show_default=True,
    help="The YAML config file.",
)


def _load(config_path: Path, role: str) -> Config:
    from statuspage.cli import load_or_exit

    config = load_or_exit(config_path)
    configure_logging(config.logging, config.secrets, role=role)
    return config


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def wait_for_database(store: Store, stop: threading.Event) -> bool:
    """Migrate the database, retrying while it cannot be reached. False
    when asked to stop first."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    delay = DB_RETRY_FIRST.total_seconds()
    while not stop.is_set():
        try:
            migrate(store)
            return True
        except (OperationalError, InterfaceError) as exc:
            first = str(exc.orig or exc).strip().splitlines()[0:1]
            log.warning(
                "the database cannot be reached (%s); retrying in %ds",
                first[0] if first else type(exc).__name__,
                delay,
            )
        stop.wait(delay)
        delay = min(delay * 2, DB_RETRY_CAP.total_seconds())
    return False


@click.command("web")
@config_option
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=None, help="gunicorn worker processes [2]."
)
@click.option(
    "--proxy-hops",
    type=click.IntRange(0, 5),
    default=None,
    help="Reverse proxies in front that set X-Forwarded-For (nginx: 1).",
)
@click.option(
    "--gunicorn-config",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A gunicorn config file (e.g. deploy/gunicorn.conf.py); --host/--port/--workers win.",
)
def web_command(
    config_path: Path,
    host: str | None,
    port: int | None,
    workers: int | None,
    proxy_hops: int | None,
    gunicorn_config: str | None,
) -> None:
    """Serve the page and the APIs under gunicorn; never runs checks."""
    from statuspage.config import ConfigError
    from statuspage.webserver import serve_web
    from statuspage.wsgi import create_app

    config = _load(config_path, "web")
    store = Store(config.database_url())
    if not wait_for_database(store, stop_on_signals()):
        return
    store.close()
    try:
        # Built once here, so that a missing secret key or an unusable
        # config is said once, not by each worker as it dies.
        probe = create_app(str(config_path))
    except ConfigError as exc:
        raise click.ClickException("; ".join(exc.errors)) from exc
    except Exception as exc:
        raise click.ClickException(f"the web app cannot start: {exc}") from exc
    probe.extensions["statuspage"]["store"].close()
    bind_host = host or config.server.host
    bind = f"[{bind_host}]:{port or config.server.port}" if ":" in bind_host else None
    bind = bind or f"{bind_host}:{port or config.server.port}"
    # gunicorn installs its own signal handlers.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    serve_web(str(config_path), bind, workers, proxy_hops, gunicorn_config)


@click.command("scheduler")
@config_option
@click.option(
    "--shutdown-deadline",
    type=click.IntRange(0, 120),
    default=10,
    show_default=True,
    help="Seconds the running checks get to finish on SIGTERM.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this scheduler's own metrics (check durations, results, lag) "
    "in Prometheus format on this port; the web role serves the rest.",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def scheduler_command(
    config_path: Path, shutdown_deadline: int, metrics_port: int | None, metrics_host: str
) -> None:
    """Run the checks, states, automatic incidents and maintenance.

    Several may run against one PostgreSQL database: one holds the lease
    and runs the checks, the others stand by and take over within seconds
    when it dies. On SQLite a second scheduler is refused.
    """
    from prometheus_client import CollectorRegistry, start_http_server

    from statuspage.leadership import Leadership

    config = _load(config_path, "scheduler")
    stop = stop_on_signals()
    store = Store(config.database_url())
    if not wait_for_database(store, stop):
        return
    leadership = Leadership(config, store, utc_now, lease_for(store))
    try:
        leadership.start()
    except SchedulerAlreadyRunning as exc:
        store.close()
        raise click.ClickException(str(exc)) from exc
    if metrics_port is not None:
        registry = CollectorRegistry()
        registry.register(leadership.metrics)
        start_http_server(metrics_port, addr=metrics_host, registry=registry)
        log.info("scheduler metrics on http://%s:%d/metrics", metrics_host, metrics_port)
    while not stop.wait(1.0):
        pass
    leadership.stop(timedelta(seconds=shutdown_deadline))
    store.close()
    log.info("scheduler stopped")
    if leadership.abandoned:
        exit_now()


def exit_now(code: int = 0) -> NoReturn:
    """End the process without waiting for check threads past their deadline."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.command("worker")
@config_option
def worker_command(config_path: Path) -> None:
    """Deliver the notification outbox (emails and webhooks). Several
    workers may run: each row is claimed by one."""
    config = _load(config_path, "worker")
    try:
        # Imported here: the notification package is optional at import time.
        from statuspage.notify.worker import run_worker
    except ImportError as exc:
        raise click.ClickException(
            f"this build has no outbox worker (statuspage.notify.worker: {exc})"
        ) from exc
    stop = stop_on_signals()
    store = Store(config.database_url())
    if not wait_for_database(store, stop):
        return
    try:
        run_worker(config, store, utc_now, stop)
    finally:
        store.close()
    log.info("worker stopped")


@click.command("backup")
@config_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (SQLite: a database file; PostgreSQL: a pg_dump archive).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def backup_command(config_path: Path, out: Path, force: bool) -> None:
    """Copy the database while it runs (SQLite online backup; pg_dump).

    Restore SQLite by copying the file back over the database while
    statuspage is stopped, PostgreSQL with pg_restore. See docs/deploy.md.
    """
    from statuspage.backup import BackupError, backup
    from statuspage.cli import load_or_exit

    config = load_or_exit(config_path)
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; use --force to replace it")
    started = time.monotonic()
    try:
        report = backup(config.database_url(), out)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"Wrote {report.path} ({report.size_bytes:,} bytes, {report.method}, "
        f"{time.monotonic() - started:.1f}s)."
    )


ROLE_COMMANDS = [web_command, scheduler_command, worker_command, backup_command]
