"""Shared fixtures: a fake clock, databases (SQLite and PostgreSQL), configs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from statuspage.store import Store

POSTGRES_URL = os.environ.get(
    "STATUSPAGE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class FakeClock:
    """An injected clock that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 9, 15, 5, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self.now += timedelta(seconds=seconds, **kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def session_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key that signs admin sessions. An app on PostgreSQL refuses to
    start without one (on SQLite it would make one beside the database)."""
    monkeypatch.setenv("STATUSPAGE_SECRET_KEY", "test-session-key-" + "k" * 32)


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL, dropped afterwards; skipped
    (with the reason) when PostgreSQL cannot be reached."""
    schema = f"sp_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(exc).__name__}: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Each store test runs on both backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'statuspage.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'statuspage.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    s = Store(database_url)
    s.upgrade()
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    s = Store(sqlite_url)
    s.upgrade()
    yield s
    s.close()


def _monitored_config(timezone: str = "UTC"):  # type: ignore[no-untyped-def]
    """Two components with http checks: 30 s interval, 2 to go down, 2 to
    come back, stale after 3 intervals (90 s). `payments` has two checks."""
    from statuspage.config import parse_config

    return parse_config(
        {
            "site": {"title": "Acme Status", "timezone": timezone},
            "defaults": {"interval": "30s", "confirm_down": 2, "confirm_up": 2, "stale_after": 3},
            "components": [
                {
                    "id": "api",
                    "name": "API",
                    "checks": [
                        {"name": "health", "type": "http", "url": "http://api.test/healthz"}
                    ],
                },
                {
                    "id": "payments",
                    "name": "Payments",
                    "checks": [
                        {"name": "health", "type": "http", "url": "http://payments.test/healthz"},
                        {"name": "canary", "type": "http", "url": "http://payments.test/canary"},
                    ],
                },
            ],
        },
        env={},
    )


@pytest.fixture
def monitor_config():  # type: ignore[no-untyped-def]
    """The config the monitor and page tests share (see `_monitored_config`)."""
    return _monitored_config()


@pytest.fixture
def make_monitor_config():  # type: ignore[no-untyped-def]
    """`_monitored_config` itself, for a test that needs another time zone."""
    return _monitored_config


# A real Prometheus scraping a steerable exporter (integration tests).
from tests.prometheus_server import prometheus_server, shared_prometheus  # noqa: E402, F401
