"""`type: workflow`: what a user does, as HTTP steps run as one check.

Log in, keep the token, read the subscription, expect `active`: the seed
outage left every health endpoint green and only such a walk saw it. A step
may `save` a value from its response (a JSON path, a header, a regex group)
and later steps use it as `{name}` in their URL, query, headers and body.
Templates, paths and regexes are compiled when the config loads, and a
`{name}` that no earlier step saves is refused there.

The steps share one client (so cookies set by one step go with the next, as
in a browser) and one deadline, the check's timeout; a step's own timeout
only ever cuts that shorter. Reasons name the step and what failed, never
what was sent: saved values are secrets, and so is whatever came from
`${ENV}` (which `run_check` hides).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

import httpx
from jsonpath_ng import JSONPath
from pydantic import Field, PlainValidator, field_validator, model_validator

from statuspage.checks.assertions import compile_path, compile_regex
from statuspage.checks.base import CheckResult, CheckSpec, StrictModel, describe_seconds
from statuspage.checks.http import (
    Answer,
    HttpExpect,
    LatencyThresholds,
    check_target_url,
    send_request,
)
from statuspage.checks.network import probe_client
from statuspage.clock import Clock
from statuspage.domain import ComponentStatus
from statuspage.durations import Duration

METHODS = ("get", "post", "put", "patch", "delete", "head")
# A saved value shorter than this is not hidden in reasons (it would blank
# out every "1" of "status (401)"); config.py draws the same line for ${ENV}.
MIN_SECRET_CHARS = 4
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
# Anything but printable ASCII and tab breaks a header (or smuggles another in).
_NOT_HEADER_SAFE = re.compile(r"[^\t\x20-\x7e]")


# --- templates ---------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """Text with `{name}` slots for saved variables; `{{` and `}}` are literal
    braces. `parts` alternates literal text and variable names, literal first."""

    text: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        parts, pos = [""], 0
        for match in _TEMPLATE_TOKEN.finditer(text):
            parts[-1] += text[pos : match.start()]
            pos = match.end()
            token = match.group(0)
            if match.group(1):
                parts += [match.group(1), ""]
            elif token in ("{{", "}}"):
                parts[-1] += token[0]
            else:
                raise ValueError(
                    f'a lone "{token}" at character {match.start() + 1}'
                    f' (write "{token * 2}" for a literal brace)'
                )
        parts[-1] += text[pos:]
        return cls(text, tuple(parts))

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def render(self, values: Mapping[str, str], encode: Callable[[str], str] = str) -> str:
        return "".join(
            part if i % 2 == 0 else encode(values[part]) for i, part in enumerate(self.parts)
        )


def _text_template(value: Any) -> Template:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be text")
    return Template.parse(str(value))


def _url_template(value: Any) -> Template:
    if not isinstance(value, str):
        raise ValueError("must be an http:// or https:// URL")
    template = Template.parse(value)
    # The target is vetted here (no metadata address), so its host is written out.
    origin = re.match(r"[^:/?#]*://[^/?#]*", value)
    if origin is not None and "{" in origin.group(0):
        raise ValueError("variables may be used in the path and query, not in the host")
    check_target_url(template.render(dict.fromkeys(template.names, "x")))
    return template


def _json_template(value: Any) -> Any:
    """A JSON body whose string values (not keys) are templates."""
    if isinstance(value, str):
        return Template.parse(value)
    if isinstance(value, list):
        return [_json_template(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_template(item) for key, item in value.items()}
    return value


def _json_names(value: Any) -> list[str]:
    if isinstance(value, Template):
        return list(value.names)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [name for item in items for name in _json_names(item)]


def _render_json(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, Template):
        return value.render(values)
    if isinstance(value, list):
        return [_render_json(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _render_json(item, values) for key, item in value.items()}
    return value


TextTemplate = Annotated[Template, PlainValidator(_text_template)]
UrlTemplate = Annotated[Template, PlainValidator(_url_template)]
JsonTemplate = Annotated[Any, PlainValidator(_json_template)]


# --- saving values from a response -----------------------------------------------


class _NotSaved(Exception):
    """Why a value could not be taken from a response (a reason, no value)."""


@dataclass(frozen=True)
class JsonSave:
    path_text: str
    path: JSONPath

    def take(self, answer: Answer) -> str:
        try:
            document = json.loads(answer.body)
        except ValueError:
            raise _NotSaved("the response is not JSON") from None
        found = [match.value for match in self.path.find(document)]
        if not found:
            raise _NotSaved(f"{self.path_text} not found in the response")
        if found[0] is None:
            raise _NotSaved(f"{self.path_text} is null in the response")
        return found[0] if isinstance(found[0], str) else json.dumps(found[0])


@dataclass(frozen=True)
class HeaderSave:
    header: str

    def take(self, answer: Answer) -> str:
        values = answer.headers.get_list(self.header)
        if not values:
            raise _NotSaved(f"no {self.header} header in the response")
        return values[0]


@dataclass(frozen=True)
class RegexSave:
    """The first group of the first match (the whole match if no group)."""

    regex: re.Pattern[str]

    def take(self, answer: Answer) -> str:
        match = self.regex.search(answer.body)
        if match is None:
            raise _NotSaved(f"/{self.regex.pattern}/ did not match the response")
        return match.group(1 if self.regex.groups else 0) or ""


Save = JsonSave | HeaderSave | RegexSave


def _save_rule(value: Any) -> Save:
    """`$.token`, `{header: Set-Cookie}` or `{regex: 'csrf" value="([^"]+)'}`."""
    if isinstance(value, str):
        return JsonSave(value, compile_path(value))
    if isinstance(value, dict) and len(value) == 1:
        [(source, what)] = value.items()
        if source == "header" and isinstance(what, str) and what:
            return HeaderSave(what)
        if source == "regex" and isinstance(what, str):
            return RegexSave(compile_regex(what))
    raise ValueError("must be a JSON path ($.token), {header: Name} or {regex: '...'}")


SaveRule = Annotated[Save, PlainValidator(_save_rule)]


# --- the config ----------------------------------------------------------------


def _expect_2xx() -> HttpExpect:
    return HttpExpect(status="2xx")


class WorkflowStep(StrictModel):
    """One request: exactly one of `get`, `post`, ... with its URL."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    get: UrlTemplate | None = None
    post: UrlTemplate | None = None
    put: UrlTemplate | None = None
    patch: UrlTemplate | None = None
    delete: UrlTemplate | None = None
    head: UrlTemplate | None = None
    query: dict[str, TextTemplate] = Field(default_factory=dict)
    headers: dict[str, TextTemplate] = Field(default_factory=dict)
    body: TextTemplate | None = None
    json_body: JsonTemplate = Field(default=None, alias="json")
    form: dict[str, TextTemplate] | None = None
    timeout: Duration | None = None
    save: dict[str, SaveRule] = Field(default_factory=dict)
    # A step expects a 2xx unless its `expect` names a status.
    expect: HttpExpect = Field(default_factory=_expect_2xx)
    latency: LatencyThresholds | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_method(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = [method for method in METHODS if method in data]
        if not given:
            raise ValueError(f"needs one of {', '.join(METHODS)}, with the URL to send it to")
        if len(given) > 1:
            both = ", ".join(given[:-1]) + f" and {given[-1]}"
            raise ValueError(f"has {both}; a step sends one request")
        expect = data.get("expect")
        if isinstance(expect, dict) and "status" not in expect:
            data = {**data, "expect": {"status": "2xx", **expect}}
        return data

    @model_validator(mode="after")
    def _one_body(self) -> WorkflowStep:
        bodies = [self.body, self.json_body, self.form]
        if sum(body is not None for body in bodies) > 1:
            raise ValueError("give only one of body, json and form")
        return self

    @field_validator("save")
    @classmethod
    def _names(cls, save: dict[str, Save]) -> dict[str, Save]:
        for name in save:
            if not _NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a variable name (letters, digits and _, not first a digit)"
                )
        return save

    @property
    def method(self) -> str:
        return next(method for method in METHODS if getattr(self, method) is not None).upper()

    @property
    def url(self) -> Template:
        url: Template = getattr(self, self.method.lower())
        return url

    @property
    def label(self) -> str:
        """The name, or `POST /login` (the path as written, never a value)."""
        return self.name or f"{self.method} {urlsplit(self.url.text).path or '/'}"

    def uses(self) -> dict[str, list[str]]:
        """The variables each templated field uses, by the field's config key."""
        fields = {
            self.method.lower(): list(self.url.names),
            "query": [name for t in self.query.values() for name in t.names],
            "headers": [name for t in self.headers.values() for name in t.names],
            "body": list(self.body.names) if self.body else [],
            "json": _json_names(self.json_body),
            "form": [name for t in (self.form or {}).values() for name in t.names],
        }
        return {key: names for key, names in fields.items() if names}


