"""The outbox: events written with the change that caused them, fanned out
once, claimed by one worker at a time, retried with backoff, and resent
with the same id after a crash. Runs on SQLite and PostgreSQL; the channel
here is a recorder (the email and webhook channels have their own tests
against a real SMTP server and a real receiver)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from statuspage.config import Config, parse_config
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.notify.channel import Links, Outcome
from statuspage.notify.settings import RetrySettings, backoff_delay
from statuspage.notify.worker import OutboxWorker, subscriber_links
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.store.incidents import IncidentRepository
from statuspage.store.maintenance import MaintenanceRepository
from statuspage.store.outbox import DeliveryState, EventKind, OutboxRepository, Task
from statuspage.store.subscribers import (
    Subscriber,
    SubscriberKind,
    SubscriberRepository,
    SubscriberState,
)
from statuspage.uptime import Transition
from tests.conftest import FakeClock

KEY = "outbox-test-key-" + "x" * 32
MAJOR = ComponentStatus.MAJOR_OUTAGE
OK = ComponentStatus.OPERATIONAL


@dataclass
class Recorder:
    """A channel that keeps what it was asked to send and answers from a
    script (then `sent` for ever)."""

    script: list[Outcome] = field(default_factory=list)
    # An answer for one address, every time.
    by_address: dict[str, Outcome] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (message id, address, event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, task: Task, subscriber: Subscriber, links: Links) -> Outcome:
        with self.lock:
            self.sent.append((task.message_id, subscriber.address, task.event_kind.value))
            if subscriber.address in self.by_address:
                return self.by_address[subscriber.address]
            return self.script.pop(0) if self.script else Outcome.sent()


@pytest.fixture
def config(tmp_path: Any) -> Config:
    return parse_config(
        {
            "site": {"title": "Acme Status", "url": "https://status.acme.test"},
            "components": [
                {"id": "api", "name": "API"},
                {"id": "payments", "name": "Payments"},
            ],
        },
        env={},
    )


@pytest.fixture
def db(store: Store, config: Config, clock: FakeClock) -> Store:
    components = [
        {"id": c.id, "name": c.name, "description": "", "group_name": None, "checks": []}
        for c in config.components
    ]
    with store.transaction() as conn:
        store.sync_components(conn, components, clock())
    return store


def make_worker(
    config: Config, store: Store, clock: FakeClock, channel: Recorder, name: str = "w1"
) -> OutboxWorker:
    channels = {SubscriberKind.EMAIL: channel, SubscriberKind.WEBHOOK: channel}
    return OutboxWorker(config, store, KEY, channels, clock, name=name, jitter=lambda: 1.0)


def subscribe(
    store: Store,
    clock: FakeClock,
    address: str,
    components: list[str] | None = None,
    component_updates: bool = False,
) -> str:
    """An active email subscriber (confirmed at once)."""
    repo = SubscriberRepository()
    with store.transaction() as conn:
        signup = repo.subscribe_email(
            conn,
            address,
            component_ids=components,
            component_updates=component_updates,
            now=clock(),
        )
        row = repo.get(conn, signup.subscriber_id)
        assert row is not None and row.confirm_nonce
        assert repo.confirm(conn, row.id, row.confirm_nonce, clock())
    return signup.subscriber_id


def open_incident(
    store: Store, clock: FakeClock, components: dict[str, ComponentStatus], **kw: Any
) -> str:
    with store.transaction() as conn:
        return IncidentRepository(store).create(
            conn,
            name=kw.pop("name", "Payments outage"),
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MAJOR,
            components=components,
            body="We are looking into it.",
            author="user:alice",
            now=clock(),
            **kw,
        )


def events(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        e = t.outbox_events
        return [(r.kind, r.payload) for r in conn.execute(select(e).order_by(e.c.id))]


def deliveries(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return OutboxRepository().deliveries(conn, limit=1000)


# --- events are written with the change ----------------------------------------


def test_an_incident_and_its_event_commit_together(db: Store, clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), db.transaction() as conn:
        IncidentRepository(db).create(
            conn,
            name="x",
            status=IncidentStatus.INVESTIGATING,
            impact=IncidentImpact.MINOR,
            components={"api": MAJOR},
            body="b",
            author="user:a",
            now=clock(),
        )
        assert len(events_in(conn)) == 1
        raise RuntimeError("the request failed after writing")
    assert events(db) == []  # rolled back together: no notification of nothing
    open_incident(db, clock, {"api": MAJOR})
    assert [kind for kind, _ in events(db)] == ["incident.created"]


def events_in(conn: Any) -> list[Any]:
    return list(conn.execute(select(t.outbox_events)))


def test_drafts_and_silent_updates_tell_no_one_until_published(db: Store, clock: FakeClock) -> None:
    repo = IncidentRepository(db)
    draft = open_incident(db, clock, {"api": MAJOR}, publish=False)
    assert events(db) == []
    with db.transaction() as conn:
        repo.add_update(
            conn,
            draft,
            status=IncidentStatus.IDENTIFIED,
            body="found it",
            author="user:a",
            now=clock(),
        )
    assert events(db) == []
    with db.transaction() as conn:
        assert repo.publish(conn, draft, clock())
        assert not repo.publish(conn, draft, clock())  # a second click tells no one again
    with db.transaction() as conn:
        repo.add_update(
            conn,
            draft,
            status=IncidentStatus.MONITORING,
            body="quiet fix",
            author="user:a",
            now=clock(),
            deliver_notifications=False,
        )
        repo.resolve(conn, draft, body="all good", author="user:a", now=clock())
    assert [kind for kind, _ in events(db)] == ["incident.created", "incident.updated"]


def test_maintenance_tells_when_scheduled_started_and_completed(
    db: Store, clock: FakeClock
) -> None:
    repo = MaintenanceRepository(db)
    repo.create(
        title="Database upgrade",
        starts_at=clock() + timedelta(hours=1),
        ends_at=clock() + timedelta(hours=2),
        timezone="UTC",
        components=["payments"],
        created_by="user:a",
        now=clock(),
    )
    repo.apply_transitions(clock.advance(hours=1, minutes=1))
    repo.apply_transitions(clock.advance(hours=2))
    kinds = [kind for kind, _ in events(db)]
    assert kinds == ["maintenance.scheduled", "maintenance.started", "maintenance.completed"]


def test_component_changes_are_events_but_not_to_or_from_no_data(
    db: Store, clock: FakeClock
) -> None:
    unknown = ComponentStatus.UNKNOWN
    with db.transaction() as conn:
        for old, new in ((None, OK), (OK, unknown), (unknown, OK), (OK, MAJOR), (MAJOR, OK)):
            db.insert_transition(conn, "api", Transition(clock(), old, new, "checks"), clock())
    payloads = [p for kind, p in events(db) if kind == "component.updated"]
    assert len(payloads) == 2
    assert '"new_status": "major_outage"' in payloads[0]


# --- fan-out ------------------------------------------------------------------


def test_fan_out_reaches_those_who_follow_the_components(
    db: Store, config: Config, clock: FakeClock
) -> None:
    everyone = subscribe(db, clock, "all@example.com")
    payments = subscribe(db, clock, "pay@example.com", components=["payments"])
    subscribe(db, clock, "api@example.com", components=["api"])
    gone = subscribe(db, clock, "gone@example.com")
    with db.transaction() as conn:
        assert SubscriberRepository().unsubscribe(conn, gone, 1, clock())
    open_incident(db, clock, {"payments": MAJOR})
    channel = Recorder()
    make_worker(config, db, clock, channel).run_once()
    assert sorted(address for _, address, _ in channel.sent) == [
        "all@example.com",
        "pay@example.com",
    ]
    assert {d.subscriber_id for d in deliveries(db)} == {everyone, payments}


def test_component_updates_go_only_to_those_who_asked(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "incidents-only@example.com")
    subscribe(db, clock, "every-change@example.com", component_updates=True)
    with db.transaction() as conn:
        db.insert_transition(conn, "api", Transition(clock(), OK, MAJOR, "checks"), clock())
    channel = Recorder()
    make_worker(config, db, clock, channel).run_once()
    assert [(a, e) for _, a, e in channel.sent] == [
        ("every-change@example.com", "component.updated")
    ]
    with db.engine.connect() as conn:
        document = conn.execute(select(t.outbox_events.c.document)).scalar_one()
    assert '"old_status": "operational"' in document
    assert '"new_status": "major_outage"' in document


def test_fan_out_is_done_once_however_many_workers_run(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "a@example.com")
    open_incident(db, clock, {"api": MAJOR})
    channel = Recorder()
    first, second = (make_worker(config, db, clock, channel, n) for n in ("w1", "w2"))
    assert first.fan_out() == 1
    assert second.fan_out() == 0
    first.run_once()
    second.run_once()
    assert len(channel.sent) == 1
    assert len(deliveries(db)) == 1


def test_the_document_is_shaped_like_statuspage_webhooks(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "a@example.com")
    incident_id = open_incident(db, clock, {"payments": MAJOR}, name="Payments down")
    channel = Recorder()
    worker = make_worker(config, db, clock, channel)
    worker.fan_out()
    with db.engine.connect() as conn:
        tasks = OutboxRepository().claim(conn, "w1", clock(), timedelta(minutes=1))
    document = tasks[0].document
    assert document["event"] == "incident.created"
    assert document["page"]["name"] == "Acme Status"
    assert document["incident"]["id"] == incident_id
    assert document["incident"]["name"] == "Payments down"
    assert document["incident"]["incident_updates"][0]["body"] == "We are looking into it."
    assert document["update"]["status"] == "investigating"
    assert document["incident"]["shortlink"] == f"https://status.acme.test/incidents/{incident_id}"


# --- delivery -----------------------------------------------------------------


def test_a_failing_delivery_is_retried_with_backoff_then_sent_once(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "a@example.com")
    open_incident(db, clock, {"api": MAJOR})
    channel = Recorder(script=[Outcome.retry("421 try later"), Outcome.retry("timed out")])
    worker = make_worker(config, db, clock, channel)
    assert worker.run_once() == 1
    (row,) = deliveries(db)
    assert row.state is DeliveryState.PENDING
    assert row.last_error == "421 try later"
    assert row.next_attempt_at == clock() + timedelta(seconds=30)
    assert worker.run_once() == 0  # not due yet
    clock.advance(seconds=30)
    assert worker.run_once() == 1
    (row,) = deliveries(db)
    assert row.next_attempt_at == clock() + timedelta(seconds=60)  # doubled
    clock.advance(seconds=60)
    worker.run_once()
    (row,) = deliveries(db)
    assert (row.state, row.attempts) == (DeliveryState.SENT, 3)
    assert len({message_id for message_id, _, _ in channel.sent}) == 1  # one id for all tries
    clock.advance(hours=5)
    assert worker.run_once() == 0


def test_a_permanent_failure_disables_the_recipient_and_drops_the_rest(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscriber = subscribe(db, clock, "bounces@example.com")
    subscribe(db, clock, "fine@example.com")
    open_incident(db, clock, {"api": MAJOR})
    open_incident(db, clock, {"payments": MAJOR}, name="second")
    channel = Recorder(by_address={"bounces@example.com": Outcome.permanent("550 no such user")})
    make_worker(config, db, clock, channel).run_once()
    by_state: dict[str, list[str]] = {}
    for d in deliveries(db):
        by_state.setdefault(d.state.value, []).append(d.subscriber_address)
    assert by_state["failed"] == ["bounces@example.com"]
    assert by_state["dropped"] == ["bounces@example.com"]
    assert sorted(by_state["sent"]) == ["fine@example.com", "fine@example.com"]
    with db.engine.connect() as conn:
        row = SubscriberRepository().get(conn, subscriber)
        audit = conn.execute(
            select(t.audit_log.c.action).where(t.audit_log.c.target_id == subscriber)
        ).scalars()
        assert row is not None and row.state is SubscriberState.DISABLED
        assert list(audit) == ["subscriber.disabled"]


def test_a_delivery_failing_for_too_long_is_given_up(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "a@example.com")
    open_incident(db, clock, {"api": MAJOR})
    channel = Recorder(script=[Outcome.retry("down")] * 100)
    worker = make_worker(config, db, clock, channel)
    for _ in range(40):
        worker.run_once()
        clock.advance(hours=1)
    (row,) = deliveries(db)
    assert row.state is DeliveryState.FAILED
    assert row.last_error is not None and row.last_error.startswith("gave up after")
    # Hourly at most after the first doubling steps, and then no more.
    assert 20 <= row.attempts <= 32


def test_a_worker_that_died_mid_send_is_replaced_with_the_same_message_id(
    db: Store, config: Config, clock: FakeClock
) -> None:
    """The worker claimed, sent, and died before marking it sent: after its
    claim runs out another worker sends again, with the same id."""
    subscribe(db, clock, "a@example.com")
    open_incident(db, clock, {"api": MAJOR})
    channel = Recorder()
    dead = make_worker(config, db, clock, channel, "dead")
    dead.fan_out()
    with db.transaction() as conn:
        (task,) = OutboxRepository().claim(conn, "dead", clock(), dead.lease)
    channel.send(task, _subscriber(db, task.subscriber_id), _links(config, db, task))
    alive = make_worker(config, db, clock, channel, "alive")
    assert alive.run_once() == 0  # the claim still holds
    clock.advance(seconds=dead.lease.total_seconds() + 1)
    assert alive.run_once() == 1
    assert [m for m, _, _ in channel.sent] == [task.message_id, task.message_id]
    (row,) = deliveries(db)
    assert (row.state, row.attempts) == (DeliveryState.SENT, 2)
    with db.transaction() as conn:  # the dead worker's late report changes nothing
        assert not OutboxRepository().finish(
            conn, task.delivery_id, "dead", DeliveryState.PENDING, clock(), "late"
        )


def _subscriber(store: Store, subscriber_id: str) -> Subscriber:
    with store.engine.connect() as conn:
        found = SubscriberRepository().get(conn, subscriber_id)
    assert found is not None
    return found


def _links(config: Config, store: Store, task: Task) -> Links:
    from statuspage.notify.tokens import LinkSigner

    return subscriber_links(config, LinkSigner(KEY), _subscriber(store, task.subscriber_id))


def test_racing_workers_send_each_delivery_once(
    db: Store, config: Config, clock: FakeClock
) -> None:
    for n in range(30):
        subscribe(db, clock, f"s{n}@example.com")
    for n in range(3):
        open_incident(db, clock, {"api": MAJOR}, name=f"incident {n}")
    channel = Recorder()
    workers = [make_worker(config, db, clock, channel, f"w{n}") for n in range(4)]
    errors: list[BaseException] = []

    def work(worker: OutboxWorker) -> None:
        try:
            worker.run_once()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if db.backend == "sqlite":
        # SQLite lets one writer in at a time; a worker that lost the race
        # for the lock tries again on its next pass.
        errors.clear()
        for worker in workers:
            worker.run_once()
    assert errors == []
    message_ids = [m for m, _, _ in channel.sent]
    assert len(message_ids) == 90
    assert len(set(message_ids)) == 90
    with db.engine.connect() as conn:
        sent = conn.execute(
            select(func.count())
            .select_from(t.outbox_deliveries)
            .where(t.outbox_deliveries.c.state == "sent")
        ).scalar_one()
    assert sent == 90


def test_a_confirmation_goes_only_to_its_subscriber_and_only_while_pending(
    db: Store, config: Config, clock: FakeClock
) -> None:
    from statuspage.store.outbox import enqueue

    subscribe(db, clock, "active@example.com")
    repo = SubscriberRepository()
    with db.transaction() as conn:
        signup = repo.subscribe_email(
            conn, "new@example.com", component_ids=None, component_updates=False, now=clock()
        )
        enqueue(conn, EventKind.SUBSCRIBER_CONFIRM, {}, clock(), subscriber_id=signup.subscriber_id)
        again = repo.subscribe_email(
            conn, "active@example.com", component_ids=None, component_updates=False, now=clock()
        )
        assert not again.confirm  # already active: nothing to confirm, nothing changes
    channel = Recorder()
    make_worker(config, db, clock, channel).run_once()
    assert [(a, e) for _, a, e in channel.sent] == [("new@example.com", "subscriber.confirm")]


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    settings = RetrySettings()
    delays = [backoff_delay(n, settings, 1.0) for n in range(1, 10)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == timedelta(hours=1)
    assert backoff_delay(3, settings, 0.5) == timedelta(seconds=60)
    assert backoff_delay(3, settings, 0.0) == timedelta(seconds=60)  # never below half


def test_metrics_show_the_outbox_depth_and_retrying_deliveries(
    db: Store, config: Config, clock: FakeClock
) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from statuspage.metrics import OutboxCollector

    subscribe(db, clock, "a@example.com")
    subscribe(db, clock, "b@example.com")
    open_incident(db, clock, {"api": MAJOR})
    registry = CollectorRegistry()
    registry.register(OutboxCollector(db))
    text = generate_latest(registry).decode()
    assert "statuspage_outbox_events_waiting 1.0" in text
    channel = Recorder(by_address={"a@example.com": Outcome.retry("421 busy")})
    make_worker(config, db, clock, channel).run_once()
    text = generate_latest(registry).decode()
    assert "statuspage_outbox_events_waiting 0.0" in text
    assert 'statuspage_outbox_deliveries{state="pending"} 1.0' in text
    assert 'statuspage_outbox_deliveries{state="sent"} 1.0' in text
    assert "statuspage_outbox_retrying 1.0" in text
    assert 'statuspage_subscribers{kind="email",state="active"} 2.0' in text


def test_a_receiver_asking_to_wait_is_given_that_long(
    db: Store, config: Config, clock: FakeClock
) -> None:
    subscribe(db, clock, "a@example.com")
    open_incident(db, clock, {"api": MAJOR})
    wait = Outcome.retry("HTTP 429", retry_after=timedelta(minutes=10))
    worker = make_worker(config, db, clock, Recorder(script=[wait]))
    worker.run_once()
    (row,) = deliveries(db)
    assert row.next_attempt_at == clock() + timedelta(minutes=10)  # not the 30 s backoff
    huge = Outcome.retry("HTTP 503", retry_after=timedelta(days=3))
    worker = make_worker(config, db, clock, Recorder(script=[huge]))
    clock.advance(minutes=10)
    worker.run_once()
    (row,) = deliveries(db)
    assert row.next_attempt_at == clock() + timedelta(hours=1)  # capped at max_delay
