"""Our own metrics, for Prometheus: what the page says, read at scrape time.

Two collectors, neither module-level (each app has its own registry):

`StoreCollector` reads the store on every scrape, so a web process that runs
no checks still exposes the truth the scheduler wrote:

- `statuspage_component_status{component, status}`: 1 for the component's
  current status, 0 for every other one (`unknown` included);
- `statuspage_check_up{check}`: 1 when the last result was operational, 0
  otherwise (failing, or no data yet); `statuspage_check_has_data{check}`
  tells the two zeros apart (0 before the first result and while the last
  one carried no data), because NaN would break every comparison;
- `statuspage_check_last_result_timestamp_seconds{check}`: when the check
  last reported (absent before its first result);
- `statuspage_last_poll_timestamp_seconds`: the scheduler's heartbeat
  (REL-05, REL-11). Absent until a scheduler has beaten once: alert on
  `absent(...)` or on `time() - statuspage_last_poll_timestamp_seconds > 60`;
- `statuspage_scheduler_missed_runs_total`: runs that could not start on time;
- `statuspage_open_incidents`: published, unresolved incidents.

`SchedulerMetrics` is owned by a `CheckScheduler` and counts what only the
process that runs the checks sees: check durations, results by status and
how late runs started. It is registered in the app's registry when the
scheduler runs in the same process as the web app (`statuspage run`).

`OutboxCollector` reads the notification outbox the same way:
- `statuspage_outbox_deliveries{state}`: deliveries by state (`pending`,
  `sending`, `sent`, `failed` = given up, `dropped`);
- `statuspage_outbox_retrying`: pending deliveries that failed at least once;
- `statuspage_outbox_events_waiting`: events not yet fanned out;
- `statuspage_subscribers{kind,state}`: subscribers by kind and state
  (`quarantined` webhooks need staff).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from statuspage.checks.base import CheckResult
from statuspage.domain import CHECK_STATUSES, ComponentStatus
from statuspage.monitor import SCHEDULER_HEARTBEAT
from statuspage.store import Store
from statuspage.store.incidents import IncidentRepository
from statuspage.store.outbox import OutboxRepository
from statuspage.store.subscribers import SubscriberKind, SubscriberRepository, SubscriberState

# Checks time out at 60 s at most; the default buckets stop at 10 s.
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LAG_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class StoreCollector(Collector):
    """Reads the current values from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.incidents = IncidentRepository(store)

    def describe(self) -> Iterable[Metric]:
        # Names only, without touching the database (called at registration).
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        (
            components,
            check_up,
            has_data,
            last_result,
            last_poll,
            missed,
            open_incidents,
        ) = self._families()
        for component in self.store.components():
            for status in ComponentStatus:
                current = 1.0 if component.status is status else 0.0
                components.add_metric([component.id, status.value], current)
        for check in self.store.checks():
            last = check.last_result_status
            check_up.add_metric([check.id], 1.0 if last is ComponentStatus.OPERATIONAL else 0.0)
            with_data = last is not None and last is not ComponentStatus.UNKNOWN
            has_data.add_metric([check.id], 1.0 if with_data else 0.0)
            if check.last_result_at is not None:
                last_result.add_metric([check.id], seconds(check.last_result_at))
        heartbeat = self.store.heartbeat(SCHEDULER_HEARTBEAT)
        if heartbeat is not None:
            last_poll.add_metric([], seconds(heartbeat))
        missed.add_metric([], self.store.missed_runs())
        open_incidents.add_metric([], len(self.incidents.unresolved()))
        return [
            components,
            check_up,
            has_data,
            last_result,
            last_poll,
            missed,
            open_incidents,
        ]

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        CounterMetricFamily,
        GaugeMetricFamily,
    ]:
        return (
            GaugeMetricFamily(
                "statuspage_component_status",
                "1 for the component's current status, 0 for the others.",
                labels=["component", "status"],
            ),
            GaugeMetricFamily(
                "statuspage_check_up",
                "1 when the check's last result was operational, else 0 "
                "(see statuspage_check_has_data).",
                labels=["check"],
            ),
            GaugeMetricFamily(
                "statuspage_check_has_data",
                "1 when the check's last result carried data, 0 before any or when it had none.",
                labels=["check"],
            ),
            GaugeMetricFamily(
                "statuspage_check_last_result_timestamp_seconds",
                "When the check last reported a result, in Unix time.",
                labels=["check"],
            ),
            GaugeMetricFamily(
                "statuspage_last_poll_timestamp_seconds",
                "The scheduler's last heartbeat, in Unix time.",
            ),
            CounterMetricFamily(
                "statuspage_scheduler_missed_runs",
                "Check runs that could not start on time.",
            ),
            GaugeMetricFamily(
                "statuspage_open_incidents",
                "Published incidents that are not resolved.",
            ),
        )


