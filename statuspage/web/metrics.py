"""`/metrics` for Prometheus, from a registry that belongs to the app.

Public by default, like most exporters. The config's `metrics:` section may
restrict it with an allow-list of client networks (403 outside them) and
basic auth (401 with a challenge). The client address is
`request.remote_addr`: behind a reverse proxy, wrap the app in werkzeug's
ProxyFix so that it is the scraper's, not the proxy's.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from statuspage.metrics import OutboxCollector, StoreCollector
from statuspage.metrics_settings import BasicAuth, MetricsSettings

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

EXTENSION = "statuspage.metrics"

__all__ = ["BasicAuth", "MetricsSettings", "bp", "metrics_registry", "metrics_settings"]


def metrics_settings(config: Any) -> MetricsSettings:
    """The `metrics:` section of the config, whatever form it takes there
    (missing, a `MetricsSettings`, or a plain mapping)."""
    raw = getattr(config, "metrics", None)
    if raw is None:
        return MetricsSettings()
    if isinstance(raw, MetricsSettings):
        return raw
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump()
    return MetricsSettings.model_validate(raw)


def metrics_registry(app: Flask) -> CollectorRegistry:
    """The app's own registry: register more collectors in it (the
    scheduler's, when it runs in this process)."""
    registry: CollectorRegistry = app.extensions[EXTENSION]["registry"]
    return registry


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = state.app
    store = app.extensions["statuspage"]["store"]
    registry = CollectorRegistry()
    registry.register(StoreCollector(store))
    registry.register(OutboxCollector(store))
    settings = metrics_settings(app.extensions["statuspage"]["config"])
    app.extensions[EXTENSION] = {"registry": registry, "settings": settings}


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    extension = current_app.extensions[EXTENSION]
    settings: MetricsSettings = extension["settings"]
    if not settings.allows_address(request.remote_addr):
        return _plain("metrics are not served to this address\n", 403)
    auth = request.authorization
    username = auth.username if auth and auth.type == "basic" else None
    password = auth.password if auth and auth.type == "basic" else None
    if not settings.accepts_credentials(username, password):
        answer = _plain("metrics need a username and password\n", 401)
        answer.headers["WWW-Authenticate"] = 'Basic realm="statuspage metrics", charset="UTF-8"'
        return answer
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    try:
        body = encoder(extension["registry"])
    except Exception as exc:  # the database, most likely: a failed scrape says so
        log.exception("could not collect metrics")
        return _plain(f"could not collect metrics ({type(exc).__name__})\n", 503)
    answer = Response(body, content_type=content_type)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _plain(text: str, status: int) -> Response:
    answer = Response(text, status=status, content_type="text/plain; charset=utf-8")
    answer.headers["Cache-Control"] = "no-store"
    return answer
