"""Operations settings of the config: `logging:` and `retention:`.

Kept apart from `statuspage.config` so that the modules that use them
(`logs`, `retention`) do not import the whole config machinery.

```yaml
logging:
  format: json        # or text (the default)
  level: info
retention:
  results: 7d         # raw check results
  missed_runs: 30d
  rollups: 400d       # daily rollups; never less than 400 days
```

Transitions, incidents, maintenance and the audit log are kept forever:
they are the history, and they are small.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from statuspage.checks.base import StrictModel
from statuspage.durations import Duration, format_duration

# The 90-day bars need 90 days; a year's uptime and the same day last year
# need a little more than a year.
MIN_ROLLUPS = timedelta(days=400)
# Less than a day of raw results would starve the state engine and the
# response-time charts of the component pages (they show 24 hours).
MIN_RESULTS = timedelta(days=1)

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class LoggingSettings(StrictModel):
    """How the processes log: `text` lines for people, or `json` lines
    (one object per line) for a log pipeline."""

    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"

    @property
    def level_number(self) -> int:
        return LEVELS[self.level]


class RetentionSettings(StrictModel):
    """How long raw data is kept; the scheduler that holds the lease
    deletes older rows every hour, in small batches."""

    results: Duration = Field(default_factory=lambda: timedelta(days=7))
    missed_runs: Duration = Field(default_factory=lambda: timedelta(days=30))
    rollups: Duration = Field(default_factory=lambda: MIN_ROLLUPS)

    @field_validator("results")
    @classmethod
    def _results_at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < MIN_RESULTS:
            raise ValueError(f"must be at least {format_duration(MIN_RESULTS)}")
        return value

    @field_validator("missed_runs")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be more than 0s")
        return value

    @field_validator("rollups")
    @classmethod
    def _rollups_at_least_400_days(cls, value: timedelta) -> timedelta:
        if value < MIN_ROLLUPS:
            raise ValueError(
                f"must be at least {MIN_ROLLUPS.days}d: the 90-day bars and yearly uptime read them"
            )
        return value
