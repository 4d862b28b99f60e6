"""`/history`: published incidents by month of the page's time zone,
three months a page, and a `page` parameter that is checked, not trusted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from statuspage.config import parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.web import create_app
from statuspage.web.history import BadPage, parse_page_number
from tests.conftest import FakeClock

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(sqlite_store: Store) -> Flask:
    config = parse_config(
        {
            "site": {"title": "Acme Status", "timezone": "Europe/Berlin"},
            "components": [{"id": "payments", "name": "Payments"}],
        },
        env={},
    )
    clock = FakeClock(NOW)
    Monitor(config, sqlite_store, clock).start()
    app = create_app(config, sqlite_store, clock)
    app.testing = True
    return app


def incident(
    store: Store,
    name: str,
    started: datetime,
    lasted: timedelta | None = None,
    publish: bool = True,
    impact: IncidentImpact = IncidentImpact.MAJOR,
) -> str:
    repo = IncidentRepository(store)
    with store.transaction() as conn:
        incident_id = repo.create(
            conn,
            name=name,
            status=IncidentStatus.INVESTIGATING,
            impact=impact,
            components={"payments": ComponentStatus.MAJOR_OUTAGE},
            body=f"{name}: investigating.",
            author="user:alice",
            now=started,
            publish=publish,
            display_at=started,
        )
        if lasted is not None:
            repo.resolve(
                conn,
                incident_id,
                body=f"{name}: fixed.",
                author="user:alice",
                now=started + lasted,
                display_at=started + lasted,
            )
    return incident_id


def months_shown(html: str) -> list[str]:
    return re.findall(r"<h2 id=\"m-[\d-]+\">([^<]+)</h2>", html)


def names_shown(html: str) -> list[str]:
    return re.findall(r'href="/incidents/[^"]+">([^<]+)</a>', html)


def test_incidents_are_grouped_by_month_newest_first(app: Flask, sqlite_store: Store) -> None:
    incident(sqlite_store, "Old one", datetime(2026, 7, 3, 10, tzinfo=UTC), timedelta(minutes=45))
    incident(sqlite_store, "Newer", datetime(2026, 9, 2, 10, tzinfo=UTC), timedelta(hours=2))
    incident(sqlite_store, "Newest", datetime(2026, 9, 10, 10, tzinfo=UTC))
    incident(sqlite_store, "Draft", datetime(2026, 9, 11, 10, tzinfo=UTC), publish=False)

    html = app.test_client().get("/history").get_data(as_text=True)

    assert months_shown(html) == ["September 2026", "August 2026", "July 2026"]
    assert names_shown(html) == ["Newest", "Newer", "Old one"]
    assert "No incidents reported this month." in html  # August
    assert "Draft" not in html
    assert "lasted 2 h" in html and "lasted 45 min" in html and "ongoing" in html
    assert "Impact: Major" in html
    assert "Newer: fixed." in html  # the last update, not the first
    assert "Newer: investigating." not in html
    assert "user:alice" not in html
    assert "Older" not in html and "Newer &larr;" not in html


def test_months_follow_the_page_time_zone(app: Flask, sqlite_store: Store) -> None:
    # 22:30 UTC on Aug 31 is 00:30 on Sep 1 in Berlin.
    incident(sqlite_store, "Midnight", datetime(2026, 8, 31, 22, 30, tzinfo=UTC))

    html = app.test_client().get("/history").get_data(as_text=True)

    september = html[html.index("September 2026") : html.index("August 2026")]
    assert "Midnight" in september


def test_pages_hold_three_months_with_older_and_newer_links(
    app: Flask, sqlite_store: Store
) -> None:
    incident(sqlite_store, "June", datetime(2026, 6, 10, tzinfo=UTC))
    incident(sqlite_store, "January", datetime(2026, 1, 10, tzinfo=UTC))
    client = app.test_client()

    first = client.get("/history").get_data(as_text=True)
    second = client.get("/history?page=2").get_data(as_text=True)
    third = client.get("/history?page=3").get_data(as_text=True)

    assert names_shown(first) == []
    assert 'href="/history?page=2">Older' in first
    assert months_shown(second) == ["June 2026", "May 2026", "April 2026"]
    assert names_shown(second) == ["June"]
    assert 'rel="prev" href="/history">' in second
    assert 'href="/history?page=3">Older' in second
    assert months_shown(third) == ["March 2026", "February 2026", "January 2026"]
    assert 'href="/history?page=2">' in third
    assert "Older" not in third
    assert client.get("/history?page=4").status_code == 404


def test_an_empty_history_has_one_page(app: Flask) -> None:
    client = app.test_client()

    response = client.get("/history")

    assert response.status_code == 200
    assert months_shown(response.get_data(as_text=True)) == [
        "September 2026",
        "August 2026",
        "July 2026",
    ]
    assert client.get("/history?page=2").status_code == 404


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("page=0", "whole number from 1"),
        ("page=-1", "whole number from 1"),
        ("page=abc", "whole number from 1"),
        ("page=1.5", "whole number from 1"),
        ("page=", "whole number from 1"),
        ("page=%EF%BC%92", "whole number from 1"),  # a full-width digit two
        ("page=99999999999999999999", "whole number from 1"),
        ("page[]=1", "unknown parameter"),
        ("page[0]=1&page=1", "unknown parameter"),
        ("page=1&page=2", "more than once"),
    ],
)
def test_a_bad_page_is_400_with_the_reason(app: Flask, query: str, reason: str) -> None:
    response = app.test_client().get(f"/history?{query}")

    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_page_number_parsing() -> None:
    assert parse_page_number({}) == 1
    assert parse_page_number({"page": ["7"], "utm_source": ["x"]}) == 7
    with pytest.raises(BadPage, match="more than once"):
        parse_page_number({"page": ["1", "1"]})
