"""Human durations (`30s`, `5m`, `1h30m`, `250ms`) to and from timedelta."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """Parse `30s`, `5m`, `1h30m`, `250ms`, or a plain number of seconds.

    Raises ValueError with a message fit to show a person.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError("must be a duration such as 30s, 5m or 1h")
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    pos = 0
    seconds = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h30m, 250ms)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest readable form: `30s`, `5m`, `1h30m`, `250ms`."""
    total_ms = round(delta.total_seconds() * 1000)
    if total_ms % 1000:
        return f"{total_ms}ms"
    seconds = total_ms // 1000
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _validate_duration(value: object) -> timedelta:
    return parse_duration(value)


# A pydantic field type: accepts `30s`, `5m`, numbers of seconds.
Duration = Annotated[timedelta, BeforeValidator(_validate_duration)]
