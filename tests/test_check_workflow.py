"""`type: workflow` against a real loopback server: a tiny payments API (log
in for a token, read the subscription with it) walked the way a user does,
and each way it can break named by step, with nothing secret in the reason."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from statuspage.checks import CheckContext, run_check
from statuspage.checks import workflow as workflow_module
from statuspage.checks.base import CheckResult
from statuspage.checks.workflow import Template, WorkflowCheck, run_workflow_check
from statuspage.config import ConfigError, parse_config
from statuspage.domain import ComponentStatus
from tests.loopback import Reply, ScriptedServer, Seen, scripted_server

FIXED = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
PASSWORD = "canary-password-1"
ACCOUNT_KEY = "acct-key-0f9e8d7c"
API_KEY = "api-key-1a2b3c4d5e"

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE


class Payments:
    """The canary's side of the payments service: `POST /login` hands out a
    fresh token, `GET /subscriptions/canary` needs `Bearer <that token>`."""

    def __init__(self, server: ScriptedServer) -> None:
        self.url = server.url
        self.subscription = "active"
        self.tokens: list[str] = []
        self.login_delay = 0.0
        self.read_delay = 0.0
        # Answer with `owner` set to the token and this (a service that
        # echoes what it was sent, where an assertion shows what it saw).
        self.echo: str | None = None
        server.route("/login", self.log_in)
        server.route("/subscriptions/canary", self.read_subscription)
        server.route(f"/accounts/{ACCOUNT_KEY}/subscription", self.read_subscription)

    def log_in(self, seen: Seen) -> Reply:
        try:
            credentials = json.loads(seen.body)
        except ValueError:
            return Reply(400, '{"error": "not JSON"}', content_type="application/json")
        if credentials != {"user": "canary", "password": PASSWORD}:
            return Reply(401, '{"error": "bad credentials"}', content_type="application/json")
        self.tokens.append(secrets.token_urlsafe(24))
        body = json.dumps({"token": self.tokens[-1]})
        return Reply(200, body, content_type="application/json", delay=self.login_delay)

    def read_subscription(self, seen: Seen) -> Reply:
        if not self.tokens or seen.headers.get("authorization") != f"Bearer {self.tokens[-1]}":
            return Reply(401, '{"error": "who are you?"}', content_type="application/json")
        answer = {"status": self.subscription}
        if self.echo is not None:
            answer["owner"] = f"{self.tokens[-1]}:{self.echo}"
        body = json.dumps(answer)
        return Reply(200, body, content_type="application/json", delay=self.read_delay)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as s:
        yield s


@pytest.fixture
def payments(server: ScriptedServer) -> Payments:
    return Payments(server)


def login_step(payments: Payments, **fields: Any) -> dict[str, Any]:
    step = {
        "name": "log in",
        "post": f"{payments.url}/login",
        "json": {"user": "canary", "password": PASSWORD},
        "save": {"token": "$.token"},
    }
    return step | fields


def read_step(payments: Payments, **fields: Any) -> dict[str, Any]:
    step = {
        "name": "read subscription",
        "get": f"{payments.url}/subscriptions/canary",
        "headers": {"Authorization": "Bearer {token}"},
        "expect": {"status": 200, "json": {"$.status": "active"}},
    }
    return step | fields


def workflow(*steps: dict[str, Any], **fields: Any) -> WorkflowCheck:
    """A check as the config would hold it, its defaults already applied."""
    data: dict[str, Any] = {"type": "workflow", "name": "canary", "steps": list(steps)}
    data |= {"timeout": "3s", "interval": "30s"} | fields
    return WorkflowCheck.model_validate(data)


def run(spec: WorkflowCheck) -> CheckResult:
    return run_workflow_check(spec, now=lambda: FIXED)


# --- the walk ------------------------------------------------------------------


def test_canary_logs_in_and_sees_an_active_subscription(
    payments: Payments, server: ScriptedServer
) -> None:
    result = run(workflow(login_step(payments), read_step(payments)))
    assert (result.status, result.reason, result.at) == (OPERATIONAL, "2 steps passed", FIXED)
    assert result.latency_ms is not None and 0 < result.latency_ms < 3000
    login, read = server.seen
    assert (login.method, login.path, json.loads(login.body)) == (
        "POST",
        "/login",
        {"user": "canary", "password": PASSWORD},
    )
    assert (read.method, read.path) == ("GET", "/subscriptions/canary")
    assert read.headers["authorization"] == f"Bearer {payments.tokens[0]}"


def test_expired_subscription_names_the_step_and_what_it_saw(payments: Payments) -> None:
    payments.subscription = "expired"
    result = run(workflow(login_step(payments), read_step(payments)))
    assert (result.status, result.reason) == (
        MAJOR,
        'step 2 "read subscription": json $.status ("expired") == "active"',
    )
    assert result.latency_ms is not None


def test_bad_password_fails_step_one_and_stops(payments: Payments, server: ScriptedServer) -> None:
    login = login_step(payments, json={"user": "canary", "password": "wrong"})
    result = run(workflow(login, read_step(payments)))
    assert (result.status, result.reason) == (MAJOR, 'step 1 "log in": status (401) == 2xx')
    assert [seen.path for seen in server.seen] == ["/login"]


def test_failure_status_applies_to_a_failed_step(payments: Payments) -> None:
    payments.subscription = "expired"
    spec = workflow(login_step(payments), read_step(payments), failure_status="partial_outage")
    assert run(spec).status is PARTIAL


def test_a_step_without_a_name_is_named_by_method_and_path(payments: Payments) -> None:
    login = login_step(payments, json={"user": "canary", "password": "wrong"})
    del login["name"]
    result = run(workflow(login))
    assert result.reason == 'step 1 "POST /login": status (401) == 2xx'


def test_a_saved_path_missing_from_the_response(payments: Payments) -> None:
    result = run(workflow(login_step(payments, save={"token": "$.access_token"})))
    assert (result.status, result.reason) == (
        MAJOR,
        'step 1 "log in": save token: $.access_token not found in the response',
    )


def test_saving_from_a_body_that_is_not_json(server: ScriptedServer) -> None:
    url = server.route("/login", body="<html>maintenance</html>")
    result = run(workflow({"name": "log in", "post": url, "save": {"token": "$.token"}}))
    assert result.reason == 'step 1 "log in": save token: the response is not JSON'


def test_header_and_regex_saves_feed_a_form_login(server: ScriptedServer) -> None:
    page = '<form><input type="hidden" name="csrf" value="csrf-7f3a9"></form>'
    server.route("/login", body=page, headers={"Set-Cookie": "sid=s-1234; Path=/; HttpOnly"})

    def sign_in(seen: Seen) -> Reply:
        form = seen.body.decode()
        ok = seen.headers.get("x-session") == "sid=s-1234; Path=/; HttpOnly"
        return Reply(303 if ok and form == "user=canary&csrf=csrf-7f3a9" else 403)

    server.route("/session", sign_in)
    spec = workflow(
        {
            "name": "open the login page",
            "get": f"{server.url}/login",
            "save": {
                "session": {"header": "Set-Cookie"},
                "csrf": {"regex": 'name="csrf" value="([^"]+)"'},
            },
        },
        {
            "name": "sign in",
            "post": f"{server.url}/session",
            "headers": {"X-Session": "{session}"},
            "form": {"user": "canary", "csrf": "{csrf}"},
            "expect": {"status": 303},
        },
    )
    result = run(spec)
    assert (result.status, result.reason) == (OPERATIONAL, "2 steps passed")
    assert server.seen[1].headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("save", "reason"),
    [
        (
            {"session": {"header": "Set-Cookie"}},
            "save session: no Set-Cookie header in the response",
        ),
        (
            {"csrf": {"regex": 'name="csrf" value="([^"]+)"'}},
            'save csrf: /name="csrf" value="([^"]+)"/ did not match the response',
        ),
    ],
)
def test_header_and_regex_saves_that_find_nothing(
    server: ScriptedServer, save: dict[str, Any], reason: str
) -> None:
    url = server.route("/login", body="<p>no form today</p>")
    result = run(workflow({"name": "open the login page", "get": url, "save": save}))
    assert result.reason == f'step 1 "open the login page": {reason}'


def test_query_and_url_variables(server: ScriptedServer) -> None:
    server.route("/accounts", body='{"id": "acct/42 x"}', content_type="application/json")
    server.route("/accounts/acct%2F42%20x/invoices", body="[]")
    spec = workflow(
        {"get": f"{server.url}/accounts?user=canary", "save": {"account": "$.id"}},
        {
            "get": server.url + "/accounts/{account}/invoices",
            "query": {"account": "{account}", "page": 2, "note": "{{literal}}"},
        },
    )
    assert run(spec).reason == "2 steps passed"
    first, second = server.seen
    assert first.query == {"user": ["canary"]}
    # In the URL a value is one path segment, whatever it holds.
    assert second.path == "/accounts/acct%2F42%20x/invoices"
    assert second.query == {"account": ["acct/42 x"], "page": ["2"], "note": ["{literal}"]}


def test_cookies_set_by_one_step_go_with_the_next(server: ScriptedServer) -> None:
    server.route("/login", headers={"Set-Cookie": "sid=s-5678; Path=/"})
    server.route(
        "/me",
        lambda seen: Reply(200 if seen.headers.get("cookie") == "sid=s-5678" else 401),
    )
    spec = workflow({"post": f"{server.url}/login"}, {"get": f"{server.url}/me"})
    assert run(spec).reason == "2 steps passed"


def test_a_saved_value_that_cannot_go_in_a_header_is_refused_unsent(
    server: ScriptedServer,
) -> None:
    server.route("/login", body='{"token": "line\\r\\nX-Injected: yes"}')
    spec = workflow(
        {"name": "log in", "post": f"{server.url}/login", "save": {"token": "$.token"}},
        {"name": "read", "get": f"{server.url}/me", "headers": {"Authorization": "{token}"}},
    )
    result = run(spec)
    assert (result.status, result.reason) == (
        MAJOR,
        'step 2 "read": header Authorization would carry a character headers cannot',
    )
    assert [seen.path for seen in server.seen] == ["/login"]


# --- time ------------------------------------------------------------------------


def test_a_step_past_its_own_timeout(payments: Payments) -> None:
    payments.login_delay = 2
    start = time.monotonic()
    result = run(workflow(login_step(payments, timeout="200ms"), read_step(payments)))
    assert time.monotonic() - start < 1
    assert (result.status, result.reason) == (MAJOR, 'step 1 "log in": timed out after 200ms')
    assert result.latency_ms is not None and result.latency_ms >= 150


def test_the_whole_workflow_has_one_deadline(payments: Payments) -> None:
    # Each step is within its own timeout; together they are past the check's.
    payments.login_delay, payments.read_delay = 0.25, 2
    spec = workflow(
        login_step(payments, timeout="1s"), read_step(payments, timeout="3s"), timeout="400ms"
    )
    start = time.monotonic()
    result = run(spec)
    elapsed = time.monotonic() - start
    assert (result.status, result.reason) == (
        MAJOR,
        'step 2 "read subscription": workflow timed out after 400ms',
    )
    assert 0.35 < elapsed < 1
    assert result.latency_ms is not None and 350 < result.latency_ms < 1000


def test_a_step_that_starts_with_no_time_left(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workflow's clock jumps past its deadline while step 1 is answered
    # (the request itself keeps real time, so step 1 passes).
    skew = [0.0]
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + skew[0])
    monkeypatch.setattr(workflow_module, "time", clock)

    def answer_late(seen: Seen) -> Reply:
        skew[0] = 5.0
        return Reply(200, "ok")

    server.route("/slow", answer_late)
    spec = workflow(
        {"name": "slow", "get": f"{server.url}/slow"},
        {"name": "never sent", "get": f"{server.url}/next"},
    )
    result = run(spec)
    assert (result.status, result.reason) == (
        MAJOR,
        'step 2 "never sent": workflow timed out after 3s',
    )
    assert [seen.path for seen in server.seen] == ["/slow"]


LATENCY = re.compile(r'step 2 "read subscription": latency \((\d+)ms\) < (\w+)')


@pytest.mark.parametrize(
    ("latency", "status", "limit"),
    [
        ({"degraded": "50ms", "outage": "5s"}, DEGRADED, "50ms"),
        ({"degraded": "20ms", "outage": "100ms"}, MAJOR, "100ms"),
    ],
)
def test_a_slow_step_is_a_state_named_by_the_step(
    payments: Payments, latency: dict[str, str], status: ComponentStatus, limit: str
) -> None:
    payments.read_delay = 0.15
    result = run(workflow(login_step(payments), read_step(payments, latency=latency)))
    assert result.status is status
    m = LATENCY.fullmatch(result.reason)
    assert m is not None and m.group(2) == limit, result.reason
    assert result.latency_ms is not None and result.latency_ms >= 150


def test_a_failed_step_wins_over_a_slow_one(payments: Payments) -> None:
    payments.login_delay, payments.subscription = 0.1, "expired"
    spec = workflow(login_step(payments, latency={"degraded": "10ms"}), read_step(payments))
    assert run(spec).reason == 'step 2 "read subscription": json $.status ("expired") == "active"'


# --- secrets -----------------------------------------------------------------------

SECRET_ENV = {"CANARY_PASSWORD": PASSWORD, "ACCOUNT_KEY": ACCOUNT_KEY, "API_KEY": API_KEY}


def secret_workflow(
    payments: Payments, *, named: bool = True, env: dict[str, str] | None = None
) -> tuple[WorkflowCheck, CheckContext]:
    """A workflow whose URL, query, headers and body carry ${ENV} secrets and
    a saved token, loaded as the config loads it, and the context the
    scheduler would give it."""
    steps: list[dict[str, Any]] = [
        {
            "post": f"{payments.url}/login",
            "json": {"user": "canary", "password": "${CANARY_PASSWORD}"},
            "save": {"token": "$.token"},
        },
        {
            "get": payments.url + "/accounts/${ACCOUNT_KEY}/subscription?t={token}",
            "query": {"key": "${API_KEY}"},
            "headers": {"Authorization": "Bearer {token}", "X-Api-Key": "${API_KEY}"},
            "expect": {"json": {"$.status": "active", "$.owner": {"exists": False}}},
        },
    ]
    if named:
        steps[0]["name"], steps[1]["name"] = "log in", "read subscription"
    check = {"name": "canary", "type": "workflow", "steps": steps}
    config = parse_config(
        {"components": [{"id": "payments", "name": "Payments", "checks": [check]}]},
        env=SECRET_ENV | (env or {}),
    )
    assert set((SECRET_ENV | (env or {})).values()) <= config.secrets
    [spec] = config.components[0].checks
    assert isinstance(spec, WorkflowCheck)
    return spec, CheckContext(now=lambda: FIXED, secrets=config.secrets)


def assert_sent_the_secrets(payments: Payments, server: ScriptedServer) -> str:
    """The request really carried them (or the test would prove nothing)."""
    read = server.seen[-1]
    [token] = payments.tokens[-1:]
    assert read.path == f"/accounts/{ACCOUNT_KEY}/subscription"
    assert read.query == {"t": [token], "key": [API_KEY]}
    assert (read.headers["authorization"], read.headers["x-api-key"]) == (
        f"Bearer {token}",
        API_KEY,
    )
    return token


def test_a_failed_step_that_sent_secrets_names_none_of_them(
    payments: Payments, server: ScriptedServer
) -> None:
    payments.subscription = "expired"
    spec, ctx = secret_workflow(payments)
    expected = 'step 2 "read subscription": json $.status ("expired") == "active"'
    assert run_workflow_check(spec, lambda: FIXED).reason == expected
    assert_sent_the_secrets(payments, server)
    assert run_check(spec, ctx).reason == expected
    assert_sent_the_secrets(payments, server)


def test_a_saved_token_echoed_by_the_service_is_hidden(
    payments: Payments, server: ScriptedServer
) -> None:
    payments.echo = API_KEY
    spec, ctx = secret_workflow(payments)
    # The runner hides what it saved; ${ENV} values are run_check's to hide.
    result = run_workflow_check(spec, lambda: FIXED)
    token = assert_sent_the_secrets(payments, server)
    assert token not in result.reason
    assert result.reason == (
        f'step 2 "read subscription": json $.owner ("[secret]:{API_KEY}") exists false'
    )
    assert run_check(spec, ctx).reason == (
        'step 2 "read subscription": json $.owner ("[secret]:[secret]") exists false'
    )


def test_run_check_hides_a_secret_in_a_default_step_name(payments: Payments) -> None:
    payments.subscription = "expired"
    spec, ctx = secret_workflow(payments, named=False)
    # The name comes from the path as loaded; which part of it was ${ENV}
    # only the config knows, and run_check hides those values.
    assert run_check(spec, ctx).reason == (
        'step 2 "GET /accounts/[secret]/subscription": json $.status ("expired") == "active"'
    )


def test_a_refused_login_says_nothing_of_the_password(
    payments: Payments, server: ScriptedServer
) -> None:
    spec, ctx = secret_workflow(payments, env={"CANARY_PASSWORD": "not-the-password"})
    result = run_check(spec, ctx)
    assert (result.status, result.reason) == (MAJOR, 'step 1 "log in": status (401) == 2xx')
    assert json.loads(server.seen[0].body)["password"] == "not-the-password"


# --- the config -------------------------------------------------------------------


def config_errors(*steps: Any) -> list[str]:
    check = {"name": "canary", "type": "workflow", "steps": list(steps)}
    with pytest.raises(ConfigError) as caught:
        parse_config({"components": [{"id": "p", "name": "P", "checks": [check]}]}, env={})
    return caught.value.errors


AT = "statuspage.yaml: components[0].checks[0]"
LOGIN = {"post": "http://payments.internal/login", "save": {"token": "$.token"}}


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        (
            [LOGIN, {"get": "http://payments.internal/s", "headers": {"A": "Bearer {tokn}"}}],
            f"{AT}: steps[1].headers: uses {{tokn}}, which no earlier step saves",
        ),
        (
            [{"get": "http://payments.internal/{token}", "save": {"token": "$.token"}}],
            f"{AT}: steps[0].get: uses {{token}}, which no earlier step saves",
        ),
        (
            [{"post": "http://x/", "json": {"a": ["{b}"]}, "query": {"c": "{d}"}}],
            f"{AT}: steps[0].query: uses {{d}}, which no earlier step saves;"
            " steps[0].json: uses {b}, which no earlier step saves",
        ),
        (
            [{"get": "http://x/", "post": "http://x/"}],
            f"{AT}.steps[0]: has get and post; a step sends one request",
        ),
        (
            [{"name": "log in", "json": {}}],
            f"{AT}.steps[0]: needs one of get, post, put, patch, delete, head,"
            " with the URL to send it to",
        ),
        (
            [{"post": "http://x/", "save": {"token": "token"}}],
            f"{AT}.steps[0].save.token: 'token' is not a JSON path (it must start with $)",
        ),
        (
            [{"post": "http://x/", "save": {"token": "$.[["}}],
            f"{AT}.steps[0].save.token: '$.[[' is not a valid JSON path"
            " (Parse error at 1:3 near token [ ([))",
        ),
        (
            [{"post": "http://x/", "save": {"token": {"cookie": "sid"}}}],
            f"{AT}.steps[0].save.token: must be a JSON path ($.token),"
            " {header: Name} or {regex: '...'}",
        ),
        (
            [{"post": "http://x/", "save": {"csrf": {"regex": "("}}}],
            f"{AT}.steps[0].save.csrf: '(' is not a valid regular expression"
            " (missing ), unterminated subpattern at position 0)",
        ),
        (
            [{"post": "http://x/", "save": {"my-token": "$.token"}}],
            f"{AT}.steps[0].save: 'my-token' is not a variable name"
            " (letters, digits and _, not first a digit)",
        ),
        (
            [{"post": "http://x/", "body": '{"user": "canary"}'}],
            f'{AT}.steps[0].body: a lone "{{" at character 1 (write "{{{{" for a literal brace)',
        ),
        (
            [{"post": "http://x/", "body": "a", "form": {"b": "c"}}],
            f"{AT}.steps[0]: give only one of body, json and form",
        ),
        (
            [LOGIN, {"get": "http://{token}.internal/"}],
            f"{AT}.steps[1].get: variables may be used in the path and query, not in the host",
        ),
        (
            [{"get": "http://169.254.169.254/latest/meta-data/"}],
            f"{AT}.steps[0].get: 169.254.169.254 is a cloud metadata address;"
            " a check may not target it",
        ),
        (
            [{"get": "payments.internal/login"}],
            f"{AT}.steps[0].get: must be an http:// or https:// URL with a host",
        ),
        (
            [{"get": "http://x/", "expect": {"status": "7xx"}}],
            f"{AT}.steps[0].expect: '7xx' is not a status code, class (2xx) or range (200-299)",
        ),
        (
            [{"get": "http://x/", "headers": {"X-Retry": True}}],
            f"{AT}.steps[0].headers['X-Retry']: must be text",
        ),
        ([{"get": "http://x/", "method": "GET"}], f"{AT}.steps[0].method: is not a known key"),
        (
            [{"get": "http://x/", "timeout": "soon"}],
            f"{AT}.steps[0].timeout: 'soon' is not a duration (use e.g. 30s, 5m, 1h30m, 250ms)",
        ),
        ([], f"{AT}.steps: needs at least one step"),
    ],
)
def test_config_mistakes_are_refused_when_it_loads(steps: list[Any], error: str) -> None:
    assert config_errors(*steps) == [error]


def test_the_design_example_loads() -> None:
    check = {
        "name": "canary subscription is active",
        "type": "workflow",
        "timeout": "8s",
        "steps": [
            {
                "post": "http://payments.internal/login",
                "json": {"user": "canary", "password": "${CANARY_PASSWORD}"},
                "save": {"token": "$.token"},
            },
            {
                "get": "http://payments.internal/subscriptions/canary",
                "headers": {"Authorization": "Bearer {token}"},
                "expect": {"status": 200, "json": {"$.status": "active"}},
            },
        ],
    }
    config = parse_config(
        {"components": [{"id": "payments", "name": "Payments", "checks": [check]}]},
        env={"CANARY_PASSWORD": PASSWORD},
    )
    [spec] = config.components[0].checks
    assert isinstance(spec, WorkflowCheck)
    assert [step.label for step in spec.steps] == [
        "POST /login",
        "GET /subscriptions/canary",
    ]
    assert [step.expect.status for step in spec.steps] == ["2xx", 200]
    assert PASSWORD in config.secrets


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("Bearer {token}", "Bearer t-1"),
        ("{{token}} is {token}", "{token} is t-1"),
        ("{{}}", "{}"),
        ("plain", "plain"),
    ],
)
def test_templates(text: str, rendered: str) -> None:
    assert Template.parse(text).render({"token": "t-1"}) == rendered


def test_a_lone_closing_brace_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r'a lone "\}" at character 4 \(write "\}\}" for a literal brace\)'
    ):
        Template.parse("abc}")
