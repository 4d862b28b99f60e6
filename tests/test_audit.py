"""The audit log: JSON with sorted keys, newest first, append-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from statuspage import audit
from statuspage.auth import Role
from statuspage.store import Store
from statuspage.store import tables as t
from tests.conftest import FakeClock


def test_record_writes_sorted_json_in_the_callers_transaction(
    store: Store, clock: FakeClock
) -> None:
    with store.transaction() as conn:
        audit.record(
            conn,
            "user:alice",
            "incident.update",
            "incident",
            "abc123",
            {"status": "investigating", "impact": "major"},
            {
                "status": "identified",
                "impact": "major",
                "at": datetime(2026, 9, 15, 8, 36, tzinfo=UTC),
            },
            clock(),
        )
    with store.engine.connect() as conn:
        row = conn.execute(select(t.audit_log)).one()
    assert row.before == '{"impact": "major", "status": "investigating"}'
    assert row.after == (
        '{"at": "2026-09-15T08:36:00+00:00", "impact": "major", "status": "identified"}'
    )
    assert (row.actor, row.action, row.target_type, row.target_id, row.at) == (
        "user:alice",
        "incident.update",
        "incident",
        "abc123",
        clock(),
    )


def test_a_failed_change_leaves_no_entry(store: Store, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        audit.record(conn, "automation", "incident.open", "incident", "x", None, {}, clock())
        raise RuntimeError("the change itself failed")
    assert audit.recent(store) == []


def test_recent_is_newest_first_with_paging(store: Store, clock: FakeClock) -> None:
    for n in range(5):
        with store.transaction() as conn:
            audit.record(conn, "cli", "user.create", "user", f"u{n}", None, {"n": n}, clock())
        clock.advance(1 if n != 2 else 0)  # two entries share a second: id decides
    entries = audit.recent(store, limit=2, offset=1)
    assert [e.target_id for e in entries] == ["u3", "u2"]
    assert entries[0].after == {"n": 3} and entries[0].before is None
    assert [e.target_id for e in audit.recent(store)] == ["u4", "u3", "u2", "u1", "u0"]
    assert audit.count(store) == 5


def test_values_are_stored_as_json_types(store: Store, clock: FakeClock) -> None:
    with store.transaction() as conn:
        audit.record(
            conn,
            "cli",
            "user.role",
            "user",
            7,
            {"role": Role.EDITOR, "tags": {"b", "a"}},
            {"role": Role.ADMIN},
            clock(),
        )
        with pytest.raises(TypeError, match="cannot store object in the audit log"):
            audit.record(conn, "cli", "x", "x", "x", None, {"bad": object()}, clock())
    (entry,) = audit.recent(store)
    assert entry.target_id == "7"
    assert entry.before == {"role": "editor", "tags": ["a", "b"]}


def test_times_since_filters_by_action_actor_and_target(store: Store, clock: FakeClock) -> None:
    start = clock()
    with store.transaction() as conn:
        audit.record(conn, "ip:192.0.2.1", "user.login_failed", "user", "alice", None, None, start)
        clock.advance(10)
        audit.record(conn, "ip:192.0.2.2", "user.login_failed", "user", "bob", None, None, clock())
        audit.record(conn, "ip:192.0.2.1", "user.login", "user", "alice", None, None, clock())
    failed = "user.login_failed"
    assert audit.times_since(store, failed, start) == [clock()]  # strictly after `since`
    assert audit.times_since(store, failed, start.replace(year=2000)) == [clock(), start]
    assert audit.times_since(store, failed, start.replace(year=2000), actor="ip:192.0.2.1") == [
        start
    ]
    assert audit.times_since(store, failed, start.replace(year=2000), target_id="bob") == [clock()]


def test_the_app_has_no_way_to_change_or_delete_entries() -> None:
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if n.startswith(("update", "delete", "remove", "edit", "purge"))}
    # Nothing in the package writes to the table except by inserting.
    import pathlib

    package = pathlib.Path(audit.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        for verb in (
            "update(t.audit_log",
            "delete(t.audit_log",
            "audit_log.update",
            "audit_log.delete",
        ):
            assert verb not in text, f"{path} changes the audit log"