class WorkflowCheck(CheckSpec):
    """Steps run in order under one deadline (the check's timeout); the
    first failing step ends the run."""

    type: Literal["workflow"]
    steps: list[WorkflowStep]
    follow_redirects: bool = False
    verify_tls: bool = True

    @field_validator("steps")
    @classmethod
    def _some_steps(cls, steps: list[WorkflowStep]) -> list[WorkflowStep]:
        if not steps:
            raise ValueError("needs at least one step")
        return steps

    @model_validator(mode="after")
    def _saved_before_use(self) -> WorkflowCheck:
        problems, saved = [], set[str]()
        for index, step in enumerate(self.steps):
            for key, names in step.uses().items():
                for name in dict.fromkeys(names):
                    if name not in saved:
                        problems.append(
                            f"steps[{index}].{key}: uses {{{name}}}, which no earlier step saves"
                        )
            saved.update(step.save)
        if problems:
            raise ValueError("; ".join(problems))
        return self


# --- running -----------------------------------------------------------------------


def run_workflow_check(
    spec: WorkflowCheck, now: Clock, client: httpx.Client | None = None
) -> CheckResult:
    """Run the steps in order and judge them. Never raises.

    Operational when every step passes; otherwise the check's failure_status
    with a reason like `step 2 "read subscription": json $.status
    ("expired") == "active"`. A step past its latency thresholds does not
    stop the run; the slowest verdict is reported if nothing failed.
    `latency_ms` is the whole run.
    """
    started_at = now()
    failed = ComponentStatus(spec.failure_status)
    total = spec.effective_timeout().total_seconds()
    start = time.monotonic()
    saved: dict[str, str] = {}
    slow: list[tuple[ComponentStatus, str]] = []
    ran_out = f"workflow timed out after {describe_seconds(total)}"
    http = client or probe_client(spec.verify_tls, spec.follow_redirects)

    def result(status: ComponentStatus, reason: str, timed: bool = True) -> CheckResult:
        latency_ms = (time.monotonic() - start) * 1000 if timed else None
        return CheckResult(started_at, status, _hide(reason, saved.values()), latency_ms)

    try:
        for number, step in enumerate(spec.steps, 1):
            where = f'step {number} "{step.label}"'
            left = total - (time.monotonic() - start)
            own = step.timeout.total_seconds() if step.timeout is not None else None
            if left <= 0:
                return result(failed, f"{where}: {ran_out}")
            answer = _send(http, step, saved, left if own is None else min(own, left), spec)
            if answer.timed_out and (own is None or left < own):
                return result(failed, f"{where}: {ran_out}")  # not the step's own timeout
            if answer.failure is not None:
                return result(failed, f"{where}: {answer.failure}", answer.timed_out)
            failure = step.expect.failure(answer.status, answer.body) or _keep(step, answer, saved)
            if failure is not None:
                return result(failed, f"{where}: {failure}")
            if step.latency and (verdict := step.latency.judge(answer.seconds, failed)):
                slow.append((verdict[0], f"{where}: {verdict[1]}"))
    finally:
        if client is None:
            http.close()
    if slow:
        return result(*max(slow, key=lambda verdict: verdict[0].severity))
    count = len(spec.steps)
    return result(ComponentStatus.OPERATIONAL, f"{count} step{'s' if count > 1 else ''} passed")


