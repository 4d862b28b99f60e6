"""Log lines for people (`text`) or for a log pipeline (`json`).

Every line can carry the ids it is about, passed as `extra`:

    log.warning("missed run of %s", check_id, extra={"check": check_id})

In JSON they are fields of their own (`"check": "api/health"`), so a log
pipeline can follow one check or one incident; in text they are appended as
`[check=api/health]`. The process role (`web`, `scheduler`, `worker`, `run`)
and its pid are on every JSON line.

Secrets never reach the log: every value that came from `${ENV}` in the
config is replaced by `[secret]` in the message, the extra fields and the
traceback, whatever logger wrote them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from statuspage.checks import redact
from statuspage.ops_settings import LoggingSettings

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)).keys()
) | {"message", "asctime", "taskName"}

# Libraries that log every request or every job run: only their warnings.
QUIET_LOGGERS = ("waitress", "apscheduler", "httpx", "httpcore", "alembic", "gunicorn.access")


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra` fields of a record, as JSON-ready values."""
    fields: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        fields[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, role, pid, the
    extra fields, and `exc` with the traceback when there is one."""

    def __init__(self, secrets: frozenset[str] = frozenset(), role: str | None = None) -> None:
        super().__init__()
        self.secrets = secrets
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.role:
            payload["role"] = self.role
        payload["pid"] = record.process
        payload.update(context_fields(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        # Redacted before encoding: a secret with a quote in it would no
        # longer match once JSON escaped it.
        clean = {
            k: redact(v, self.secrets) if isinstance(v, str) else v for k, v in payload.items()
        }
        return json.dumps(clean, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [check=… component=…]`, secrets redacted."""

    def __init__(self, secrets: frozenset[str] = frozenset()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = context_fields(record)
        if fields:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            first, newline, rest = text.partition("\n")
            text = f"{first} [{extra}]{newline}{rest}"
        return redact(text, self.secrets)


def make_formatter(
    settings: LoggingSettings, secrets: frozenset[str] = frozenset(), role: str | None = None
) -> logging.Formatter:
    if settings.format == "json":
        return JsonFormatter(secrets, role)
    return TextFormatter(secrets)


def configure_logging(
    settings: LoggingSettings | None = None,
    secrets: frozenset[str] = frozenset(),
    role: str | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every log line to stderr (or `stream`) in the configured format,
    replacing whatever handlers the root logger had. Returns the handler."""
    settings = settings or LoggingSettings()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(settings, secrets, role))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level_number)
    quiet = max(logging.WARNING, settings.level_number)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    return handler
