"""The notification outbox.

An *event* is written in the same transaction as the change it tells of
(an incident update, a maintenance status, a component transition), so a
change is never committed without its notification, nor the other way
round. A worker then *fans out* each event into one *delivery* per
subscriber it concerns, and sends deliveries one by one.

Every step that two workers could race on is a conditional update: fanning
out claims the event (`fanned_out_at IS NULL`), sending claims the delivery
(`state` and `claimed_until`), and finishing checks the claim is still the
worker's own. A worker that dies holding a claim leaves it to run out; the
delivery is then sent again with the same `message_id`, so a receiver can
drop the repeat (at-least-once, with a stable id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from statuspage.store import tables as t


class EventKind(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    MAINTENANCE_SCHEDULED = "maintenance.scheduled"
    MAINTENANCE_STARTED = "maintenance.started"
    MAINTENANCE_COMPLETED = "maintenance.completed"
    COMPONENT_UPDATED = "component.updated"
    SUBSCRIBER_CONFIRM = "subscriber.confirm"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # given up: permanent error or out of time
    DROPPED = "dropped"  # the subscriber left before it was sent


@dataclass(frozen=True)
class Event:
    id: int
    kind: EventKind
    payload: dict[str, Any]
    component_ids: list[str]
    subscriber_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Task:
    """A claimed delivery, with what the sender needs."""

    delivery_id: int
    message_id: str
    attempts: int  # including this one
    created_at: datetime
    event_id: int
    event_kind: EventKind
    document: dict[str, Any]
    subscriber_id: str


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery as staff see it in the admin."""

    id: int
    message_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    event_kind: str
    subscriber_id: str
    subscriber_kind: str
    subscriber_address: str


