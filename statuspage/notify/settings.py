"""The config's `notifications:` section: how mail is sent, which webhook
targets are allowed, and how hard the outbox worker retries.

    notifications:
      email:
        host: smtp.example.com
        port: 587
        security: starttls          # starttls (default), tls, none
        username: ${SMTP_USER}
        password: ${SMTP_PASSWORD}
        from: Acme Status <status@acme.example>
      webhooks:
        allow_private: false        # true only for an internal status page
      retry:
        first_delay: 30s
        max_delay: 1h
        give_up_after: 24h
"""

from __future__ import annotations

from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator

from statuspage.checks.base import StrictModel
from statuspage.durations import Duration, parse_duration


class EmailSettings(StrictModel):
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    # starttls: plain connection upgraded (port 587); tls: TLS from the
    # first byte (port 465); none: only for a relay on the same host.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from", min_length=3)
    reply_to: str | None = None
    timeout: Duration = Field(default_factory=lambda: parse_duration("20s"))
    # The CA bundle for a private SMTP server's certificate.
    ca_file: str | None = None

    @field_validator("from_", "reply_to")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\r" in value or "\n" in value:
            raise ValueError("must be on one line")
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError(
                f"{value!r} is not a mail address (e.g. Acme Status <status@acme.example>)"
            )
        return value

    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]

    def sender(self) -> Address:
        name, address = parseaddr(self.from_)
        return Address(display_name=name, addr_spec=address)


class WebhookSettings(StrictModel):
    # A public status page posts only to public addresses. An internal one
    # may allow private networks (all of them, or those listed).
    allow_private: bool = False
    allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    timeout: Duration = Field(default_factory=lambda: parse_duration("10s"))
    # Consecutive failed deliveries before a webhook is quarantined.
    quarantine_after: int = Field(default=10, ge=1, le=1000)


class RetrySettings(StrictModel):
    first_delay: Duration = Field(default_factory=lambda: parse_duration("30s"))
    max_delay: Duration = Field(default_factory=lambda: parse_duration("1h"))
    # A delivery still failing this long after it was due is given up.
    give_up_after: Duration = Field(default_factory=lambda: parse_duration("24h"))


class SignupSettings(StrictModel):
    # How long a confirmation link works.
    confirm_within: Duration = Field(default_factory=lambda: parse_duration("48h"))
    # Sign-ups allowed per client address and per mail address per hour.
    per_ip_per_hour: int = Field(default=10, ge=1, le=10_000)
    per_address_per_hour: int = Field(default=3, ge=1, le=100)


class NotificationSettings(StrictModel):
    email: EmailSettings | None = None
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    signup: SignupSettings = Field(default_factory=SignupSettings)
    # How often the worker looks for new work when nothing wakes it.
    poll_interval: Duration = Field(default_factory=lambda: parse_duration("2s"))

    @property
    def email_enabled(self) -> bool:
        return self.email is not None


def backoff_delay(attempts: int, settings: RetrySettings, jitter: float) -> timedelta:
    """The wait before the next try after `attempts` failed ones: doubling
    from `first_delay` up to `max_delay`, times `jitter` in [0.5, 1.0] so
    that many failed deliveries do not all retry in the same second."""
    exponent = min(max(attempts - 1, 0), 30)
    delay = min(settings.first_delay * (2**exponent), settings.max_delay)
    return delay * min(max(jitter, 0.5), 1.0)
