"""The Flask app factory. It receives the config, the store and the clock;
tests pass their own."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.store import Store
from statuspage.web import (
    admin,
    api_components,
    api_v1,
    assets,
    cache,
    filters,
    ops,
    public,
    security,
    subscribe,
)
from statuspage.web.api_v2 import bp as api_v2_bp
from statuspage.web.metrics import bp as metrics_bp


def asset_dir(name: str) -> Path:
    """`templates` or `static`: inside the package when installed from a
    wheel, beside it in a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"cannot find the {name} folder next to {package}")


def create_app(config: Config, store: Store, clock: Clock = utc_now) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
        static_url_path="/static",
    )
    app.config.update(
        MAX_CONTENT_LENGTH=1_000_000,
        JSON_SORT_KEYS=False,
    )
    app.extensions["statuspage"] = {"config": config, "store": store, "clock": clock}
    filters.register(app, config)
    security.install(app)
    assets.install(app)  # versioned /static addresses, kept a year
    app.register_blueprint(public.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(api_components.bp)
    app.register_blueprint(api_v2_bp)
    admin.install(app)
    subscribe.install(app)  # after admin: it exempts one-click unsubscribe from CSRF
    cache.install(app)
    return app