def enqueue(
    conn: Connection,
    kind: EventKind,
    payload: Mapping[str, Any],
    now: datetime,
    component_ids: Sequence[str] = (),
    subscriber_id: str | None = None,
) -> int:
    """Write an event in the caller's transaction; returns its id."""
    result = conn.execute(
        insert(t.outbox_events).values(
            kind=kind.value,
            payload=json.dumps(dict(payload), sort_keys=True, default=str),
            component_ids=json.dumps(list(dict.fromkeys(component_ids))),
            subscriber_id=subscriber_id,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class OutboxRepository:
    # --- fan-out -----------------------------------------------------------

    def waiting_events(self, conn: Connection, limit: int = 100) -> list[Event]:
        e = t.outbox_events
        rows = conn.execute(
            select(e).where(e.c.fanned_out_at.is_(None)).order_by(e.c.id).limit(limit)
        )
        return [
            Event(
                id=r.id,
                kind=EventKind(r.kind),
                payload=json.loads(r.payload),
                component_ids=json.loads(r.component_ids),
                subscriber_id=r.subscriber_id,
                created_at=r.created_at,
            )
            for r in rows
        ]

    def claim_event(self, conn: Connection, event_id: int, now: datetime) -> bool:
        """Mark the event fanned out, if no one else has; the caller writes
        its deliveries in the same transaction."""
        e = t.outbox_events
        done = conn.execute(
            update(e)
            .where(e.c.id == event_id, e.c.fanned_out_at.is_(None))
            .values(fanned_out_at=now)
        ).rowcount
        return done == 1

    def fan_out(
        self,
        conn: Connection,
        event_id: int,
        document: Mapping[str, Any] | None,
        subscriber_ids: Sequence[str],
        now: datetime,
    ) -> int:
        """Store the event's document and one pending delivery per
        subscriber; a delivery already there is kept. Returns how many."""
        conn.execute(
            update(t.outbox_events)
            .where(t.outbox_events.c.id == event_id)
            .values(document=json.dumps(document, sort_keys=True) if document else None)
        )
        rows = [
            {
                "event_id": event_id,
                "subscriber_id": sid,
                "message_id": message_id(event_id, sid),
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for sid in dict.fromkeys(subscriber_ids)
        ]
        if not rows:
            return 0
        dialect = conn.dialect.name
        builder: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = builder(t.outbox_deliveries).on_conflict_do_nothing(
            index_elements=["event_id", "subscriber_id"]
        )
        conn.execute(stmt, rows)
        return len(rows)

    # --- sending -----------------------------------------------------------

    def claim(
        self, conn: Connection, worker: str, now: datetime, lease: timedelta, limit: int = 20
    ) -> list[Task]:
        """Claim up to `limit` deliveries that are due, or whose claim ran
        out (a worker died mid-send). Each claim is a conditional update, so
        two workers never hold the same delivery."""
        d = t.outbox_deliveries
        due = or_(
            and_(d.c.state == DeliveryState.PENDING.value, d.c.next_attempt_at <= now),
            and_(d.c.state == DeliveryState.SENDING.value, d.c.claimed_until < now),
        )
        candidates = [
            r[0]
            for r in conn.execute(
                select(d.c.id).where(due).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
            )
        ]
        claimed = []
        for delivery_id in candidates:
            done = conn.execute(
                update(d)
                .where(d.c.id == delivery_id, due)
                .values(
                    state=DeliveryState.SENDING.value,
                    claimed_by=worker,
                    claimed_until=now + lease,
                    attempts=d.c.attempts + 1,
                )
            ).rowcount
            if done == 1:
                claimed.append(delivery_id)
        if not claimed:
            return []
        e = t.outbox_events
        rows = conn.execute(
            select(
                d.c.id,
                d.c.message_id,
                d.c.attempts,
                d.c.created_at,
                d.c.subscriber_id,
                e.c.id.label("event_id"),
                e.c.kind,
                e.c.document,
            )
            .join(e, e.c.id == d.c.event_id)
            .where(d.c.id.in_(claimed))
            .order_by(d.c.id)
        )
        return [
            Task(
                delivery_id=r.id,
                message_id=r.message_id,
                attempts=int(r.attempts),
                created_at=r.created_at,
                event_id=r.event_id,
                event_kind=EventKind(r.kind),
                document=json.loads(r.document) if r.document else {},
                subscriber_id=r.subscriber_id,
            )
            for r in rows
        ]

    def finish(
        self,
        conn: Connection,
        delivery_id: int,
        worker: str,
        state: DeliveryState,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Close the worker's claim: sent, retry later (`PENDING` with
        `next_attempt_at`), failed or dropped. False when the claim was no
        longer the worker's (it ran out and another worker took it)."""
        d = t.outbox_deliveries
        values: dict[str, Any] = {"state": state.value, "claimed_by": None, "claimed_until": None}
        if state is DeliveryState.SENT:
            values["sent_at"] = now
        if error is not None:
            values["last_error"] = error[:2000]
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        done = conn.execute(
            update(d)
            .where(
                d.c.id == delivery_id,
                d.c.claimed_by == worker,
                d.c.state == DeliveryState.SENDING.value,
            )
            .values(values)
        ).rowcount
        return done == 1

    def drop_pending_for(self, conn: Connection, subscriber_id: str, reason: str) -> int:
        """Drop what is still waiting for a subscriber that left or was disabled."""
        d = t.outbox_deliveries
        return conn.execute(
            update(d)
            .where(d.c.subscriber_id == subscriber_id, d.c.state == DeliveryState.PENDING.value)
            .values(state=DeliveryState.DROPPED.value, last_error=reason)
        ).rowcount

    def retry_now(self, conn: Connection, delivery_id: int, now: datetime) -> bool:
        """Staff: send a failed or waiting delivery again at once."""
        d = t.outbox_deliveries
        done = conn.execute(
            update(d)
            .where(
                d.c.id == delivery_id,
                d.c.state.in_([DeliveryState.PENDING.value, DeliveryState.FAILED.value]),
            )
            .values(state=DeliveryState.PENDING.value, next_attempt_at=now)
        ).rowcount
        return done == 1

    # --- reading -------------------------------------------------------------

    def next_due(self, conn: Connection) -> datetime | None:
        d = t.outbox_deliveries
        return conn.execute(
            select(func.min(d.c.next_attempt_at)).where(d.c.state == DeliveryState.PENDING.value)
        ).scalar()

    def depth(self, conn: Connection) -> dict[str, int]:
        """Deliveries by state, plus events not yet fanned out."""
        d, e = t.outbox_deliveries, t.outbox_events
        found = {s.value: 0 for s in DeliveryState}
        for state, count in conn.execute(select(d.c.state, func.count()).group_by(d.c.state)):
            found[state] = int(count)
        found["events_waiting"] = int(
            conn.execute(
                select(func.count()).select_from(e).where(e.c.fanned_out_at.is_(None))
            ).scalar_one()
        )
        return found

    def retrying(self, conn: Connection) -> int:
        d = t.outbox_deliveries
        return int(
            conn.execute(
                select(func.count())
                .select_from(d)
                .where(d.c.state == DeliveryState.PENDING.value, d.c.attempts > 0)
            ).scalar_one()
        )

    def deliveries(
        self,
        conn: Connection,
        state: DeliveryState | None = None,
        subscriber_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DeliveryRow]:
        d, e, s = t.outbox_deliveries, t.outbox_events, t.subscribers
        query = (
            select(
                d.c.id,
                d.c.message_id,
                d.c.state,
                d.c.attempts,
                d.c.next_attempt_at,
                d.c.last_error,
                d.c.created_at,
                d.c.sent_at,
                e.c.kind,
                s.c.id.label("subscriber_id"),
                s.c.kind.label("subscriber_kind"),
                s.c.address,
            )
            .join(e, e.c.id == d.c.event_id)
            .join(s, s.c.id == d.c.subscriber_id)
            .order_by(d.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if state is not None:
            query = query.where(d.c.state == state.value)
        if subscriber_id is not None:
            query = query.where(d.c.subscriber_id == subscriber_id)
        return [
            DeliveryRow(
                id=r.id,
                message_id=r.message_id,
                state=DeliveryState(r.state),
                attempts=int(r.attempts),
                next_attempt_at=r.next_attempt_at,
                last_error=r.last_error,
                created_at=r.created_at,
                sent_at=r.sent_at,
                event_kind=r.kind,
                subscriber_id=r.subscriber_id,
                subscriber_kind=r.subscriber_kind,
                subscriber_address=r.address,
            )
            for r in conn.execute(query)
        ]


def message_id(event_id: int, subscriber_id: str) -> str:
    """The delivery's id, the same on every attempt: `Message-ID` of a
    mail (with the site's host added) and `webhook-id` of a webhook."""
    return f"msg_{event_id}_{subscriber_id}"
