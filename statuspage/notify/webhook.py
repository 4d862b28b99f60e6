"""Webhooks: Statuspage's webhook payload, signed the Standard Webhooks way,
posted only to addresses a public status page may reach (the rules and
the connection that enforces them are in `statuspage.notify.addresses`).

Redirects are not followed: a 3xx is a failure. A refused address is
retried like any failure, not disabled at once: it depends on DNS and on
the config, both of which staff can fix, and repeated refusals quarantine
the webhook for staff to look at.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from statuspage import __version__
from statuspage.checks.network import deadline
from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.notify.addresses import (
    AddressRefused,
    Resolver,
    WebhookTransport,
    address_refusal,
    host_of,
    system_resolver,
    url_refusal,
    validate_webhook_url,
)
from statuspage.notify.channel import Links, Outcome
from statuspage.notify.tokens import LinkError, unseal
from statuspage.store.outbox import Task
from statuspage.store.subscribers import Subscriber

__all__ = [
    "USER_AGENT",
    "WebhookChannel",
    "address_refusal",
    "signature",
    "validate_webhook_url",
    "webhook_body",
    "webhook_headers",
]

log = logging.getLogger(__name__)

USER_AGENT = f"statuspage-webhook/{__version__}"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
RESPONSE_BYTES_KEPT = 1024  # of a failed answer, for the error staff see (HOOK-09)
ERROR_EXCERPT_CHARS = 200
DOCUMENTATION_PATH = "/subscribe#webhooks"


# --- what is sent ---------------------------------------------------------------


def webhook_payload(document: Mapping[str, Any], links: Links, site_url: str) -> dict[str, Any]:
    """Statuspage's shape: `meta`, `page`, then `incident`, or
    `component_update` and `component`. `meta.event` is our addition."""
    payload: dict[str, Any] = {
        "meta": {
            "unsubscribe": links.unsubscribe,
            "documentation": site_url + DOCUMENTATION_PATH,
            "event": document.get("event"),
        }
    }
    for key in ("page", "incident", "component_update", "component"):
        if key in document:
            payload[key] = document[key]
    return payload


def webhook_body(document: Mapping[str, Any], links: Links, site_url: str) -> bytes:
    """The bytes posted, the same on every retry: the document is stored
    once, keys keep their order, and non-ASCII (U+2028 too) is escaped."""
    payload = webhook_payload(document, links, site_url)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with
    the secret's bytes (the base64 after `whsec_`)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


# --- the channel ----------------------------------------------------------------


class WebhookChannel:
    """Posts each task once to the subscriber's URL (see the module's
    docstring for which URLs) and says how it went:

    - 2xx: sent;
    - 410 Gone: permanent, the receiver asked to stop (the worker disables it);
    - anything else (3xx, 4xx, 429, 5xx, a timeout, a refused or unreachable
      address): retry, which counts towards quarantine.
    """

    def __init__(
        self,
        config: Config,
        secret_key: str,
        resolver: Resolver | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = config.notifications.webhooks
        self._site_url = config.site.url
        self._secret_key = secret_key
        self._resolver = resolver or system_resolver
        self._clock = clock
        self._timeout = self._settings.timeout.total_seconds()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    transport=WebhookTransport(self._settings, self._resolver),
                    follow_redirects=False,
                    trust_env=False,
                    timeout=httpx.Timeout(self._timeout),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def send(self, task: Task, subscriber: Subscriber, links: Links) -> Outcome:
        outcome = self._send(task, subscriber, links)
        host = host_of(subscriber.address)
        log.info(
            "webhook %s to %s (%s, attempt %d): %s %s",
            task.message_id, host, subscriber.id, task.attempts,
            outcome.result.value, outcome.detail,
        )  # fmt: skip
        return outcome

    def _send(self, task: Task, subscriber: Subscriber, links: Links) -> Outcome:
        reason = url_refusal(subscriber.address)
        if reason is not None:
            return Outcome.retry(f"refused URL: {reason}")
        if not subscriber.secret_encrypted:
            return Outcome.retry("the webhook has no secret: rotate it in the admin")
        try:
            secret = unseal(subscriber.secret_encrypted, self._secret_key)
        except LinkError as exc:
            return Outcome.retry(f"{exc}: rotate it in the admin")
        body = webhook_body(task.document, links, self._site_url)
        timestamp = int(self._clock().timestamp())
        headers = webhook_headers(secret, task.message_id, timestamp, body)
        try:
            with (
                deadline(self._timeout),
                self.client().stream(
                    "POST", subscriber.address, content=body, headers=headers
                ) as response,
            ):
                return _judge(response, self._clock())
        except httpx.TimeoutException:
            return Outcome.retry(f"no answer within {self._timeout:g}s")
        except httpx.InvalidURL as exc:
            return Outcome.retry(f"the URL cannot be used: {exc}")
        except httpx.HTTPError as exc:
            return Outcome.retry(_failure(exc))
        except Exception as exc:  # a channel never raises
            log.exception("webhook %s failed unexpectedly", task.message_id)
            return Outcome.retry(f"unexpected error: {type(exc).__name__}")


def _judge(response: httpx.Response, now: datetime) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        return Outcome.sent()
    if 300 <= status < 400:
        target = host_of(response.headers.get("location", "")) or "elsewhere"
        return Outcome.retry(
            f"HTTP {status}: a redirect (to {target}) is not followed; "
            "the webhook URL must answer 2xx itself"
        )
    text = f"HTTP {status}"
    excerpt = _excerpt(response)
    if excerpt:
        text += f": {excerpt}"
    if status == 410:
        return Outcome.permanent(f"{text} (the receiver asked to stop)")
    return Outcome.retry(text, retry_after(response.headers.get("retry-after"), now))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` in seconds or as an HTTP date (RFC 9110), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), 86_400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def _excerpt(response: httpx.Response) -> str:
    """The start of a failed answer, for staff: at most RESPONSE_BYTES_KEPT
    are read, however much the receiver sends."""
    kept = b""
    try:
        for chunk in response.iter_raw():
            kept += chunk
            if len(kept) >= RESPONSE_BYTES_KEPT:
                break
    except httpx.HTTPError:
        pass
    text = " ".join(kept[:RESPONSE_BYTES_KEPT].decode("utf-8", "replace").split())
    if len(text) > ERROR_EXCERPT_CHARS:
        text = text[: ERROR_EXCERPT_CHARS - 1] + "…"
    return text


def _failure(exc: httpx.HTTPError) -> str:
    """A short reason for a failed connection or exchange."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, AddressRefused):
        return str(cause)
    return f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT_CHARS]
