"""What one simulated service exposes on `/metrics`, and the synthetic
traffic that keeps those metrics moving.

Each service owns its `CollectorRegistry`: five services (and a test suite
that starts them again and again) live in one process, and the global
registry would mix them up or refuse the second `Histogram` of the same name.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# The classic text format, the one every Prometheus 2.x parses.
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# From a healthy 10 ms answer to the seed outage's two-minute ones, with
# bucket edges near the demo's thresholds (1 s degraded, 10 s outage).
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

# Healthy latency is log-normal around 25 ms; its p95 is about 48 ms, close
# to what the design measured for a healthy service (0.0475 s).
HEALTHY_MEDIAN_S = 0.025
HEALTHY_SIGMA = 0.4


class ServiceMetrics:
    """`http_request_duration_seconds` and `http_requests_total` of one service."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self._duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, in seconds.",
            ["service"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self._requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by status code.",
            ["service", "code"],
            registry=self.registry,
        )

    def observe(self, seconds: float, code: int) -> None:
        """Record one answered request."""
        self._duration.labels(service=self.service).observe(seconds)
        self._requests.labels(service=self.service, code=str(code)).inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus text format, for `/metrics`."""
        return generate_latest(self.registry)


@dataclass(frozen=True)
class SyntheticRequest:
    """One made-up request: how long it took and what it answered."""

    seconds: float
    code: int


def synthetic_request(
    mode: str, slow_seconds: float, rng: random.Random
) -> SyntheticRequest | None:
    """A plausible request for a service in `mode`, or None when a service in
    that mode serves nothing at all (`dead`).

    Without traffic of their own the services would give `rate()` nothing to
    work on and the p95 rule would return NaN, which is no data, not health.
    """
    if mode == "dead":
        return None
    if mode == "slow":
        return SyntheticRequest(slow_seconds * rng.uniform(0.9, 1.1), 200)
    if mode == "down":
        # A failing service usually fails fast.
        return SyntheticRequest(rng.uniform(0.002, 0.02), 503)
    seconds = rng.lognormvariate(math.log(HEALTHY_MEDIAN_S), HEALTHY_SIGMA)
    return SyntheticRequest(min(max(seconds, 0.002), 0.5), 200)
