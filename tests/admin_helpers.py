"""Shared pieces of the admin page tests: an app with monitored components
(`payments`, `api`), its monitor, and logged-in clients."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from statuspage.config import Config
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from tests.conftest import FakeClock
from tests.test_admin_auth import add_user, logged_in


@dataclass
class Site:
    app: Flask
    monitor: Monitor
    store: Store
    clock: FakeClock

    def client(self, name: str, role: str) -> FlaskClient:
        add_user(self.store, self.clock, name, role)
        return logged_in(self.app, name)


def make_site(config: Config, store: Store, clock: FakeClock) -> Site:
    monitor = Monitor(config, store, clock)
    monitor.start()
    app = create_app(config, store, clock)
    app.testing = True
    return Site(app, monitor, store, clock)


def public_status(client: FlaskClient, component_id: str) -> str:
    """The status class a component shows on the public page."""
    import re

    html = client.get("/").get_data(as_text=True)
    found = re.search(
        rf'id="component-{component_id}".*?class="status s-([a-z_]+)"', html, re.DOTALL
    )
    assert found, f"{component_id} is not on the page"
    return found.group(1)
