"""What a notification mail says: its subject, a plain-text part and an
HTML part, written from the outbox document (see `documents.py`).

Text typed by people (incident titles, update bodies) is data, never a
template: it reaches the HTML part through autoescaping or the Markdown
sanitiser, and the text part as plain text. The text part is composed here
in Python; the HTML part by the Jinja templates in `templates/email/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from statuspage.config import Config
from statuspage.domain import ComponentStatus
from statuspage.markdown import plain_text, render_markdown_markup
from statuspage.notify.channel import Links
from statuspage.store.outbox import EventKind

# Control characters, and the Unicode line and paragraph separators, which
# some mail readers show as line breaks.
_NOT_ON_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
SUBJECT_MAX_CHARS = 200
EN_DASH = "\u2013"  # between an incident's title and its status
TIME_FORMAT = "%a, %b %d, %H:%M %Z"

MAINTENANCE_WORDS = {
    EventKind.MAINTENANCE_SCHEDULED: "Scheduled maintenance",
    EventKind.MAINTENANCE_STARTED: "Maintenance in progress",
    EventKind.MAINTENANCE_COMPLETED: "Maintenance completed",
}


def one_line(text: object, limit: int = SUBJECT_MAX_CHARS) -> str:
    """`text` fit for a mail header: every run of control characters (CR,
    LF, NUL, tab...) becomes one space, so no value can start a header of
    its own; long text is cut with an ellipsis."""
    flat = " ".join(_NOT_ON_ONE_LINE.sub(" ", str(text)).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def status_word(value: object) -> str:
    """`in_progress` -> `In progress`."""
    text = str(value or "").replace("_", " ")
    return text[:1].upper() + text[1:]


def lifetime_words(span: timedelta) -> str:
    """`48 hours`, `3 days`, `30 minutes`: how long a link works."""
    minutes = int(span.total_seconds() // 60)
    if minutes % (60 * 24) == 0 and minutes >= 60 * 24 * 3:
        days = minutes // (60 * 24)
        return f"{days} days"
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass(frozen=True)
class MailContent:
    """One mail before it is put into MIME: the same facts for both parts."""

    subject: str  # without the `[Site title]` prefix
    heading: str
    facts: list[str]  # short lines: status and time, window, affected components
    body: str = ""  # Markdown typed by staff
    link: str | None = None
    link_label: str = ""
    notes: list[str] = field(default_factory=list)  # paragraphs after the body
    # A notification to a subscriber (with List-* headers and the footer
    # links), not the confirmation mail.
    list_mail: bool = True
    template: str = "email/notification.html"


def mail_content(config: Config, kind: EventKind, document: dict[str, Any]) -> MailContent:
    """What to say about one event. Raises KeyError or ValueError for a
    document that lacks what its kind needs."""
    tz = config.site.tz
    if kind in (EventKind.INCIDENT_CREATED, EventKind.INCIDENT_UPDATED):
        return _incident(document, tz)
    if kind in MAINTENANCE_WORDS:
        return _maintenance(kind, document, tz)
    if kind is EventKind.COMPONENT_UPDATED:
        return _component(document, tz)
    raise ValueError(f"no mail for {kind.value} events")


def confirmation_content(config: Config, links: Links) -> MailContent:
    title = config.site.title
    lifetime = lifetime_words(config.notifications.signup.confirm_within)
    return MailContent(
        subject=f"Confirm your subscription to {one_line(title)}",
        heading=f"Confirm your subscription to {title}",
        facts=[],
        notes=[
            f"Someone, probably you, asked to receive status updates from {title} at this address.",
            f"To start receiving them, open the link below and press Confirm. "
            f"The link works for {lifetime}, and only once.",
            "If you did not ask for this, ignore this mail: you will not hear from us again.",
        ],
        link=links.confirm,
        link_label="Confirm your subscription",
        list_mail=False,
        template="email/confirm.html",
    )


def _local(stamp: str | None, tz: ZoneInfo) -> str | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp).astimezone(tz).strftime(TIME_FORMAT)


def _component_names(incident: dict[str, Any]) -> list[str]:
    return [str(c.get("name", "")) for c in incident.get("components") or [] if c.get("name")]


def _incident(document: dict[str, Any], tz: ZoneInfo) -> MailContent:
    incident = document["incident"]
    update = document.get("update") or {}
    status = status_word(update.get("status") or incident["status"])
    name = one_line(incident["name"], 500)
    facts = [" · ".join(x for x in (status, _local(update.get("display_at"), tz)) if x)]
    if affected := _component_names(incident):
        facts.append("Affects: " + ", ".join(affected))
    return MailContent(
        subject=f"{name} {EN_DASH} {status}",
        heading=name,
        facts=facts,
        body=str(update.get("body") or ""),
        link=incident.get("shortlink"),
        link_label="Follow this incident",
    )


def _maintenance(kind: EventKind, document: dict[str, Any], tz: ZoneInfo) -> MailContent:
    found = document["incident"]
    update = document.get("update") or {}
    words = MAINTENANCE_WORDS[kind]
    name = one_line(found["name"], 500)
    start = datetime.fromisoformat(found["scheduled_for"]).astimezone(tz)
    end = datetime.fromisoformat(found["scheduled_until"]).astimezone(tz)
    until = end.strftime("%H:%M %Z") if end.date() == start.date() else end.strftime(TIME_FORMAT)
    facts = [words, f"When: {start.strftime(TIME_FORMAT)} until {until}"]
    if affected := _component_names(found):
        facts.append("Affects: " + ", ".join(affected))
    return MailContent(
        subject=f"{words}: {name}",
        heading=name,
        facts=facts,
        body=str(update.get("body") or ""),
        link=found.get("shortlink"),
        link_label="See the status page",
    )


def _component(document: dict[str, Any], tz: ZoneInfo) -> MailContent:
    component = document["component"]
    change = document["component_update"]
    name = one_line(component["name"], 500)
    old = ComponentStatus(change["old_status"]).label
    new = ComponentStatus(change["new_status"]).label
    when = _local(change.get("created_at"), tz)
    return MailContent(
        subject=f"{name}: {new}",
        heading=f"{name}: {new}",
        facts=[f"{name} changed from {old} to {new}" + (f" at {when}" if when else "") + "."],
        link=document.get("page", {}).get("url"),
        link_label="See the status page",
    )


# --- the two parts ----------------------------------------------------------


def text_part(config: Config, content: MailContent, links: Links, page_status: str) -> str:
    lines = [content.heading, ""]
    lines += content.facts
    if content.facts:
        lines.append("")
    if content.body:
        lines += [plain_text(content.body), ""]
    for note in content.notes:
        lines += [note, ""]
    if content.link:
        lines += [f"{content.link_label}:", content.link, ""]
    if content.list_mail:
        if page_status:
            lines += [f"Current status: {page_status}", ""]
        lines += [
            "-- ",
            f"You receive this because you subscribed to updates from {config.site.title}.",
            f"Manage your subscription: {links.manage}",
            f"Unsubscribe: {links.unsubscribe}",
        ]
    return "\n".join(lines).rstrip() + "\n"


@cache
def _environment() -> Environment:
    # Imported here: the web package builds the app, which a mail needs not.
    from statuspage.web import asset_dir

    env = Environment(
        loader=FileSystemLoader(str(asset_dir("templates"))),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = render_markdown_markup
    return env


def html_part(config: Config, content: MailContent, links: Links, page_status: str) -> str:
    template = _environment().get_template(content.template)
    return template.render(
        site_title=config.site.title,
        site_url=config.site.url,
        mail=content,
        links=links,
        page_status=page_status,
    )
