"""The web app for a WSGI server: `statuspage web`, or gunicorn directly.

    STATUSPAGE_CONFIG=/etc/statuspage/statuspage.yaml \\
        gunicorn -c deploy/gunicorn.conf.py 'statuspage.wsgi:create_app()'

A web process serves pages and APIs from the database and never runs a
check: the scheduler (`statuspage scheduler`) does, elsewhere. It does not
migrate the database either; `statuspage web` does that once, in the
gunicorn master, before the workers start.

Behind a reverse proxy, set `STATUSPAGE_PROXY_HOPS` to the number of
proxies that add `X-Forwarded-For`/`-Proto`, so that login throttling and
the `/metrics` allow-list see the visitor's address, not the proxy's.
"""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from statuspage.clock import utc_now
from statuspage.config import load_config
from statuspage.store import Store
from statuspage.web import create_app as create_web_app

CONFIG_ENV = "STATUSPAGE_CONFIG"
PROXY_HOPS_ENV = "STATUSPAGE_PROXY_HOPS"


class MissingConfig(RuntimeError):
    pass


def config_path_from_env() -> str:
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise MissingConfig(f"set {CONFIG_ENV} to the path of the statuspage config file")
    return path


def create_app(config_path: str | None = None, proxy_hops: int | None = None) -> Flask:
    """The Flask app for one web process, from the config file at
    `config_path` (default: $STATUSPAGE_CONFIG). Raises `ConfigError` for a
    bad config, naming every problem."""
    config = load_config(config_path or config_path_from_env())
    store = Store(config.database_url())
    app = create_web_app(config, store, utc_now)
    hops = proxy_hops if proxy_hops is not None else int(os.environ.get(PROXY_HOPS_ENV) or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )
    return app
