"""The audit log: who changed what, when, and how it looked before and after.

Every change made by a person or by automation is written here, in the same
transaction as the change itself, so that a change without its row (or a row
without its change) cannot happen. The app only appends: there is no
function to edit or delete an entry (WEB-18).

Actors are spelled `user:alice`, `token:ci`, `cli`, `automation`, or
`ip:203.0.113.7` for someone not logged in (a failed login).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, func, insert, select

from statuspage.store import Store
from statuspage.store import tables as t

ACTOR_MAX_CHARS = 120
TARGET_ID_MAX_CHARS = 140


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    conn: Connection,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: datetime,
) -> None:
    """Append one entry. `before` is None for a creation, `after` for a
    deletion. Values are stored as JSON with sorted keys; datetimes become
    ISO 8601 strings."""
    conn.execute(
        insert(t.audit_log).values(
            at=at,
            actor=actor[:ACTOR_MAX_CHARS],
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:TARGET_ID_MAX_CHARS],
            before=_to_json(before),
            after=_to_json(after),
        )
    )


def recent(store: Store, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """Entries newest first."""
    query = (
        select(t.audit_log)
        .order_by(t.audit_log.c.at.desc(), t.audit_log.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as conn:
        return [_entry(r) for r in conn.execute(query)]


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one())


def times_since(
    store: Store,
    action: str,
    since: datetime,
    *,
    actor: str | None = None,
    target_id: str | None = None,
    limit: int = 100,
) -> list[datetime]:
    """When `action` happened after `since` (newest first), optionally only
    by one actor or on one target. The login limiter counts with it."""
    query = select(t.audit_log.c.at).where(t.audit_log.c.action == action, t.audit_log.c.at > since)
    if actor is not None:
        query = query.where(t.audit_log.c.actor == actor[:ACTOR_MAX_CHARS])
    if target_id is not None:
        query = query.where(t.audit_log.c.target_id == target_id[:TARGET_ID_MAX_CHARS])
    query = query.order_by(t.audit_log.c.at.desc()).limit(limit)
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in the audit log")


def _to_json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(dict(value), sort_keys=True, default=_jsonable, ensure_ascii=False)


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        id=r.id,
        at=r.at,
        actor=r.actor,
        action=r.action,
        target_type=r.target_type,
        target_id=r.target_id,
        before=json.loads(r.before) if r.before is not None else None,
        after=json.loads(r.after) if r.after is not None else None,
    )
