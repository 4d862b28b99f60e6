"""The admin form for a maintenance window: what a person typed, checked
field by field and converted from local time to UTC. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from statuspage.localtime import (
    date_text,
    is_ambiguous,
    resolve_local,
    spring_gap,
    zone_abbreviation,
)
from statuspage.maintenance import RECURRENCE_STEPS

MAX_DURATION = timedelta(days=7)
TITLE_MAX_CHARS = 300  # the column's length


@dataclass(frozen=True)
class FieldError:
    """A message for one form field (also used for notices)."""

    field: str
    message: str


@dataclass(frozen=True)
class WindowInput:
    """A maintenance as typed into the admin form: checked, and converted to
    UTC. A time is None when it could not be converted."""

    errors: tuple[FieldError, ...]
    # Not errors: how an ambiguous local time was read, to show the person.
    notices: tuple[FieldError, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    recurrence: str | None
    recurrence_until: datetime | None
    timezone: str | None  # the zone's key, None when unknown

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_window(
    title: str,
    starts_local: datetime,
    ends_local: datetime,
    timezone: str,
    recurrence: str | None = None,
    until: datetime | None = None,
) -> WindowInput:
    """Check what a person entered (naive local times in `timezone`) and
    convert it to UTC. Every error is listed at once, by field: `title`,
    `starts_at`, `ends_at`, `timezone`, `recurrence`, `recurrence_until`.

    A local time in the spring-forward gap is refused (the person meant a
    time that will not appear on any clock); one in the fall-back hour is
    read as the first of the two, and a notice says so.
    """
    errors: list[FieldError] = []
    notices: list[FieldError] = []
    if not title.strip():
        errors.append(FieldError("title", "Enter a title."))
    elif len(title.strip()) > TITLE_MAX_CHARS:
        errors.append(FieldError("title", f"Keep the title under {TITLE_MAX_CHARS} characters."))
    recurrence = recurrence or None
    step = RECURRENCE_STEPS.get(recurrence) if recurrence else None
    if recurrence is not None and step is None:
        errors.append(FieldError("recurrence", "Choose daily, weekly or no repetition."))
    zone = _known_zone(timezone)
    if zone is None:
        message = f"Unknown time zone {timezone!r}: use a name such as Europe/Berlin or UTC."
        errors.append(FieldError("timezone", message))
        return WindowInput(tuple(errors), (), None, None, recurrence, None, None)

    fields = [("starts_at", starts_local), ("ends_at", ends_local)]
    if until is not None:
        fields.append(("recurrence_until", until))
    converted = {name: _to_utc(name, local, zone, errors, notices) for name, local in fields}
    starts_at, ends_at = converted["starts_at"], converted["ends_at"]
    until_at = converted.get("recurrence_until")

    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            errors.append(FieldError("ends_at", "The end must be after the start."))
        elif ends_local - starts_local > MAX_DURATION:  # as the person counts it
            message = "A maintenance may last at most 7 days; schedule a longer one in parts."
            errors.append(FieldError("ends_at", message))
        elif step is not None and ends_local - starts_local >= step:
            period = "a day" if recurrence == "daily" else "a week"
            message = f"A {recurrence} maintenance must be shorter than {period}, or its repetitions would overlap."
            errors.append(FieldError("ends_at", message))
    if until is not None and recurrence is None:
        message = "Only a repeating maintenance has an end date: choose daily or weekly, or leave it empty."
        errors.append(FieldError("recurrence_until", message))
    elif starts_at is not None and until_at is not None and until_at < starts_at:
        message = "The repetition must end after the first start."
        errors.append(FieldError("recurrence_until", message))
    return WindowInput(
        tuple(errors), tuple(notices), starts_at, ends_at, recurrence, until_at, zone.key
    )


def _known_zone(name: str) -> ZoneInfo | None:
    # An unknown name raises ZoneInfoNotFoundError (a KeyError), a path-like
    # one ValueError, a region such as "Europe" IsADirectoryError.
    try:
        return ZoneInfo(name.strip()) if name.strip() else None
    except (KeyError, ValueError, OSError):
        return None


def _to_utc(
    field: str,
    local: datetime,
    zone: ZoneInfo,
    errors: list[FieldError],
    notices: list[FieldError],
) -> datetime | None:
    if local.tzinfo is not None:
        raise ValueError(f"{field}: pass the local time as a naive datetime")
    gap = spring_gap(local, zone)
    if gap is not None:
        missing, first = gap
        message = (
            f"{local:%H:%M} does not exist on {date_text(local)} in {zone.key}: the clocks "
            f"jump from {missing:%H:%M} to {first:%H:%M}. Choose a time before {missing:%H:%M} "
            f"or from {first:%H:%M}."
        )
        errors.append(FieldError(field, message))
        return None
    if is_ambiguous(local, zone):
        first = local.replace(tzinfo=zone, fold=0)
        second = local.replace(tzinfo=zone, fold=1)
        message = (
            f"{local:%H:%M} happens twice on {date_text(local)} in {zone.key} as the clocks go "
            f"back; we took the first, {local:%H:%M} {zone_abbreviation(first)} "
            f"({first.astimezone(UTC):%H:%M} UTC), not {local:%H:%M} "
            f"{zone_abbreviation(second)} ({second.astimezone(UTC):%H:%M} UTC)."
        )
        notices.append(FieldError(field, message))
    return resolve_local(local, zone)
