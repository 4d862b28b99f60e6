"""Structured logs: text or JSON lines with the component, check and
incident ids as fields; secrets from ${ENV} never in any of them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from statuspage.config import ConfigError, parse_config
from statuspage.logs import configure_logging
from statuspage.ops_settings import LoggingSettings
from tests.loopback import Reply, ScriptedServer, scripted_server
from tests.processes import running

SECRET = 'hunter2-"quoted"-secret'


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def capture(fmt: str, level: str = "info") -> io.StringIO:
    out = io.StringIO()
    settings = LoggingSettings(format=fmt, level=level)  # type: ignore[arg-type]
    configure_logging(settings, frozenset({SECRET}), role="scheduler", stream=out)
    return out


@pytest.mark.usefixtures("restore_root_logging")
def test_json_lines_carry_the_ids_as_fields() -> None:
    out = capture("json")
    logging.getLogger("statuspage.monitor").warning(
        "check %s is %s",
        "api/health",
        "major_outage",
        extra={"check": "api/health", "component": "api"},
    )
    logging.getLogger("statuspage.monitor").info(
        "incident %s opened", "abc", extra={"incident": "abc"}
    )
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "check api/health is major_outage"
    assert first["level"] == "warning"
    assert first["logger"] == "statuspage.monitor"
    assert (first["check"], first["component"], first["role"]) == ("api/health", "api", "scheduler")
    assert isinstance(first["pid"], int) and first["ts"].endswith("+00:00")
    assert second["incident"] == "abc" and "check" not in second


@pytest.mark.usefixtures("restore_root_logging")
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_secrets_are_redacted_everywhere_in_a_line(fmt: str) -> None:
    out = capture(fmt)
    log = logging.getLogger("statuspage.checks")
    log.warning(
        "login with %s failed", SECRET, extra={"check": "pay/canary", "detail": f"pw={SECRET}"}
    )
    try:
        raise RuntimeError(f"server said {SECRET}")
    except RuntimeError:
        log.exception("check runner failed")
    text = out.getvalue()
    assert SECRET not in text
    assert "hunter2" not in text
    assert text.count("[secret]") == 3
    if fmt == "json":
        records = [json.loads(line) for line in text.splitlines()]
        assert records[0]["detail"] == "pw=[secret]"
        assert "RuntimeError: server said [secret]" in records[1]["exc"]
    else:
        assert "[check=pay/canary detail=pw=[secret]]" in text


@pytest.mark.usefixtures("restore_root_logging")
def test_the_level_filters_and_chatty_libraries_are_quiet() -> None:
    out = capture("text", level="warning")
    logging.getLogger("statuspage").info("not shown")
    logging.getLogger("statuspage").warning("shown")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    assert out.getvalue().count("\n") == 1 and "shown" in out.getvalue()


def test_logging_settings_are_validated() -> None:
    assert parse_config({}, env={}).logging == LoggingSettings(format="text", level="info")
    config = parse_config({"logging": {"format": "json", "level": "debug"}}, env={})
    assert config.logging.level_number == logging.DEBUG
    with pytest.raises(ConfigError) as bad:
        parse_config({"logging": {"format": "xml", "level": "loud"}}, env={})
    problems = "\n".join(bad.value.errors)
    assert "logging.format" in problems and "logging.level" in problems


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, "ok"))
        s.route("/broken", Reply(503, "down"))
        yield s


@pytest.mark.integration
def test_a_scheduler_logs_json_with_check_component_and_incident_ids(
    tmp_path: Path, server: ScriptedServer
) -> None:
    config = tmp_path / "statuspage.yaml"
    config.write_text(
        "logging: {format: json}\n"
        "defaults: {interval: 1s, timeout: 900ms, confirm_down: 1, confirm_up: 1}\n"
        "components:\n"
        "  - id: payments\n    name: Payments\n    checks:\n"
        f"      - {{name: canary, type: http, url: '{server.url}/broken',"
        " headers: {Authorization: 'Bearer ${CANARY_TOKEN}'}}\n"
    )
    env = {"DATABASE_URL": "", "CANARY_TOKEN": SECRET}
    with running(["scheduler", "--config", str(config)], tmp_path, "scheduler", env) as sch:
        assert sch.wait_log('"incident"', 20), sch.log()
        assert sch.stop() == 0
    records = [json.loads(line) for line in sch.log().splitlines() if line.strip()]
    assert {r["role"] for r in records} == {"scheduler"}
    assert any(
        r.get("check") == "payments/canary"
        and r.get("component") == "payments"
        and "major_outage" in r["message"]
        for r in records
    )
    assert any(r.get("component") == "payments" and "check" not in r for r in records)
    assert any(len(r.get("incident", "")) == 12 for r in records)
    assert SECRET not in sch.log()
