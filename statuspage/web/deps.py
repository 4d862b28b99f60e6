"""Access to the objects the app factory was given, inside a request."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from statuspage.config import Config
from statuspage.store import Store


def config() -> Config:
    return current_app.extensions["statuspage"]["config"]


def store() -> Store:
    return current_app.extensions["statuspage"]["store"]


def now() -> datetime:
    return current_app.extensions["statuspage"]["clock"]()
