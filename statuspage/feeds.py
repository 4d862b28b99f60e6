"""RSS 2.0 and Atom feeds of the page's incidents and maintenance.

Pure apart from feedgen: the web layer reads the rows, this module turns
them into entries and bytes. Every link and id is built from the configured
`site.url`, never from a request, so a feed fetched with a forged `Host`
header points where the page really lives, and an entry keeps its id across
restarts, workers and exports (incident: its page's URL; maintenance, which
has no page of its own: a `tag:` URI of the site and the maintenance id).

Entry content is HTML: per update, newest first, the status word and time
(escaped here) and the body through `render_markdown` (sanitised by nh3).
Authors of updates are staff and never appear. XML escaping is lxml's: no
CDATA sections are written, so `]]>` in a text cannot end one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from statuspage.markdown import render_markdown
from statuspage.store.incident_rows import IncidentRow, UpdateRow
from statuspage.store.maintenance_records import Maintenance

MAX_ENTRIES = 50
RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"
ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
GENERATOR = "statuspage"
TIME_FORMAT = "%b %d, %Y %H:%M %Z"

# Characters XML 1.0 cannot carry at all (lxml refuses them): a title with
# a stray control character must not take the whole feed down.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def status_word(value: object) -> str:
    """`investigating` -> `Investigating`, `in_progress` -> `In progress`."""
    text = str(getattr(value, "value", value)).replace("_", " ")
    return text[:1].upper() + text[1:]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True)
class FeedUpdate:
    """One update as a feed shows it: no author, no internal fields."""

    status: str  # the word, e.g. "Identified"
    at: datetime  # when it happened (display time)
    body: str  # Markdown as written


@dataclass(frozen=True)
class FeedEntry:
    id: str
    permalink: bool  # the id is also the entry's page
    title: str
    link: str
    published: datetime
    updated: datetime
    updates: tuple[FeedUpdate, ...]  # newest first
    postmortem: str | None = None  # Markdown, when published


@dataclass(frozen=True)
class FeedInfo:
    """The feed itself: title, the page it follows, its own addresses."""

    title: str
    subtitle: str
    author: str  # the site's title: the page speaks, never a person
    page_url: str  # the HTML page (alternate link, and the feed's id)
    rss_url: str
    atom_url: str


# --- addresses ---------------------------------------------------------------


def incident_url(site_url: str, incident_id: str) -> str:
    return f"{site_url}/incidents/{incident_id}"


def maintenance_id(site_url: str, maintenance: Maintenance) -> str:
    """`tag:status.example.com,2026-09-15:/maintenance/<id>` (RFC 4151): the
    host and path of `site.url`, the day the maintenance was entered."""
    parts = urlsplit(site_url)
    host = (parts.hostname or "localhost").lower()
    day = _utc(maintenance.created_at).date().isoformat()
    return f"tag:{host},{day}:{parts.path}/maintenance/{maintenance.id}"


def page_feed_info(site_title: str, site_url: str) -> FeedInfo:
    return FeedInfo(
        title=f"{site_title} - incident history",
        subtitle=f"Incidents and maintenance of {site_title}",
        author=site_title,
        page_url=f"{site_url}/history",
        rss_url=f"{site_url}/history.rss",
        atom_url=f"{site_url}/history.atom",
    )


def component_feed_info(
    site_title: str, site_url: str, component_id: str, component_name: str
) -> FeedInfo:
    base = f"{site_url}/components/{component_id}"
    return FeedInfo(
        title=f"{site_title} - {component_name}",
        subtitle=f"Incidents and maintenance affecting {component_name} ({site_title})",
        author=site_title,
        page_url=base,
        rss_url=f"{base}/history.rss",
        atom_url=f"{base}/history.atom",
    )


# --- entries -----------------------------------------------------------------


def incident_entry(site_url: str, incident: IncidentRow, updates: Sequence[UpdateRow]) -> FeedEntry:
    """A published incident; `updates` in any order (shown newest first)."""
    if incident.published_at is None:
        raise ValueError("a draft incident has no place in a feed")
    ordered = sorted(updates, key=lambda u: (u.display_at, u.created_at), reverse=True)
    published = _utc(incident.created_at)
    postmortem = incident.postmortem_body if incident.postmortem_published_at else None
    changes = [_utc(u.created_at) for u in ordered]
    if postmortem and incident.postmortem_published_at:
        changes.append(_utc(incident.postmortem_published_at))
    url = incident_url(site_url, incident.id)
    return FeedEntry(
        id=url,
        permalink=True,
        title=incident.name,
        link=url,
        published=published,
        updated=max([published, *changes]),
        updates=tuple(
            FeedUpdate(status_word(u.status), _utc(u.display_at), u.body) for u in ordered
        ),
        postmortem=postmortem,
    )


def maintenance_entry(site_url: str, maintenance: Maintenance) -> FeedEntry:
    """A maintenance window; it has no page of its own, so it links to the
    status page, where it shows while upcoming or in progress."""
    ordered = sorted(maintenance.updates, key=lambda u: (u.display_at, u.created_at), reverse=True)
    changes = [_utc(u.created_at) for u in ordered]
    return FeedEntry(
        id=maintenance_id(site_url, maintenance),
        permalink=False,
        title=f"Maintenance: {maintenance.title}",
        link=f"{site_url}/",
        published=_utc(maintenance.starts_at),
        updated=max(changes, default=_utc(maintenance.created_at)),
        updates=tuple(
            FeedUpdate(status_word(u.status), _utc(u.display_at), u.body) for u in ordered
        ),
    )


def newest_entries(entries: Iterable[FeedEntry], limit: int = MAX_ENTRIES) -> list[FeedEntry]:
    """Latest updated first, at most `limit`, each id once."""
    unique = {e.id: e for e in entries}
    return sorted(unique.values(), key=lambda e: (e.updated, e.id), reverse=True)[:limit]


def entry_html(entry: FeedEntry, tz: tzinfo = UTC) -> str:
    """The entry's text as HTML: the postmortem if there is one, then the
    updates newest first. Words and times are escaped here; bodies are
    sanitised Markdown."""
    parts: list[str] = []
    if entry.postmortem:
        parts.append("<h3>Postmortem</h3>")
        parts.append(render_markdown(entry.postmortem))
    for update in entry.updates:
        when = update.at.astimezone(tz).strftime(TIME_FORMAT)
        parts.append(f"<p><strong>{html.escape(update.status)}</strong> - {html.escape(when)}</p>")
        parts.append(render_markdown(update.body))
    return xml_text("\n".join(parts))


# --- the feeds ---------------------------------------------------------------


def _generator(info: FeedInfo, entries: Sequence[FeedEntry], now: datetime) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(info.page_url)
    fg.title(xml_text(info.title))
    fg.subtitle(xml_text(info.subtitle))
    fg.language("en")
    fg.generator(GENERATOR)
    # Newest entry's time, so the same data gives the same bytes.
    fg.updated(max((e.updated for e in entries), default=_utc(now)))
    return fg


def rss_feed(
    info: FeedInfo, entries: Sequence[FeedEntry], now: datetime, tz: tzinfo = UTC
) -> bytes:
    fg = _generator(info, entries, now)
    fg.link(href=info.rss_url, rel="self", type="application/rss+xml")
    # feedgen takes the channel's <link> from the last link given.
    fg.link(href=info.page_url, rel="alternate", type="text/html")
    fg.description(xml_text(info.subtitle))
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.guid(entry.id, permalink=entry.permalink)
        fe.title(xml_text(entry.title))
        fe.link(href=entry.link)
        fe.published(entry.published)
        fe.updated(entry.updated)
        # <description>, escaped text: never content:encoded, which is CDATA.
        fe.description(entry_html(entry, tz))
    data: bytes = fg.rss_str(pretty=True)
    return data


def atom_feed(
    info: FeedInfo, entries: Sequence[FeedEntry], now: datetime, tz: tzinfo = UTC
) -> bytes:
    fg = _generator(info, entries, now)
    fg.link(href=info.atom_url, rel="self", type="application/atom+xml")
    fg.link(href=info.page_url, rel="alternate", type="text/html")
    # The page is the author of its feed (RFC 4287 wants one); staff never.
    fg.author({"name": xml_text(info.author)})
    for entry in entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.id)
        fe.title(xml_text(entry.title))
        fe.link(href=entry.link, rel="alternate", type="text/html")
        fe.published(entry.published)
        fe.updated(entry.updated)
        fe.content(entry_html(entry, tz), type="html")
    data: bytes = fg.atom_str(pretty=True)
    return data
