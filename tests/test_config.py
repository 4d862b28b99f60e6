"""Config loading: defaults, env expansion, and errors that name file, path, reason."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from statuspage.config import ConfigError, load_config, parse_config
from statuspage.durations import format_duration, parse_duration
from statuspage.starter import STARTER_CONFIG

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(tmp_path: Path, text: str, name: str = "statuspage.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return info.value.errors


def test_minimal_config_gets_defaults_that_suit_a_small_team(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        components:
          - id: api
            name: API
            checks:
              - {name: health, type: http, url: "http://127.0.0.1:9/healthz"}
        """,
    )
    config = load_config(path, env={})
    check = config.components[0].checks[0]
    assert check.interval == timedelta(seconds=30)
    assert check.timeout == timedelta(seconds=10)
    assert (check.confirm_down, check.confirm_up, check.stale_after) == (2, 2, 3)
    assert config.site.timezone == "UTC"
    assert config.database_url() == f"sqlite:///{tmp_path / 'statuspage.db'}"
    assert [cid for _, _, cid in config.checks()] == ["api/health"]


def test_check_overrides_win_over_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults: {interval: 1m, timeout: 5s, confirm_down: 3}
        components:
          - id: api
            name: API
            checks:
              - {name: a, type: http, url: "http://x/", interval: 10s, timeout: 2s}
              - {name: b, type: http, url: "http://x/"}
        """,
    )
    a, b = load_config(path, env={}).components[0].checks
    assert (a.interval, a.timeout, a.confirm_down) == (
        timedelta(seconds=10),
        timedelta(seconds=2),
        3,
    )
    assert (b.interval, b.timeout) == (timedelta(minutes=1), timedelta(seconds=5))


def test_three_mistakes_are_all_reported_with_file_and_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        site:
          title: Acme
          colour: red
        components:
          - id: api
            name: API
            checks:
              - {name: health, type: http, url: "http://x/", timeout: 90s, interval: 2m}
          - id: payments
            name: Payments
            checks:
              - {name: canary, type: smtp}
        """,
    )
    assert errors_of(path) == [
        f"{path}: site.colour: is not a known key",
        f"{path}: components[0].checks[0].timeout: must be at most 60s",
        f"{path}: components[1].checks[0]: unknown check type 'smtp' (known: http, workflow, prometheus, tcp, tls, dns, heartbeat)",
    ]


def test_timeout_must_be_shorter_than_the_interval(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        components:
          - id: api
            name: API
            checks:
              - {name: h, type: http, url: "http://x/", interval: 5s, timeout: 5s}
        """,
    )
    assert errors_of(path) == [
        f"{path}: components[0].checks[0].timeout: must be shorter than the interval (5s)"
    ]


@pytest.mark.parametrize(
    ("snippet", "where", "reason"),
    [
        ("{name: h, type: http}", "components[0].checks[0].url", "is required"),
        (
            "{name: h, type: http, url: 'ftp://x/'}",
            "components[0].checks[0].url",
            "must be an http:// or https:// URL with a host",
        ),
        (
            "{name: h, type: http, url: 'http://x/', interval: soon}",
            "components[0].checks[0].interval",
            "'soon' is not a duration (use e.g. 30s, 5m, 1h30m, 250ms)",
        ),
        (
            "{name: h, type: http, url: 'http://x/', expect: {status: 700}}",
            "components[0].checks[0].expect",
            "700 is not a status code between 100 and 599",
        ),
        (
            "{name: h, type: http, url: 'http://x/', expect: {json: {'status': ok}}}",
            "components[0].checks[0].expect",
            "'status' is not a JSON path (it must start with $)",
        ),
        (
            "{name: h, type: http, url: 'http://x/', expect: {body_regex: '(' }}",
            "components[0].checks[0].expect",
            "'(' is not a valid regular expression (missing ), unterminated subpattern at position 0)",
        ),
        (
            "{name: h, type: http, url: 'http://x/', latency: {degraded: 2s, outage: 1s}}",
            "components[0].checks[0].latency",
            "outage must be longer than degraded",
        ),
        (
            "{name: h, type: http, url: 'http://x/', method: FETCH}",
            "components[0].checks[0].method",
            "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        ),
        (
            "{name: h, type: prometheus, query: up}",
            "components[0].checks[0].type",
            "a prometheus check needs prometheus.url to be set",
        ),
        (
            "{name: h}",
            "components[0].checks[0]",
            "needs a type (http, workflow, prometheus, tcp, tls, dns, heartbeat)",
        ),
    ],
)
def test_check_mistakes_name_path_and_reason(
    tmp_path: Path, snippet: str, where: str, reason: str
) -> None:
    path = write(
        tmp_path, f"components:\n  - id: api\n    name: API\n    checks:\n      - {snippet}\n"
    )
    assert errors_of(path) == [f"{path}: {where}: {reason}"]


def test_component_ids_are_slugs_and_unique(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        components:
          - {id: api, name: API}
          - {id: api, name: API again}
          - {id: Pay Ments, name: Payments}
        """,
    )
    assert errors_of(path) == [
        f"{path}: components[2].id: must be lowercase letters, digits, - and _, starting with a letter or digit",
        f"{path}: components[1].id: 'api' is used by another component",
    ]