class SchedulerMetrics(Collector):
    """What the scheduler measures as it runs checks. Its metrics belong to
    no registry until this collector is registered in one."""

    def __init__(self, check_ids: Iterable[str] = ()) -> None:
        self.duration = Histogram(
            "statuspage_check_duration_seconds",
            "How long a check run took, deadline included.",
            ["check"],
            buckets=DURATION_BUCKETS_S,
            registry=None,
        )
        self.results = Counter(
            "statuspage_check_results",
            "Check results, by the status they reported.",
            ["check", "status"],
            registry=None,
        )
        self.lag = Histogram(
            "statuspage_scheduler_lag_seconds",
            "How long a due run waited for a free worker.",
            buckets=LAG_BUCKETS_S,
            registry=None,
        )
        # Every series exists from the start: a rate over a series that
        # appears with its first increment misses that increment.
        for check_id in check_ids:
            self.duration.labels(check_id)
            for status in CHECK_STATUSES:
                self.results.labels(check_id, status.value)

    def observe_run(self, check_id: str, result: CheckResult, duration_s: float) -> None:
        self.duration.labels(check_id).observe(duration_s)
        self.results.labels(check_id, result.status.value).inc()

    def observe_lag(self, lag_s: float) -> None:
        self.lag.observe(max(0.0, lag_s))

    def describe(self) -> Iterable[Metric]:
        return [*self.duration.describe(), *self.results.describe(), *self.lag.describe()]

    def collect(self) -> Iterator[Metric]:
        for metric in (self.duration, self.results, self.lag):
            yield from metric.collect()


class OutboxCollector(Collector):
    """The notification outbox, read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> Iterable[Metric]:
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        deliveries, retrying, waiting, subscribers = self._families()
        with self.store.engine.connect() as conn:
            depth = OutboxRepository().depth(conn)
            counts = SubscriberRepository().counts(conn)
            retrying.add_metric([], OutboxRepository().retrying(conn))
        waiting.add_metric([], depth.pop("events_waiting"))
        for state, count in sorted(depth.items()):
            deliveries.add_metric([state], count)
        for kind in SubscriberKind:
            for sub_state in SubscriberState:
                subscribers.add_metric(
                    [kind.value, sub_state.value], counts.get((kind.value, sub_state.value), 0)
                )
        return [deliveries, retrying, waiting, subscribers]

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily
    ]:
        return (
            GaugeMetricFamily(
                "statuspage_outbox_deliveries",
                "Notification deliveries by state (failed: given up).",
                labels=["state"],
            ),
            GaugeMetricFamily(
                "statuspage_outbox_retrying",
                "Pending deliveries that have failed at least once.",
            ),
            GaugeMetricFamily(
                "statuspage_outbox_events_waiting",
                "Outbox events not yet fanned out to subscribers.",
            ),
            GaugeMetricFamily(
                "statuspage_subscribers",
                "Subscribers by kind and state.",
                labels=["kind", "state"],
            ),
        )


def seconds(at: datetime) -> float:
    return at.timestamp()
