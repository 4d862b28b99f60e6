"""The whole Prometheus path, with real processes: a Prometheus alerting
rule fires when the API's target goes down, a real Alertmanager routes it
to statuspage's receiver, the component turns red; the target comes back,
the alert resolves, the component is operational again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from statuspage.clock import utc_now
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.web import create_app
from tests.liveserver import serve
from tests.prometheus_server import Exporter, PrometheusServer
from tests.support import wait_for
from tests.test_alertmanager import RULES
from tests.test_alertmanager_real import running_alertmanager
from tests.test_api_components import two_components
from tests.test_api_deployments import new_token

pytestmark = pytest.mark.integration

# Prometheus's own rule format: the API's target is down -> critical, and
# the `service` label names the component (RULES maps it).
ALERT_RULES = """\
groups:
  - name: statuspage-test
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 0s
        labels:
          severity: critical
          service: api
        annotations:
          summary: the API's target is not answering
"""


@pytest.fixture
def pipeline(tmp_path: Path, sqlite_store: Store) -> Iterator[tuple[Exporter, Store]]:
    config = two_components(RULES)
    Monitor(config, sqlite_store, utc_now).start()
    token = new_token(sqlite_store, "editor", name="alertmanager")
    exporter = Exporter()
    try:
        with (
            serve(create_app(config, sqlite_store, utc_now)) as url,
            running_alertmanager(tmp_path, url, token) as am,
        ):
            prometheus = PrometheusServer(tmp_path, exporter)
            (tmp_path / "rules.yml").write_text(ALERT_RULES)
            with prometheus.config_path.open("a") as out:
                out.write(
                    f"rule_files: ['{tmp_path / 'rules.yml'}']\n"
                    "alerting:\n"
                    "  alertmanagers:\n"
                    f"    - static_configs: [{{targets: ['{am.removeprefix('http://')}']}}]\n"
                )
            prometheus.start()
            try:
                yield exporter, sqlite_store
            finally:
                prometheus.stop()
    finally:
        exporter.close()


def test_a_prometheus_alert_turns_the_component_red_and_back(
    pipeline: tuple[Exporter, Store],
) -> None:
    exporter, store = pipeline

    def status(component_id: str) -> ComponentStatus:
        component = store.component(component_id)
        assert component is not None
        return component.status

    assert status("api") is ComponentStatus.OPERATIONAL
    exporter.stop_answering()
    assert wait_for(lambda: status("api") is ComponentStatus.MAJOR_OUTAGE, 60)
    assert status("payments") is ComponentStatus.OPERATIONAL  # only the named component
    exporter.start_answering()
    assert wait_for(lambda: status("api") is ComponentStatus.OPERATIONAL, 60)
