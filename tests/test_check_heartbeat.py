"""Heartbeat checks: the job pings us; silence past period + grace is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from statuspage.checks import CheckContext, run_check
from statuspage.checks.heartbeat import HeartbeatCheck, Pings, hash_token, judge_heartbeat
from statuspage.cli import main
from statuspage.config import load_config, parse_config
from statuspage.domain import ComponentStatus
from statuspage.monitor import Monitor
from statuspage.store import Store
from statuspage.store import tables as t
from statuspage.web import create_app
from tests.conftest import FakeClock

T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
OK = ComponentStatus.OPERATIONAL
DOWN = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN


def spec(**extra: object) -> HeartbeatCheck:
    return HeartbeatCheck.model_validate(
        {"name": "backup", "type": "heartbeat", "period": "1h", "grace": "10m", **extra}
    )


DEADLINE = timedelta(hours=1, minutes=10)


def test_a_ping_within_period_and_grace_is_operational_until_the_second_it_is_late() -> None:
    pings = Pings(last_ping_at=T0, last_fail_at=None, watching_since=T0 - timedelta(days=1))
    assert judge_heartbeat(spec(), pings, T0 + DEADLINE - SECOND).status is OK
    late = judge_heartbeat(spec(), pings, T0 + DEADLINE)
    assert late.status is DOWN
    assert late.reason == "no heartbeat since 2026-09-15 05:00 UTC (expected every 1h, grace 10m)"
    assert judge_heartbeat(spec(failure_status="partial_outage"), pings, T0 + DEADLINE).status is (
        ComponentStatus.PARTIAL_OUTAGE
    )


def test_operational_reason_says_how_long_ago() -> None:
    pings = Pings(T0, None, T0)
    assert (
        judge_heartbeat(spec(), pings, T0 + timedelta(seconds=42)).reason
        == "last heartbeat 42s ago"
    )
    assert (
        judge_heartbeat(spec(), pings, T0 + timedelta(minutes=30)).reason
        == "last heartbeat 30m ago"
    )


def test_a_new_check_waits_for_its_first_ping_for_one_period_and_grace() -> None:
    pings = Pings(None, None, watching_since=T0)
    waiting = judge_heartbeat(spec(), pings, T0 + DEADLINE - SECOND)
    assert (waiting.status, waiting.reason) == (UNKNOWN, "waiting for the first heartbeat")
    never = judge_heartbeat(spec(), pings, T0 + DEADLINE)
    assert (never.status, never.reason) == (
        DOWN,
        "no heartbeat received (expected every 1h, grace 10m)",
    )


def test_a_reported_failure_is_an_outage_until_the_next_good_ping() -> None:
    failed = Pings(last_ping_at=T0, last_fail_at=T0 + timedelta(minutes=5), watching_since=T0)
    result = judge_heartbeat(spec(), failed, T0 + timedelta(minutes=6))
    assert (result.status, result.reason) == (
        DOWN,
        "the job reported a failure at 2026-09-15 05:05 UTC",
    )
    mended = Pings(
        last_ping_at=T0 + timedelta(minutes=7),
        last_fail_at=T0 + timedelta(minutes=5),
        watching_since=T0,
    )
    assert judge_heartbeat(spec(), mended, T0 + timedelta(minutes=8)).status is OK


def test_token_in_config_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        spec(token="short")


def test_tokens_are_hashed_with_sha256() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


CONFIG = {
    "defaults": {"interval": "30s", "confirm_down": 1, "confirm_up": 1},
    "components": [
        {
            "id": "backups",
            "name": "Backups",
            "checks": [
                {
                    "name": "nightly",
                    "type": "heartbeat",
                    "period": "1h",
                    "grace": "10m",
                    "token": "${BACKUP_TOKEN}",
                }
            ],
        }
    ],
}
TOKEN = "a-token-from-the-environment-1234"


def test_ping_endpoint_and_check_together(sqlite_store: Store, clock: FakeClock) -> None:
    config = parse_config(CONFIG, env={"BACKUP_TOKEN": TOKEN})
    monitor = Monitor(config, sqlite_store, clock)
    monitor.start()
    with sqlite_store.engine.connect() as conn:
        stored = conn.execute(select(t.heartbeat_checks.c.token_hash)).scalars().all()
    assert stored == [hash_token(TOKEN)]  # the hash, never the token

    client = create_app(config, sqlite_store, clock).test_client()
    (check,) = config.components[0].checks
    ctx = CheckContext(now=clock, pings=sqlite_store.pings, secrets=config.secrets)
    assert run_check(check, ctx).reason == "waiting for the first heartbeat"

    clock.advance(60)
    answer = client.post(f"/api/v1/heartbeat/{TOKEN}")
    assert answer.status_code == 200
    assert answer.json == {"ok": True, "check": "backups/nightly", "failed": False}
    assert run_check(check, ctx).status is OK
    monitor.record("backups/nightly", run_check(check, ctx))
    assert monitor.component_status("backups") is OK

    clock.advance(60)
    assert client.get(f"/api/v1/heartbeat/{TOKEN}/fail").status_code == 200
    result = run_check(check, ctx)
    assert result.reason == "the job reported a failure at 2026-09-15 05:02 UTC"
    monitor.record("backups/nightly", result)
    assert monitor.component_status("backups") is DOWN

    clock.advance(1)
    assert client.get(f"/api/v1/heartbeat/{TOKEN}").status_code == 200  # curl from cron
    assert run_check(check, ctx).status is OK
    assert sqlite_store.pings("backups/nightly") == Pings(clock(), clock() - SECOND, T0)


@pytest.mark.parametrize("token", ["wrong-token", TOKEN[:-1], TOKEN.upper(), "x" * 5000])
def test_unknown_tokens_all_get_the_same_404(
    sqlite_store: Store, clock: FakeClock, token: str
) -> None:
    config = parse_config(CONFIG, env={"BACKUP_TOKEN": TOKEN})
    Monitor(config, sqlite_store, clock).start()
    client = create_app(config, sqlite_store, clock).test_client()
    for path in (f"/api/v1/heartbeat/{token}", f"/api/v1/heartbeat/{token}/fail"):
        answer = client.post(path)
        assert answer.status_code == 404
        assert answer.json == {"error": "unknown heartbeat token"}
    assert sqlite_store.pings("backups/nightly") == Pings(None, None, T0)


def test_heartbeat_token_command_shows_a_working_token_once(tmp_path: Path) -> None:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        "components:\n  - id: backups\n    name: Backups\n    checks:\n"
        "      - {name: nightly, type: heartbeat, period: 1h}\n"
    )
    result = CliRunner().invoke(main, ["heartbeat-token", "--config", str(path), "backups/nightly"])
    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert len(token) >= 32
    config = load_config(path, env={})
    store = Store(config.database_url())
    try:
        assert store.has_heartbeat_token("backups/nightly", hash_token(token))
        client = create_app(config, store).test_client()
        assert client.post(f"/api/v1/heartbeat/{token}").status_code == 200
        # A new token replaces the old one.
        again = CliRunner().invoke(
            main, ["heartbeat-token", "--config", str(path), "backups/nightly"]
        )
        assert client.post(f"/api/v1/heartbeat/{token}").status_code == 404
        assert client.post(f"/api/v1/heartbeat/{again.output.splitlines()[-1]}").status_code == 200
    finally:
        store.close()


def test_heartbeat_token_command_refuses_other_checks(tmp_path: Path) -> None:
    path = tmp_path / "statuspage.yaml"
    path.write_text(
        "components:\n  - id: api\n    name: API\n    checks:\n      - {name: h, type: http, url: 'http://x/'}\n"
    )
    result = CliRunner().invoke(main, ["heartbeat-token", "--config", str(path), "api/h"])
    assert result.exit_code == 2
    assert (
        "'api/h' is not a heartbeat check (heartbeat checks: none in this config)" in result.output
    )
