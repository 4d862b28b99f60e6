"""The outbox worker: fans events out to subscribers and delivers them.

Each delivery is claimed, sent, then closed, in three steps; the send
happens outside any transaction, so a slow SMTP server or webhook receiver
holds no lock. A failure is retried with exponential backoff and jitter,
per recipient; a permanent one (SMTP 5xx, HTTP 410) disables the recipient;
a webhook that keeps failing is quarantined for staff to look at. Nothing
is lost while a channel is down: deliveries wait in the database.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlalchemy import Connection

from statuspage import audit
from statuspage.clock import Clock, utc_now
from statuspage.config import Config
from statuspage.notify.channel import Channel, Links, Outcome, Result
from statuspage.notify.documents import build_document
from statuspage.notify.settings import backoff_delay
from statuspage.notify.tokens import LinkSigner
from statuspage.store import Store
from statuspage.store.outbox import DeliveryState, Event, EventKind, OutboxRepository, Task
from statuspage.store.subscribers import (
    Subscriber,
    SubscriberKind,
    SubscriberRepository,
    SubscriberState,
)

log = logging.getLogger(__name__)

AUTOMATION = "automation"
BATCH = 20


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def subscriber_links(config: Config, signer: LinkSigner, subscriber: Subscriber) -> Links:
    base = config.site.url
    token = signer.manage_token(subscriber.id, subscriber.link_version)
    confirm = None
    if subscriber.state is SubscriberState.PENDING and subscriber.confirm_nonce:
        confirm_token = signer.confirm_token(subscriber.id, subscriber.confirm_nonce)
        confirm = f"{base}/subscribe/confirm/{confirm_token}"
    return Links(
        manage=f"{base}/subscriptions/{token}",
        unsubscribe=f"{base}/unsubscribe/{token}",
        confirm=confirm,
    )


class OutboxWorker:
    def __init__(
        self,
        config: Config,
        store: Store,
        secret_key: str,
        channels: Mapping[SubscriberKind, Channel],
        clock: Clock = utc_now,
        name: str | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.settings = config.notifications
        self.store = store
        self.signer = LinkSigner(secret_key)
        self.channels = channels
        self.clock = clock
        self.name = name or worker_name()
        self.jitter = jitter
        self.outbox = OutboxRepository()
        self.subscribers = SubscriberRepository()
        # A claim outlives the slowest send by a margin; after that another
        # worker may take the delivery (and send it with the same id).
        slowest = max(self.settings.webhooks.timeout, timedelta(seconds=60))
        if self.settings.email is not None:
            slowest = max(slowest, self.settings.email.timeout * 3)
        self.lease = slowest + timedelta(seconds=60)

    # --- one pass ------------------------------------------------------------

    def run_once(self) -> int:
        """Fan out what is new, then send what is due; returns how many
        deliveries were attempted."""
        self.fan_out()
        attempted = 0
        while True:
            with self.store.transaction() as conn:
                tasks = self.outbox.claim(conn, self.name, self.clock(), self.lease, BATCH)
            for task in tasks:
                self._deliver(task)
            attempted += len(tasks)
            if len(tasks) < BATCH:
                return attempted

    def fan_out(self) -> int:
        """One delivery per subscriber each new event concerns; returns how
        many events were fanned out."""
        done = 0
        with self.store.engine.connect() as conn:
            events = self.outbox.waiting_events(conn)
        for event in events:
            with self.store.transaction() as conn:
                now = self.clock()
                if not self.outbox.claim_event(conn, event.id, now):
                    continue  # another worker got there first
                document = build_document(self.config, self.store, conn, event, now)
                recipients = self._recipients(conn, event) if document is not None else []
                self.outbox.fan_out(conn, event.id, document, recipients, now)
                done += 1
        return done

    def run_forever(self, stop: threading.Event) -> None:
        """Work until `stop` is set; an error (the database gone for a
        moment) is logged and the loop goes on after a pause."""
        interval = self.settings.poll_interval.total_seconds()
        log.info("outbox worker %s started", self.name)
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("outbox pass failed; trying again in %.0fs", interval)
            stop.wait(interval)
        log.info("outbox worker %s stopped", self.name)

    # --- internals -------------------------------------------------------------

    def _recipients(self, conn: Connection, event: Event) -> list[str]:
        if event.subscriber_id is not None:
            return [event.subscriber_id]
        return self.subscribers.recipients(
            conn,
            event.component_ids,
            component_updates_only=event.kind is EventKind.COMPONENT_UPDATED,
        )

    def _deliver(self, task: Task) -> None:
        with self.store.engine.connect() as conn:
            subscriber = self.subscribers.get(conn, task.subscriber_id)
        reason = _not_deliverable(task, subscriber)
        if reason is not None or subscriber is None:
            self._finish(task, DeliveryState.DROPPED, reason or "subscriber removed")
            return
        channel = self.channels.get(subscriber.kind)
        if channel is None:
            outcome = Outcome.retry(f"no {subscriber.kind.value} channel is configured")
        else:
            links = subscriber_links(self.config, self.signer, subscriber)
            try:
                outcome = channel.send(task, subscriber, links)
            except Exception as exc:  # a channel must not raise; if it does, retry
                log.exception("channel %s raised", subscriber.kind.value)
                outcome = Outcome.retry(f"{type(exc).__name__}: {exc}")
        self._record(task, subscriber, outcome)

    def _record(self, task: Task, subscriber: Subscriber, outcome: Outcome) -> None:
        now = self.clock()
        with self.store.transaction() as conn:
            if outcome.result is Result.SENT:
                self.outbox.finish(conn, task.delivery_id, self.name, DeliveryState.SENT, now)
                self.subscribers.record_success(conn, subscriber.id)
                return
            failures = self.subscribers.record_failure(conn, subscriber.id, outcome.detail)
            if outcome.result is Result.PERMANENT:
                self.outbox.finish(
                    conn, task.delivery_id, self.name, DeliveryState.FAILED, now, outcome.detail
                )
                self._stop_sending(conn, subscriber, SubscriberState.DISABLED, outcome.detail)
                return
            if now - task.created_at >= self.settings.retry.give_up_after:
                detail = f"gave up after {task.attempts} attempts: {outcome.detail}"
                self.outbox.finish(
                    conn, task.delivery_id, self.name, DeliveryState.FAILED, now, detail
                )
            else:
                delay = backoff_delay(task.attempts, self.settings.retry, 0.5 + self.jitter() / 2)
                if outcome.retry_after is not None:
                    delay = max(delay, min(outcome.retry_after, self.settings.retry.max_delay))
                self.outbox.finish(
                    conn,
                    task.delivery_id,
                    self.name,
                    DeliveryState.PENDING,
                    now,
                    outcome.detail,
                    next_attempt_at=now + delay,
                )
            quarantine_after = self.settings.webhooks.quarantine_after
            if subscriber.kind is SubscriberKind.WEBHOOK and failures >= quarantine_after:
                detail = f"{failures} failed attempts in a row; last: {outcome.detail}"
                self._stop_sending(conn, subscriber, SubscriberState.QUARANTINED, detail)

    def _stop_sending(
        self,
        conn: Connection,
        subscriber: Subscriber,
        state: SubscriberState,
        detail: str,
    ) -> None:
        """Disable or quarantine a recipient, drop what waits for it, and
        leave a line in the audit log for staff."""
        now = self.clock()
        self.subscribers.set_state(conn, subscriber.id, state, now, detail)
        self.outbox.drop_pending_for(conn, subscriber.id, f"subscriber {state.value}")
        audit.record(
            conn,
            AUTOMATION,
            f"subscriber.{state.value}",
            "subscriber",
            subscriber.id,
            {"state": subscriber.state.value},
            {"state": state.value, "reason": detail},
            now,
        )
        log.warning(
            "%s subscriber %s %s: %s", subscriber.kind.value, subscriber.id, state.value, detail
        )

    def _finish(self, task: Task, state: DeliveryState, detail: str) -> None:
        with self.store.transaction() as conn:
            self.outbox.finish(conn, task.delivery_id, self.name, state, self.clock(), detail)


def _not_deliverable(task: Task, subscriber: Subscriber | None) -> str | None:
    """Why this delivery must not go out any more, or None."""
    if subscriber is None:
        return "subscriber removed"
    if task.event_kind is EventKind.SUBSCRIBER_CONFIRM:
        return None if subscriber.state is SubscriberState.PENDING else "already confirmed"
    if subscriber.state is not SubscriberState.ACTIVE:
        return f"subscriber {subscriber.state.value}"
    return None


def build_channels(config: Config, secret_key: str) -> dict[SubscriberKind, Channel]:
    """The channels this config can deliver through: webhooks always,
    email when `notifications.email` is set."""
    from statuspage.notify.webhook import WebhookChannel

    channels: dict[SubscriberKind, Channel] = {
        SubscriberKind.WEBHOOK: WebhookChannel(config, secret_key)
    }
    if config.notifications.email is not None:
        from statuspage.notify.email import EmailChannel

        channels[SubscriberKind.EMAIL] = EmailChannel(config)
    return channels


def start_worker(config: Config, store: Store, clock: Clock = utc_now) -> OutboxWorker:
    """A worker with the channels the config gives and the site's key."""
    from statuspage.web.admin.session import secret_key_for

    key = secret_key_for(config, store.url)
    return OutboxWorker(config, store, key, build_channels(config, key), clock)


def run_worker(
    config: Config, store: Store, clock: Clock = utc_now, stop: threading.Event | None = None
) -> None:
    """The `worker` role: drain the outbox until `stop` is set."""
    start_worker(config, store, clock).run_forever(stop or threading.Event())
