"""The `statuspage` command: init, check (the deploy gate), db upgrade."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from statuspage.cli import main
from statuspage.config import load_config
from statuspage.store import Store
from tests.loopback import Reply, ScriptedServer, closed_port_url, scripted_server


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        s.route("/ok", Reply(200, '{"status": "ok"}', content_type="application/json"))
        s.route("/expired", Reply(200, '{"status": "expired"}', content_type="application/json"))
        yield s


def config_file(tmp_path: Path, server: ScriptedServer, payments_path: str = "/ok") -> Path:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            defaults: {{interval: 10s, timeout: 2s}}
            components:
              - id: api
                name: API
                checks:
                  - {{name: health, type: http, url: "{server.url}/ok", expect: {{json: {{$.status: ok}}}}}}
              - id: payments
                name: Payments
                checks:
                  - name: subscription
                    type: http
                    url: "{server.url}{payments_path}"
                    expect: {{json: {{$.status: ok}}}}
            """
        ),
        encoding="utf-8",
    )
    return path


def test_check_exits_0_when_everything_is_operational(
    tmp_path: Path, server: ScriptedServer
) -> None:
    result = CliRunner().invoke(main, ["check", "--config", str(config_file(tmp_path, server))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["COMPONENT", "STATUS", "REASON"]
    assert lines[1].split(maxsplit=2) == ["api", "operational", "all checks pass"]
    assert lines[2].split(maxsplit=2) == ["payments", "operational", "all checks pass"]


def test_check_exits_1_and_names_the_failing_assertion(
    tmp_path: Path, server: ScriptedServer
) -> None:
    path = config_file(tmp_path, server, payments_path="/expired")
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 1
    payments = result.output.splitlines()[2]
    assert payments.split(maxsplit=2) == [
        "payments",
        "major_outage",
        'subscription: json $.status ("expired") == "ok"',
    ]


def test_check_json_output_and_component_filter(tmp_path: Path, server: ScriptedServer) -> None:
    path = config_file(tmp_path, server, payments_path="/expired")
    result = CliRunner().invoke(
        main, ["check", "--config", str(path), "--component", "api", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [c["id"] for c in report["components"]] == ["api"]
    (check,) = report["components"][0]["checks"]
    assert (
        check["name"] == "health" and check["status"] == "operational" and check["latency_ms"] > 0
    )


def test_check_of_an_unreachable_service(tmp_path: Path) -> None:
    path = tmp_path / "sp.yaml"
    path.write_text(
        f"components:\n  - id: api\n    name: API\n    checks:\n"
        f"      - {{name: h, type: http, url: '{closed_port_url()}', timeout: 2s}}\n"
    )
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[1].split(maxsplit=2) == [
        "api",
        "major_outage",
        "h: connection refused",
    ]


def test_check_with_an_unknown_component_is_a_usage_error(
    tmp_path: Path, server: ScriptedServer
) -> None:
    result = CliRunner().invoke(
        main, ["check", "--config", str(config_file(tmp_path, server)), "--component", "nope"]
    )
    assert result.exit_code == 2
    assert "no component 'nope'" in result.output


def test_bad_config_exits_2_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "site: {colour: red}\ncomponents:\n  - id: API\n    name: API\n"
        "    checks:\n      - {name: h, type: http, url: 'http://x/', timeout: 2m}\n"
    )
    for command in (["check"], ["run"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, [*command, "--config", str(path)])
        assert result.exit_code == 2, command
        assert result.output.splitlines() == [
            f"{path}: site.colour: is not a known key",
            f"{path}: components[0].id: must be lowercase letters, digits, - and _, starting with a letter or digit",
            f"{path}: components[0].checks[0].timeout: must be at most 60s",
            "3 problems in the config; nothing was started.",
        ]


def test_init_writes_a_valid_commented_starter(tmp_path: Path) -> None:
    target = tmp_path / "statuspage.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--path", str(target)])
    assert result.exit_code == 0
    assert target.read_text().startswith("# statuspage configuration.")
    assert load_config(target, env={}).site.title == "Acme Status"
    again = runner.invoke(main, ["init", "--path", str(target)])
    assert again.exit_code == 1 and "exists" in again.output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "sp.yaml"
    path.write_text("storage: {path: data/sp.db}\n")
    result = CliRunner().invoke(main, ["db", "upgrade", "--config", str(path)])
    assert result.exit_code == 0, result.output
    store = Store(f"sqlite:///{tmp_path / 'data' / 'sp.db'}")
    assert store.pending_migrations() is False
    store.close()


def test_check_wait_keeps_checking_until_the_deploy_is_healthy(
    tmp_path: Path, server: ScriptedServer
) -> None:
    answers = iter([Reply(503, '{"status": "starting"}')] * 2)

    def payments(_seen):  # type: ignore[no-untyped-def]
        return next(answers, Reply(200, '{"status": "ok"}', content_type="application/json"))

    server.route("/deploying", payments)
    path = config_file(tmp_path, server, payments_path="/deploying")
    result = CliRunner().invoke(
        main, ["check", "--config", str(path), "--component", "payments", "--wait", "30s"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("waiting (") == 2
    assert "payments major_outage" in result.output
    assert result.output.splitlines()[-1].split(maxsplit=2) == [
        "payments",
        "operational",
        "all checks pass",
    ]


def test_check_wait_gives_up_when_the_time_is_up(tmp_path: Path, server: ScriptedServer) -> None:
    path = config_file(tmp_path, server, payments_path="/expired")
    result = CliRunner().invoke(main, ["check", "--config", str(path), "--wait", "1s"])
    assert result.exit_code == 1
    assert result.output.count("waiting (") == 1


def test_check_wait_needs_a_duration(tmp_path: Path, server: ScriptedServer) -> None:
    result = CliRunner().invoke(
        main, ["check", "--config", str(config_file(tmp_path, server)), "--wait", "soon"]
    )
    assert result.exit_code == 2
    assert "'soon' is not a duration" in result.output