def _send(
    http: httpx.Client,
    step: WorkflowStep,
    saved: Mapping[str, str],
    budget: float,
    spec: WorkflowCheck,
) -> Answer:
    headers = {name: value.render(saved) for name, value in step.headers.items()}
    for name, value in headers.items():
        if _NOT_HEADER_SAFE.search(value):
            # A saved value with a line break or non-ASCII text; never shown.
            return Answer(0.0, failure=f"header {name} would carry a character headers cannot")
    return send_request(
        http,
        step.method,
        step.url.render(saved, encode=lambda value: quote(value, safe="")),
        budget,
        headers=headers,
        params={name: value.render(saved) for name, value in step.query.items()} or None,
        content=step.body.render(saved) if step.body is not None else None,
        json_body=_render_json(step.json_body, saved),
        form={k: v.render(saved) for k, v in step.form.items()} if step.form is not None else None,
        follow_redirects=spec.follow_redirects,
    )


def _keep(step: WorkflowStep, answer: Answer, saved: dict[str, str]) -> str | None:
    """Save what the step saves; the reason when a value is not there."""
    for name, rule in step.save.items():
        try:
            saved[name] = rule.take(answer)
        except _NotSaved as missing:
            return f"save {name}: {missing}"
    return None


def _hide(reason: str, values: Iterable[str]) -> str:
    """Saved values are secrets (tokens, cookies): a response that echoes
    one must not put it in a reason, nor its URL-encoded form."""
    from statuspage.checks import redact  # here: the package imports this module

    secrets = {form for value in values for form in (value, quote(value, safe=""))}
    return redact(reason, frozenset(s for s in secrets if len(s) >= MIN_SECRET_CHARS))
