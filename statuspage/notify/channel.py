"""What a channel (email, webhook) is given and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from statuspage.store.outbox import Task
from statuspage.store.subscribers import Subscriber


class Result(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again later: timeouts, 4xx SMTP replies, 5xx HTTP
    PERMANENT = "permanent"  # never again for this recipient: SMTP 5xx, HTTP 410


@dataclass(frozen=True)
class Outcome:
    result: Result
    detail: str = ""
    # The receiver asked us to wait this long (HTTP Retry-After); the
    # worker waits at least that, up to its longest delay.
    retry_after: timedelta | None = None

    @classmethod
    def sent(cls) -> Outcome:
        return cls(Result.SENT)

    @classmethod
    def retry(cls, detail: str, retry_after: timedelta | None = None) -> Outcome:
        return cls(Result.RETRY, detail, retry_after)

    @classmethod
    def permanent(cls, detail: str) -> Outcome:
        return cls(Result.PERMANENT, detail)


@dataclass(frozen=True)
class Links:
    """The subscriber's own links, absolute, from the configured `site.url`."""

    manage: str  # GET: preferences and an unsubscribe button
    unsubscribe: str  # GET: a confirm button; POST: unsubscribe (RFC 8058)
    confirm: str | None = None  # only in a confirmation mail


class Channel(Protocol):
    def send(self, task: Task, subscriber: Subscriber, links: Links) -> Outcome:
        """Deliver once. Never raises: every failure is an Outcome."""
        ...
