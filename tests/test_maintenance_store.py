"""Maintenance in the store, on SQLite and PostgreSQL (the `store` fixture):
creation with its first update, `apply_transitions` at the edges and run
twice, the timeline in order, cancellation, the page's lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from statuspage.domain import MaintenanceStatus
from statuspage.maintenance import Window, components_under_maintenance
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.maintenance import MaintenanceChange, MaintenanceRepository

SCHEDULED = MaintenanceStatus.SCHEDULED
IN_PROGRESS = MaintenanceStatus.IN_PROGRESS
VERIFYING = MaintenanceStatus.VERIFYING
COMPLETED = MaintenanceStatus.COMPLETED
SECOND = timedelta(seconds=1)
CREATED = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
# Saturday 2026-10-24, 02:00-04:00 CEST.
START = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
END = datetime(2026, 10, 24, 2, 0, tzinfo=UTC)
BEGUN = "The scheduled maintenance has begun."
DONE = "The scheduled maintenance is complete."


@pytest.fixture
def repo(store: Store) -> MaintenanceRepository:
    components: list[dict[str, Any]] = [
        {"id": cid, "name": cid.title(), "description": "", "group_name": None, "checks": []}
        for cid in ("api", "payments", "web")
    ]
    with store.transaction() as conn:
        store.sync_components(conn, components, CREATED)
    return MaintenanceRepository(store)


def create(repo: MaintenanceRepository, **kwargs: object) -> str:
    values: dict[str, object] = {
        "title": "Database upgrade",
        "starts_at": START,
        "ends_at": END,
        "timezone": "Europe/Berlin",
        "components": ["payments", "api"],
        "created_by": "user:alice",
        "now": CREATED,
    }
    values.update(kwargs)
    return repo.create(**values).id  # type: ignore[arg-type]


def timeline(repo: MaintenanceRepository, maintenance_id: str) -> list[tuple[object, ...]]:
    m = repo.get(maintenance_id)
    assert m is not None
    return [(u.status, u.body, u.author, u.display_at, u.created_at) for u in m.updates]


def test_create_stores_the_window_components_and_a_first_update(
    repo: MaintenanceRepository,
) -> None:
    created = repo.create(
        title=" Database upgrade ",
        body="We upgrade the payments database.",
        starts_at=START,
        ends_at=END,
        timezone="Europe/Berlin",
        components=["payments", "api", "payments"],
        created_by="user:alice",
        now=CREATED,
    )
    assert re.fullmatch(r"[a-z0-9]{12}", created.id)
    assert repo.get(created.id) == created
    assert created.title == "Database upgrade"
    assert created.body == "We upgrade the payments database."
    assert (created.starts_at, created.ends_at) == (START, END)
    assert created.starts_at.tzinfo is UTC
    assert created.timezone == "Europe/Berlin"
    assert (created.recurrence, created.recurrence_until) == (None, None)
    assert created.status is SCHEDULED
    assert (created.created_by, created.created_at, created.updated_at) == (
        "user:alice",
        CREATED,
        CREATED,
    )
    assert created.cancelled_at is None and not created.cancelled
    assert created.components == ("api", "payments")
    [first] = created.updates
    assert (first.status, first.body, first.author) == (
        SCHEDULED,
        "We upgrade the payments database.",
        "user:alice",
    )
    assert (first.created_at, first.display_at, first.deliver_notifications) == (
        CREATED,
        CREATED,
        True,
    )
    assert re.fullmatch(r"[a-z0-9]{12}", first.id) and first.maintenance_id == created.id


def test_without_a_body_the_first_update_says_when_in_local_time(
    repo: MaintenanceRepository,
) -> None:
    mid = create(repo, deliver_notifications=False)
    m = repo.get(mid)
    assert m is not None
    assert [(u.body, u.deliver_notifications) for u in m.updates] == [
        ("Scheduled for Sat, Oct 24, 02:00 CEST until Sat, Oct 24, 04:00 CEST.", False)
    ]


def test_an_impossible_window_is_refused_and_nothing_is_written(
    repo: MaintenanceRepository, store: Store
) -> None:
    with pytest.raises(ValueError, match="ends_at must be after starts_at"):
        create(repo, ends_at=START)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.maintenances)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(t.maintenance_updates)).scalar() == 0


def test_create_in_the_callers_transaction_rolls_back_with_it(
    repo: MaintenanceRepository, store: Store
) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        mid = create(repo, conn=conn)
        assert repo.get(mid, conn=conn) is not None
        raise RuntimeError("the audit row failed")
    assert repo.get(mid) is None


def test_get_unknown_is_none(repo: MaintenanceRepository) -> None:
    assert repo.get("nosuchid0000") is None


def test_apply_transitions_at_the_edges_and_twice(repo: MaintenanceRepository) -> None:
    mid = create(repo)
    assert repo.apply_transitions(START - SECOND) == []
    assert repo.apply_transitions(START) == [MaintenanceChange(mid, SCHEDULED, IN_PROGRESS)]
    assert repo.apply_transitions(START) == []
    assert repo.apply_transitions(START + SECOND) == []
    assert repo.apply_transitions(END - SECOND) == []
    assert repo.apply_transitions(END) == [(mid, IN_PROGRESS, COMPLETED)]
    assert repo.apply_transitions(END) == []
    assert repo.apply_transitions(END + SECOND) == []
    m = repo.get(mid)
    assert m is not None
    assert (m.status, m.updated_at) == (COMPLETED, END)
    assert timeline(repo, mid) == [
        (SCHEDULED, "Scheduled for Sat, Oct 24, 02:00 CEST until Sat, Oct 24, 04:00 CEST.",
         "user:alice", CREATED, CREATED),
        (IN_PROGRESS, BEGUN, "automation", START, START),
        (COMPLETED, DONE, "automation", END, END),
    ]  # fmt: skip
    assert [u.deliver_notifications for u in m.updates] == [True, True, True]


def test_a_late_run_dates_the_change_when_it_happened(repo: MaintenanceRepository) -> None:
    mid = create(repo)
    late = END + timedelta(hours=1)
    assert repo.apply_transitions(late) == [(mid, SCHEDULED, COMPLETED)]
    assert timeline(repo, mid)[1:] == [(COMPLETED, DONE, "automation", END, late)]


def test_entered_while_running_starts_its_timeline_at_creation(
    repo: MaintenanceRepository,
) -> None:
    now = START + timedelta(minutes=30)
    mid = create(repo, body="Emergency patch.", now=now)
    assert repo.apply_transitions(now) == [(mid, SCHEDULED, IN_PROGRESS)]
    # Same instant: the lifecycle orders the two updates.
    assert timeline(repo, mid) == [
        (SCHEDULED, "Emergency patch.", "user:alice", now, now),
        (IN_PROGRESS, BEGUN, "automation", now, now),
    ]


def test_verifying_when_the_repository_asks_for_it(
    store: Store, repo: MaintenanceRepository
) -> None:
    verifying = MaintenanceRepository(store, verify_after=timedelta(minutes=15))
    mid = create(verifying)
    after = END + timedelta(minutes=15)
    assert verifying.apply_transitions(START) == [(mid, SCHEDULED, IN_PROGRESS)]
    assert verifying.apply_transitions(END) == [(mid, IN_PROGRESS, VERIFYING)]
    assert verifying.apply_transitions(after - SECOND) == []
    assert verifying.apply_transitions(after) == [(mid, VERIFYING, COMPLETED)]
    m = verifying.get(mid)
    assert m is not None
    assert [(u.status, u.body, u.display_at, u.deliver_notifications) for u in m.updates[1:]] == [
        (IN_PROGRESS, BEGUN, START, True),
        (
            VERIFYING,
            "The maintenance work is done; we are verifying that everything works.",
            END,
            False,
        ),
        (COMPLETED, DONE, after, True),
    ]


def test_a_daily_window_across_the_fall_back_night(repo: MaintenanceRepository) -> None:
    # Daily 02:00-04:00 Berlin, three times: Oct 24, 25 (02:00 CEST - 04:00
    # CET, three real hours) and 26 (CET).
    mid = create(
        repo, recurrence="daily", recurrence_until=datetime(2026, 10, 26, 1, 0, tzinfo=UTC)
    )
    edges = [
        (START, [(mid, SCHEDULED, IN_PROGRESS)]),
        (END, [(mid, IN_PROGRESS, SCHEDULED)]),
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), [(mid, SCHEDULED, IN_PROGRESS)]),
        (datetime(2026, 10, 25, 2, 0, tzinfo=UTC), []),
        (datetime(2026, 10, 25, 3, 0, tzinfo=UTC), [(mid, IN_PROGRESS, SCHEDULED)]),
        (datetime(2026, 10, 26, 1, 0, tzinfo=UTC) - SECOND, []),
        (datetime(2026, 10, 26, 1, 0, tzinfo=UTC), [(mid, SCHEDULED, IN_PROGRESS)]),
        (datetime(2026, 10, 26, 3, 0, tzinfo=UTC), [(mid, IN_PROGRESS, COMPLETED)]),
        (datetime(2026, 10, 27, 1, 0, tzinfo=UTC), []),
    ]
    for now, expected in edges:
        assert repo.apply_transitions(now) == expected, now
        assert repo.apply_transitions(now) == [], now
    m = repo.get(mid)
    assert m is not None
    assert [(u.status, u.body, u.display_at) for u in m.updates[1:]] == [
        (IN_PROGRESS, BEGUN, START),
        (
            SCHEDULED,
            "This occurrence of the maintenance is complete. The next one begins Sun, Oct 25, 02:00 CEST.",
            END,
        ),
        (IN_PROGRESS, BEGUN, datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),
        (
            SCHEDULED,
            "This occurrence of the maintenance is complete. The next one begins Mon, Oct 26, 02:00 CET.",
            datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
        ),
        (IN_PROGRESS, BEGUN, datetime(2026, 10, 26, 1, 0, tzinfo=UTC)),
        (COMPLETED, DONE, datetime(2026, 10, 26, 3, 0, tzinfo=UTC)),
    ]
    # Only the starts and the very end notify subscribers.
    assert [u.deliver_notifications for u in m.updates[1:]] == [
        True,
        False,
        True,
        False,
        True,
        True,
    ]


def test_several_maintenances_change_in_one_run_in_start_order(
    repo: MaintenanceRepository,
) -> None:
    later = create(repo, starts_at=START + timedelta(minutes=30))
    first = create(repo)
    untouched = create(repo, starts_at=END, ends_at=END + timedelta(hours=1))
    assert repo.apply_transitions(START + timedelta(hours=1)) == [
        (first, SCHEDULED, IN_PROGRESS),
        (later, SCHEDULED, IN_PROGRESS),
    ]
    assert repo.apply_transitions(END) == [
        (first, IN_PROGRESS, COMPLETED),
        (later, IN_PROGRESS, COMPLETED),
        (untouched, SCHEDULED, IN_PROGRESS),
    ]


def test_cancel(repo: MaintenanceRepository) -> None:
    mid = create(repo)
    cancelled_at = START - timedelta(hours=1)
    assert repo.cancel(mid, by="user:bob", now=cancelled_at) is True
    assert repo.cancel(mid, by="user:bob", now=cancelled_at) is False
    assert repo.cancel("nosuchid0000", by="user:bob", now=cancelled_at) is False
    m = repo.get(mid)
    assert m is not None
    assert (m.status, m.cancelled_at, m.cancelled, m.updated_at) == (
        COMPLETED,
        cancelled_at,
        True,
        cancelled_at,
    )
    assert timeline(repo, mid)[1:] == [
        (COMPLETED, "This scheduled maintenance has been cancelled.", "user:bob",
         cancelled_at, cancelled_at),
    ]  # fmt: skip
    # Never in progress, and gone from the windows the rules look at.
    assert repo.apply_transitions(START) == []
    assert repo.windows() == []


def test_a_completed_maintenance_cannot_be_cancelled(repo: MaintenanceRepository) -> None:
    mid = create(repo)
    repo.apply_transitions(END)
    assert repo.cancel(mid, by="user:bob", now=END + SECOND) is False


def test_windows_for_the_pure_rules(store: Store, repo: MaintenanceRepository) -> None:
    repo = MaintenanceRepository(store, verify_after=timedelta(minutes=5))
    mid = create(repo)
    other = create(repo, components=["web"], starts_at=END, ends_at=END + timedelta(hours=1))
    windows = {w.id: w for w in repo.windows()}
    assert windows[mid] == Window(
        id=mid,
        title="Database upgrade",
        starts_at=START,
        ends_at=END,
        timezone="Europe/Berlin",
        components=frozenset({"api", "payments"}),
        verify_after=timedelta(minutes=5),
    )
    assert windows[other].components == frozenset({"web"})
    assert components_under_maintenance(repo.windows(), START - SECOND) == set()
    assert components_under_maintenance(repo.windows(), START) == {"api", "payments"}
    assert components_under_maintenance(repo.windows(), END) == {"api", "payments", "web"}
    assert repo.next_change_at(START - timedelta(days=1)) == START
    assert repo.next_change_at(START) == END
    assert repo.next_change_at(END) == END + timedelta(minutes=5)
    repo.apply_transitions(END + timedelta(hours=2))
    assert repo.windows() == []
    assert repo.next_change_at(END + timedelta(hours=2)) is None


def test_the_page_lists_recompute_the_status_at_now(repo: MaintenanceRepository) -> None:
    now = START + timedelta(minutes=30)
    past = create(repo, starts_at=START - timedelta(days=2), ends_at=END - timedelta(days=2))
    running = create(repo)
    later = create(repo, starts_at=START + timedelta(days=3), ends_at=END + timedelta(days=3))
    soon = create(repo, starts_at=START + timedelta(days=1), ends_at=END + timedelta(days=1))
    weekly = create(
        repo,
        starts_at=START - timedelta(days=7),
        ends_at=END - timedelta(days=7),
        recurrence="weekly",
    )
    cancelled = create(repo, starts_at=START + timedelta(days=2), ends_at=END + timedelta(days=2))
    repo.cancel(cancelled, by="user:bob", now=START - timedelta(hours=1))
    # No apply_transitions ran: the stored statuses are stale, the lists are not.
    assert [m.id for m in repo.active(now)] == [weekly, running]
    assert [m.id for m in repo.upcoming(now)] == [soon, later]
    assert [m.id for m in repo.recent(now)] == [cancelled, past]
    assert [m.id for m in repo.recent(now, limit=1)] == [cancelled]
    assert [m.id for m in repo.upcoming(END)] == [soon, later, weekly]
    assert [m.id for m in repo.recent(END)] == [running, cancelled, past]
    assert [m.id for m in repo.active(END)] == []