def test_env_references_are_expanded_and_remembered_as_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        site: {title: "${TITLE:-Fallback} costs $$5"}
        components:
          - id: api
            name: API
            checks:
              - name: h
                type: http
                url: "http://x/"
                headers: {Authorization: "Bearer ${API_TOKEN}"}
                expect: {json: {$.status: ok}}
        """,
    )
    config = load_config(path, env={"API_TOKEN": "s3cret-token"})
    assert config.site.title == "Fallback costs $5"
    assert config.components[0].checks[0].headers == {"Authorization": "Bearer s3cret-token"}
    assert "s3cret-token" in config.secrets


def test_missing_env_variable_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "prometheus: {url: '${PROM_URL}'}\n")
    assert errors_of(path) == [f"{path}: prometheus.url: environment variable PROM_URL is not set"]


def test_duplicate_keys_and_broken_yaml_are_refused(tmp_path: Path) -> None:
    dup = write(tmp_path, "site: {title: a}\nsite: {title: b}\n", "dup.yaml")
    assert errors_of(dup) == [f"{dup}: line 2, column 1: the key 'site' is given twice"]
    broken = write(tmp_path, "site: [unclosed\n", "broken.yaml")
    (message,) = errors_of(broken)
    assert message.startswith(f"{broken}: line 2, column 1: ")


def test_missing_file_and_wrong_top_level(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    listy = write(tmp_path, "- a\n- b\n")
    assert errors_of(listy) == [f"{listy}: the file must hold a mapping (key: value), not list"]


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "site: {timezone: Mars/Olympus}\n")
    assert errors_of(path) == [
        f"{path}: site.timezone: 'Mars/Olympus' is not a known time zone (e.g. UTC, Europe/Berlin)"
    ]


def test_database_url_from_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config({"storage": {"url": "sqlite:///a.db"}})
    assert config.database_url() == "sqlite:///a.db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/statuspage")
    assert config.database_url() == "postgresql://db/statuspage"


def test_reference_example_and_starter_config_are_valid() -> None:
    example = load_config(EXAMPLES / "statuspage.yaml", env={})
    assert [c.id for c in example.components] == [
        "api",
        "payments",
        "projects",
        "providers",
        "notifications",
    ]
    starter = parse_config(yaml.safe_load(STARTER_CONFIG), env={})
    assert starter.components[0].checks[0].latency is not None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("2", 2),
        (1.5, 1.5),
        ("1d", 86400),
    ],
)
def test_durations(text: str | float, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "m5", "-3s", True, [1]])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration_round_trips() -> None:
    for text in ("30s", "5m", "1h30m", "250ms", "1d"):
        assert format_duration(parse_duration(text)) == text
