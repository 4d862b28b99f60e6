"""`/history`: published incidents by month of the page's time zone,
newest month first, a few months per page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.incidents import IncidentRepository
from statuspage.web.incidentview import IncidentCard, card

MONTHS_PER_PAGE = 3
MAX_PAGE_DIGITS = 6


class BadPage(ValueError):
    """A `page` parameter that is not a page number; the text says why."""


@dataclass(frozen=True)
class Month:
    first_day: date
    incidents: list[IncidentCard]  # newest first


@dataclass(frozen=True)
class HistoryPage:
    number: int
    months: list[Month]  # newest first
    newer: int | None  # page numbers for the links, None: no such page
    older: int | None


def parse_page_number(args: Mapping[str, list[str]]) -> int:
    """The page asked for, from the query's values per key (every value,
    so `?page=1&page=2` and `?page[]=1` are refused, not guessed at)."""
    for key in args:
        if key != "page" and key.startswith("page"):
            raise BadPage(f"unknown parameter {key!r}: use page=N")
    values = args.get("page", [])
    if not values:
        return 1
    if len(values) > 1:
        raise BadPage("page is given more than once")
    text = values[0]
    if not text.isascii() or not text.isdigit() or len(text) > MAX_PAGE_DIGITS:
        raise BadPage("page must be a whole number from 1")
    number = int(text)
    if number < 1:
        raise BadPage("page must be a whole number from 1")
    return number


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def history_page(
    store: Store, number: int, now: datetime, tz: ZoneInfo, names: dict[str, str]
) -> HistoryPage | None:
    """Page `number` (1 = this month and the two before), or None when the
    page lies before the oldest published incident."""
    newest = month_index(now.astimezone(tz).date()) - (number - 1) * MONTHS_PER_PAGE
    oldest = newest - MONTHS_PER_PAGE + 1
    first_incident = _oldest_published(store)
    first_month = (
        month_index(first_incident.astimezone(tz).date()) if first_incident is not None else None
    )
    if number > 1 and (first_month is None or first_month > newest):
        return None
    start = local_midnight(month_start(oldest), tz)
    end = local_midnight(month_start(newest + 1), tz)
    repo = IncidentRepository(store)
    months: dict[int, list[IncidentCard]] = {i: [] for i in range(newest, oldest - 1, -1)}
    for incident_id in _published_between(store, start, end):
        row = repo.get(incident_id)
        if row is None:  # deleted meanwhile
            continue
        months[month_index(row.created_at.astimezone(tz).date())].append(card(store, row, names))
    return HistoryPage(
        number=number,
        months=[Month(month_start(i), cards) for i, cards in months.items()],
        newer=number - 1 if number > 1 else None,
        older=number + 1 if first_month is not None and first_month < oldest else None,
    )


def _oldest_published(store: Store) -> datetime | None:
    i = t.incidents
    with store.engine.connect() as conn:
        found: datetime | None = conn.execute(
            select(func.min(i.c.created_at)).where(i.c.published_at.is_not(None))
        ).scalar()
    return found


def _published_between(store: Store, start: datetime, end: datetime) -> list[str]:
    """Ids of the published incidents that started in [start, end), newest first."""
    i = t.incidents
    query = (
        select(i.c.id)
        .where(i.c.published_at.is_not(None), i.c.created_at >= start, i.c.created_at < end)
        .order_by(i.c.created_at.desc(), i.c.id)
    )
    with store.engine.connect() as conn:
        return [row.id for row in conn.execute(query)]
