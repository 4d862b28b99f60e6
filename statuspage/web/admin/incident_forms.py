"""Forms of the staff incident pages. One select per configured component
is added when the form is built (`with_components`), so the page lists the
components the config has today."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.localtime import date_text, resolve_local, spring_gap

TITLE_MAX_CHARS = 300
BODY_MAX_CHARS = 20_000
DISPLAY_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
# A display time may be a little ahead (clocks differ), not announce the future.
DISPLAY_AHEAD = timedelta(minutes=5)
COMPONENT_PREFIX = "component-"

# What staff may say about a component in an incident. `unknown` belongs to
# the checks, `under_maintenance` to maintenance windows.
INCIDENT_COMPONENT_STATUSES = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)
OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)


def _word(value: str) -> str:
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


STATUS_CHOICES = [SelectChoice(s.value, _word(s.value)) for s in OPEN_STATUSES]
IMPACT_CHOICES = [SelectChoice(i.value, _word(i.value)) for i in IncidentImpact]
COMPONENT_CHOICES = [SelectChoice(s.value, s.label) for s in INCIDENT_COMPONENT_STATUSES]


class DisplayTime:
    """A validator: an optional local time in the site's zone, not in the
    future; a time the clocks skip is refused with the hour that is missing."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        local = None
        for fmt in DISPLAY_FORMATS:
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if local is None:
            raise ValidationError("Write the time as YYYY-MM-DD HH:MM, e.g. 2026-09-15 07:05.")
        zone: ZoneInfo = form.site_tz
        gap = spring_gap(local, zone)
        if gap is not None:
            missing, first = gap
            raise ValidationError(
                f"{local:%H:%M} does not exist on {date_text(local)} in {zone.key}: the clocks "
                f"jump from {missing:%H:%M} to {first:%H:%M}."
            )
        at = resolve_local(local, zone)
        if at > form.now + DISPLAY_AHEAD:
            raise ValidationError("The display time is in the future; leave it empty for now.")
        field.instant = at


class _Timed(FlaskForm):
    """A form with a display time; the view sets `site_tz` and `now`."""

    site_tz: ZoneInfo
    now: datetime

    display_at = StringField(
        "Display time",
        description="Local time, YYYY-MM-DD HH:MM. Leave empty for now.",
        validators=[Optional(), DisplayTime()],
    )
    notify = BooleanField("Notify subscribers", default=True)

    def display_instant(self) -> datetime | None:
        return getattr(self.display_at, "instant", None)

    def component_statuses(self) -> dict[str, ComponentStatus]:
        """The components given a status (the blank choice left out)."""
        chosen = {}
        for f in self:
            if f.name.startswith(COMPONENT_PREFIX) and f.data:
                chosen[f.name.removeprefix(COMPONENT_PREFIX)] = ComponentStatus(f.data)
        return chosen

    def component_fields(self) -> list[Field]:
        return [f for f in self if f.name.startswith(COMPONENT_PREFIX)]


class NewIncidentForm(_Timed):
    title = StringField(
        "Title",
        validators=[DataRequired("Give the incident a title."), Length(max=TITLE_MAX_CHARS)],
    )
    status = SelectField(
        "Status", choices=STATUS_CHOICES, default=IncidentStatus.INVESTIGATING.value
    )
    impact = SelectField("Impact", choices=IMPACT_CHOICES, default=IncidentImpact.MINOR.value)
    body = TextAreaField(
        "Message",
        description="Markdown. Shown on the public page, in feeds and in emails.",
        validators=[DataRequired("Write what customers should know."), Length(max=BODY_MAX_CHARS)],
    )


class UpdateForm(_Timed):
    status = SelectField("Status", choices=STATUS_CHOICES)
    body = TextAreaField(
        "Message",
        description="Markdown.",
        validators=[DataRequired("Write what changed."), Length(max=BODY_MAX_CHARS)],
    )


class ResolveForm(FlaskForm):
    body = TextAreaField(
        "Final message",
        default="This incident has been resolved.",
        validators=[DataRequired("Write a final message."), Length(max=BODY_MAX_CHARS)],
    )
    notify = BooleanField("Notify subscribers", default=True)


class EditForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired("Give the incident a title."), Length(max=TITLE_MAX_CHARS)],
    )
    impact = SelectField("Impact", choices=IMPACT_CHOICES)


class PostmortemForm(FlaskForm):
    body = TextAreaField(
        "Postmortem",
        description="Markdown: what happened, why, and what we change.",
        validators=[DataRequired("Write the postmortem."), Length(max=BODY_MAX_CHARS)],
    )
    publish = BooleanField("Publish it on the incident page", default=True)


def with_components(
    form_class: type[_Timed],
    components: Sequence[tuple[str, str]],
    blank: str,
    current: dict[str, ComponentStatus] | None = None,
) -> type[_Timed]:
    """`form_class` with a select per component `(id, name)`; `blank` labels
    the choice that leaves a component alone ("Not affected", "No change")."""
    current = current or {}
    fields: dict[str, Any] = {}
    for cid, name in components:
        label = name
        if cid in current:
            label = f"{name} (now: {current[cid].label})"
        fields[COMPONENT_PREFIX + cid] = SelectField(
            label, choices=[SelectChoice("", blank), *COMPONENT_CHOICES], default=""
        )
    return type(form_class.__name__, (form_class,), fields)
