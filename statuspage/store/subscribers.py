"""Subscribers: people (email) and systems (webhooks) who follow the page.

An email subscription starts `pending` and becomes `active` only through the
single-use link mailed to the address (double opt-in). Asking again for an
address that is already active changes nothing: whoever asks cannot learn
or alter someone else's subscription.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from statuspage.store import tables as t
from statuspage.store.ids import new_id


class SubscriberKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class SubscriberState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    DISABLED = "disabled"  # a permanent failure (SMTP 5xx, HTTP 410)
    QUARANTINED = "quarantined"  # a webhook that kept failing; staff decide


@dataclass(frozen=True)
class Subscriber:
    id: str
    kind: SubscriberKind
    address: str
    state: SubscriberState
    all_components: bool
    component_ids: tuple[str, ...]
    component_updates: bool
    confirm_nonce: str | None
    link_version: int
    secret_encrypted: str | None
    consecutive_failures: int
    last_error: str | None
    created_by: str
    created_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Signup:
    """What a sign-up did: `confirm` is True when a confirmation must be
    mailed (a new address, or one not yet or no longer active)."""

    subscriber_id: str
    confirm: bool


def normalize_email(address: str) -> str:
    """`Jane@Example.COM` and `jane@example.com` are one subscriber. The
    local part is case-sensitive by the RFC but not by any real mailbox."""
    return address.strip().lower()


class SubscriberRepository:
    def subscribe_email(
        self,
        conn: Connection,
        address: str,
        *,
        component_ids: Sequence[str] | None,
        component_updates: bool,
        now: datetime,
        created_by: str = "public",
    ) -> Signup:
        """Record a wish to subscribe; the caller mails the confirmation
        when `confirm` is True. `component_ids` None: every component."""
        address = normalize_email(address)
        s = t.subscribers
        row = conn.execute(
            select(s.c.id, s.c.state).where(
                s.c.kind == SubscriberKind.EMAIL.value, s.c.address == address
            )
        ).first()
        nonce = secrets.token_urlsafe(24)
        if row is None:
            subscriber_id = new_id()
            conn.execute(
                insert(s).values(
                    id=subscriber_id,
                    kind=SubscriberKind.EMAIL.value,
                    address=address,
                    state=SubscriberState.PENDING.value,
                    all_components=component_ids is None,
                    component_updates=component_updates,
                    confirm_nonce=nonce,
                    link_version=1,
                    consecutive_failures=0,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._set_components(conn, subscriber_id, component_ids)
            return Signup(subscriber_id, confirm=True)
        if row.state == SubscriberState.ACTIVE.value:
            return Signup(row.id, confirm=False)
        # Pending, unsubscribed or disabled: the new choice waits for the
        # new link; the old link stops working (a new nonce).
        conn.execute(
            update(s)
            .where(s.c.id == row.id)
            .values(
                state=SubscriberState.PENDING.value,
                all_components=component_ids is None,
                component_updates=component_updates,
                confirm_nonce=nonce,
                updated_at=now,
            )
        )
        self._set_components(conn, row.id, component_ids)
        return Signup(row.id, confirm=True)

    def add_webhook(
        self,
        conn: Connection,
        url: str,
        *,
        secret_encrypted: str,
        component_ids: Sequence[str] | None,
        component_updates: bool,
        now: datetime,
        created_by: str,
    ) -> str | None:
        """A new active webhook subscriber; None when the URL is already one."""
        s = t.subscribers
        exists = conn.execute(
            select(s.c.id).where(s.c.kind == SubscriberKind.WEBHOOK.value, s.c.address == url)
        ).first()
        if exists is not None:
            return None
        subscriber_id = new_id()
        conn.execute(
            insert(s).values(
                id=subscriber_id,
                kind=SubscriberKind.WEBHOOK.value,
                address=url,
                state=SubscriberState.ACTIVE.value,
                all_components=component_ids is None,
                component_updates=component_updates,
                link_version=1,
                secret_encrypted=secret_encrypted,
                consecutive_failures=0,
                created_by=created_by,
                created_at=now,
                confirmed_at=now,
                updated_at=now,
            )
        )
        self._set_components(conn, subscriber_id, component_ids)
        return subscriber_id

    def confirm(self, conn: Connection, subscriber_id: str, nonce: str, now: datetime) -> bool:
        """Activate with the nonce from the mailed link, once: the nonce is
        cleared in the same conditional update."""
        s = t.subscribers
        done = conn.execute(
            update(s)
            .where(
                s.c.id == subscriber_id,
                s.c.confirm_nonce == nonce,
                s.c.state == SubscriberState.PENDING.value,
            )
            .values(
                state=SubscriberState.ACTIVE.value,
                confirm_nonce=None,
                confirmed_at=now,
                consecutive_failures=0,
                last_error=None,
                updated_at=now,
            )
        ).rowcount
        return done == 1

    def unsubscribe(
        self, conn: Connection, subscriber_id: str, link_version: int, now: datetime
    ) -> bool:
        """Stop every notification. False for a stale link or one already used."""
        s = t.subscribers
        done = conn.execute(
            update(s)
            .where(
                s.c.id == subscriber_id,
                s.c.link_version == link_version,
                s.c.state != SubscriberState.UNSUBSCRIBED.value,
            )
            .values(
                state=SubscriberState.UNSUBSCRIBED.value,
                confirm_nonce=None,
                link_version=s.c.link_version + 1,
                updated_at=now,
            )
        ).rowcount
        return done == 1

    def set_preferences(
        self,
        conn: Connection,
        subscriber_id: str,
        *,
        component_ids: Sequence[str] | None,
        component_updates: bool,
        now: datetime,
    ) -> None:
        s = t.subscribers
        conn.execute(
            update(s)
            .where(s.c.id == subscriber_id)
            .values(
                all_components=component_ids is None,
                component_updates=component_updates,
                updated_at=now,
            )
        )
        self._set_components(conn, subscriber_id, component_ids)

    def set_state(
        self,
        conn: Connection,
        subscriber_id: str,
        state: SubscriberState,
        now: datetime,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "updated_at": now}
        if state is SubscriberState.ACTIVE:
            values["consecutive_failures"] = 0
        if error is not None:
            values["last_error"] = error
        conn.execute(
            update(t.subscribers).where(t.subscribers.c.id == subscriber_id).values(values)
        )

    def set_webhook_secret(
        self, conn: Connection, subscriber_id: str, secret_encrypted: str, now: datetime
    ) -> bool:
        """Replace a webhook's signing secret; False when there is no such webhook."""
        s = t.subscribers
        done = conn.execute(
            update(s)
            .where(s.c.id == subscriber_id, s.c.kind == SubscriberKind.WEBHOOK.value)
            .values(secret_encrypted=secret_encrypted, updated_at=now)
        ).rowcount
        return done == 1

    def record_success(self, conn: Connection, subscriber_id: str) -> None:
        s = t.subscribers
        conn.execute(
            update(s)
            .where(s.c.id == subscriber_id, s.c.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )

    def record_failure(self, conn: Connection, subscriber_id: str, error: str) -> int:
        """Count one more failed attempt in a row; returns the new count."""
        s = t.subscribers
        conn.execute(
            update(s)
            .where(s.c.id == subscriber_id)
            .values(consecutive_failures=s.c.consecutive_failures + 1, last_error=error)
        )
        count = conn.execute(
            select(s.c.consecutive_failures).where(s.c.id == subscriber_id)
        ).scalar_one()
        return int(count)

    def delete(self, conn: Connection, subscriber_id: str) -> None:
        """Forget a subscriber and its deliveries (staff only)."""
        conn.execute(
            delete(t.outbox_deliveries).where(t.outbox_deliveries.c.subscriber_id == subscriber_id)
        )
        conn.execute(
            delete(t.subscriber_components).where(
                t.subscriber_components.c.subscriber_id == subscriber_id
            )
        )
        conn.execute(delete(t.subscribers).where(t.subscribers.c.id == subscriber_id))

    # --- reading ---------------------------------------------------------

    def get(self, conn: Connection, subscriber_id: str) -> Subscriber | None:
        found = self._load(conn, t.subscribers.c.id == subscriber_id)
        return found[0] if found else None

    def find(self, conn: Connection, kind: SubscriberKind, address: str) -> Subscriber | None:
        if kind is SubscriberKind.EMAIL:
            address = normalize_email(address)
        s = t.subscribers
        found = self._load(conn, s.c.kind == kind.value, s.c.address == address)
        return found[0] if found else None

    def listing(
        self,
        conn: Connection,
        kind: SubscriberKind | None = None,
        state: SubscriberState | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Subscriber]:
        s = t.subscribers
        where = []
        if kind is not None:
            where.append(s.c.kind == kind.value)
        if state is not None:
            where.append(s.c.state == state.value)
        return self._load(conn, *where, limit=limit, offset=offset)

    def counts(self, conn: Connection) -> dict[tuple[str, str], int]:
        """Subscribers by (kind, state)."""
        s = t.subscribers
        rows = conn.execute(select(s.c.kind, s.c.state, func.count()).group_by(s.c.kind, s.c.state))
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def recipients(
        self,
        conn: Connection,
        component_ids: Sequence[str],
        component_updates_only: bool = False,
    ) -> list[str]:
        """Ids of the active subscribers an event about these components
        concerns: those following every component, and those following one
        of them. An event about no component (a page-wide incident) goes
        to every active subscriber."""
        s, sc = t.subscribers, t.subscriber_components
        query = select(s.c.id).where(s.c.state == SubscriberState.ACTIVE.value)
        if component_updates_only:
            query = query.where(s.c.component_updates.is_(True))
        if component_ids:
            follows = select(sc.c.subscriber_id).where(sc.c.component_id.in_(list(component_ids)))
            query = query.where(or_(s.c.all_components.is_(True), s.c.id.in_(follows)))
        return [r[0] for r in conn.execute(query.order_by(s.c.created_at, s.c.id))]

    def _set_components(
        self, conn: Connection, subscriber_id: str, component_ids: Iterable[str] | None
    ) -> None:
        sc = t.subscriber_components
        conn.execute(delete(sc).where(sc.c.subscriber_id == subscriber_id))
        for component_id in dict.fromkeys(component_ids or ()):
            conn.execute(insert(sc).values(subscriber_id=subscriber_id, component_id=component_id))

    def _load(
        self, conn: Connection, *where: Any, limit: int | None = None, offset: int = 0
    ) -> list[Subscriber]:
        s, sc = t.subscribers, t.subscriber_components
        query = select(s).where(*where).order_by(s.c.created_at.desc(), s.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows = list(conn.execute(query))
        components: dict[str, list[str]] = {}
        if rows:
            ids = [r.id for r in rows]
            for r in conn.execute(
                select(sc.c.subscriber_id, sc.c.component_id)
                .where(sc.c.subscriber_id.in_(ids))
                .order_by(sc.c.component_id)
            ):
                components.setdefault(r.subscriber_id, []).append(r.component_id)
        return [
            Subscriber(
                id=r.id,
                kind=SubscriberKind(r.kind),
                address=r.address,
                state=SubscriberState(r.state),
                all_components=bool(r.all_components),
                component_ids=tuple(components.get(r.id, ())),
                component_updates=bool(r.component_updates),
                confirm_nonce=r.confirm_nonce,
                link_version=int(r.link_version),
                secret_encrypted=r.secret_encrypted,
                consecutive_failures=int(r.consecutive_failures),
                last_error=r.last_error,
                created_by=r.created_by,
                created_at=r.created_at,
                confirmed_at=r.confirmed_at,
            )
            for r in rows
        ]
