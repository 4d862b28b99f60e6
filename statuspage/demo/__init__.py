"""`statuspage demo`: simulated services, a Prometheus scraping them, and a
config that watches them, so the status page can be seen catching the seed
outage of DESIGN.md on one machine."""

from __future__ import annotations

from statuspage.demo.democonfig import write_demo_config
from statuspage.demo.prometheus import PrometheusProcess, PrometheusStartError, start_prometheus
from statuspage.demo.service import Mode, SimulatedService
from statuspage.demo.services import SERVICE_NAMES, SimulatedServices

__all__ = [
    "SERVICE_NAMES",
    "Mode",
    "PrometheusProcess",
    "PrometheusStartError",
    "SimulatedService",
    "SimulatedServices",
    "start_prometheus",
    "write_demo_config",
]
