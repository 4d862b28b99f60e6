"""Reading the public subscription forms, and the sign-up rate limits.

Kept apart from the views so the rules (what is a usable mail address,
which components may be chosen, how many sign-ups an hour) are plain
functions of their inputs.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address

from statuspage import audit
from statuspage.notify.settings import SignupSettings
from statuspage.store import Store

ADDRESS_MAX_CHARS = 254  # RFC 5321's limit on a forward path, less the brackets
LOCAL_PART_MAX_CHARS = 64
URL_MAX_CHARS = 2000  # the subscribers.address column
RATE_WINDOW = timedelta(hours=1)
SIGNUP = "subscriber.signup"  # the audit action the limits count

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class FormError(ValueError):
    """One field's problem, said to the person who typed it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def read_email_address(value: str) -> str:
    """The one address typed, or FormError: no lists, no display names,
    no line breaks, ASCII only, a domain with a dot."""
    text = value.strip()
    if not text:
        raise FormError("address", "Enter your email address.")
    if _CONTROL.search(text):
        raise FormError("address", "Enter one email address on one line.")
    if len(text) > ADDRESS_MAX_CHARS:
        raise FormError("address", f"An email address has at most {ADDRESS_MAX_CHARS} characters.")
    if not text.isascii():
        raise FormError(
            "address",
            "Addresses with non-ASCII characters are not supported; "
            "use the xn-- form of the domain, or another address.",
        )
    try:
        parsed = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        raise FormError(
            "address", "That is not an email address (one address, like jane@example.com)."
        ) from None
    local, domain = parsed.username, parsed.domain
    if (
        not local
        or '"' in text
        or " " in text
        or len(local) > LOCAL_PART_MAX_CHARS
        or not _DOMAIN.match(domain)
    ):
        raise FormError(
            "address", "That is not an email address (one address, like jane@example.com)."
        )
    return parsed.addr_spec


def read_webhook_url(value: str) -> str:
    """The URL as typed, checked for shape only: `validate_webhook_url`
    judges the address it names."""
    text = value.strip()
    if not text:
        raise FormError("url", "Enter the URL to post to.")
    if _CONTROL.search(text) or " " in text:
        raise FormError("url", "Enter one URL on one line, without spaces.")
    if len(text) > URL_MAX_CHARS:
        raise FormError("url", f"A webhook URL has at most {URL_MAX_CHARS} characters.")
    return text


@dataclass(frozen=True)
class Choice:
    """Which components a subscriber follows: `component_ids` None is all."""

    component_ids: tuple[str, ...] | None
    component_updates: bool

    def covers(self, component_id: str) -> bool:
        return self.component_ids is None or component_id in self.component_ids


def read_choice(form: Mapping[str, str], chosen: list[str], known: Collection[str]) -> Choice:
    """The `component` boxes ticked (none ticked: every component, also
    those added later), and whether component status changes are wanted."""
    updates = form.get("component_updates") in ("1", "on", "yes", "true")
    if any(c not in known for c in chosen):
        raise FormError("components", "Choose among the components listed.")
    ids = tuple(dict.fromkeys(chosen))
    return Choice(ids or None, updates)


@dataclass
class FormState:
    """What a form shows: the values typed and the problems found."""

    address: str = ""
    url: str = ""
    choice: Choice = field(default_factory=lambda: Choice(None, False))
    errors: dict[str, str] = field(default_factory=dict)


# --- rate limits ---------------------------------------------------------------------


def signup_wait(
    store: Store,
    settings: SignupSettings,
    ip: str,
    subscriber_id: str | None,
    now: datetime,
) -> timedelta | None:
    """How long this client address (or this subscriber, when the address
    typed is known) must wait before another sign-up, or None. Counted
    from the audit log, so every web process sees the same sign-ups."""
    since = now - RATE_WINDOW
    waits = []
    limits: list[tuple[int, list[datetime]]] = [
        (
            settings.per_ip_per_hour,
            audit.times_since(
                store, SIGNUP, since, actor=ip_actor(ip), limit=settings.per_ip_per_hour
            ),
        )
    ]
    if subscriber_id is not None:
        limits.append(
            (
                settings.per_address_per_hour,
                audit.times_since(
                    store,
                    SIGNUP,
                    since,
                    target_id=subscriber_id,
                    limit=settings.per_address_per_hour,
                ),
            )
        )
    for limit, times in limits:
        if len(times) >= limit:
            waits.append(times[limit - 1] + RATE_WINDOW - now)
    return max(waits) if waits else None


def ip_actor(ip: str) -> str:
    return f"ip:{ip}"
