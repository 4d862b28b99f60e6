"""One YAML file to a validated `Config`.

Parse once: every check and assertion is compiled here, and a bad file is
refused before anything starts, with every error at once, each naming the
file, the dotted path and the reason:

    statuspage.yaml: components[1].checks[0].timeout: must be at most 60s
"""

from __future__ import annotations

import os
import re
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from statuspage.alertmanager import AlertmanagerSettings
from statuspage.checks import CHECK_TYPES, CheckConfig
from statuspage.checks.base import MAX_TIMEOUT, CheckSpec, StrictModel
from statuspage.durations import Duration, format_duration, parse_duration
from statuspage.export_settings import ExportSettings
from statuspage.incidents import IncidentPolicy
from statuspage.metrics_settings import MetricsSettings
from statuspage.notify.settings import NotificationSettings
from statuspage.ops_settings import LoggingSettings, RetentionSettings

MIN_INTERVAL = timedelta(seconds=1)
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class ConfigError(Exception):
    """A config that cannot be used; `errors` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def absolute_http_url(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError("must be an absolute http:// or https:// URL")
    return url.rstrip("/")


class Site(StrictModel):
    title: str = "Status"
    url: str = "http://127.0.0.1:8080"
    timezone: str = "UTC"
    description: str = ""

    _url = field_validator("url")(lambda cls, url: absolute_http_url(url))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{name!r} is not a known time zone (e.g. UTC, Europe/Berlin)"
            ) from exc
        return name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class PrometheusSettings(StrictModel):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    _url = field_validator("url")(lambda cls, url: absolute_http_url(url))


class Storage(StrictModel):
    # A SQLAlchemy URL; DATABASE_URL in the environment wins over it.
    url: str | None = None
    # The SQLite file when no URL is given, relative to the config file.
    path: str = "statuspage.db"


class Defaults(StrictModel):
    interval: Duration = Field(default_factory=lambda: parse_duration("30s"))
    timeout: Duration = Field(default_factory=lambda: parse_duration("10s"))

    @field_validator("timeout")
    @classmethod
    def _bounded_timeout(cls, timeout: timedelta) -> timedelta:
        if timeout > MAX_TIMEOUT:
            raise ValueError(f"must be at most {int(MAX_TIMEOUT.total_seconds())}s")
        return timeout

    confirm_down: int = Field(default=2, ge=1, le=100)
    confirm_up: int = Field(default=2, ge=1, le=100)
    stale_after: int = Field(default=3, ge=1, le=100)


class SchedulerSettings(StrictModel):
    workers: int = Field(default=16, ge=1, le=512)
    # Each run starts up to this much early or late, so checks that share an
    # interval do not all fire in the same second.
    jitter: Duration = Field(default_factory=lambda: parse_duration("2s"))


class Server(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class Component(StrictModel):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    group: str | None = None
    checks: list[CheckConfig] = Field(default_factory=list)


class AdminSettings(StrictModel):
    # Signs staff sessions; every web process must share it. Better from the
    # environment (STATUSPAGE_SECRET_KEY, which wins) or ${ENV}. Without
    # one, a SQLite setup keeps a generated key in a file next to the database.
    secret_key: str | None = Field(default=None, min_length=32)


class Config(StrictModel):
    site: Site = Field(default_factory=Site)
    prometheus: PrometheusSettings | None = None
    storage: Storage = Field(default_factory=Storage)
    defaults: Defaults = Field(default_factory=Defaults)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    server: Server = Field(default_factory=Server)
    incidents: IncidentPolicy = Field(default_factory=IncidentPolicy)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    alertmanager: AlertmanagerSettings = Field(default_factory=AlertmanagerSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    components: list[Component] = Field(default_factory=list)

    # Where the file was; relative paths are taken from its folder.
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    # Values that came from ${ENV} references: never shown or logged.
    _secrets: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _apply_defaults(self) -> Config:
        """Fill each check's timing from `defaults` and check the pairs that
        only make sense together. Raises one error for the first problem;
        `_cross_check` in `load_config` reports them all with paths."""
        for component in self.components:
            for check in component.checks:
                apply_defaults(check, self.defaults)
                check._check_id = check_id(component, check)
        return self

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def database_url(self) -> str:
        if url := os.environ.get("DATABASE_URL"):
            return url
        if self.storage.url:
            return self.storage.url
        path = Path(self.storage.path)
        if not path.is_absolute():
            path = self._base_dir / path
        return f"sqlite:///{path}"

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    def checks(self) -> list[tuple[Component, CheckSpec, str]]:
        """Every (component, check, check id), in config order."""
        return [(c, check, check_id(c, check)) for c in self.components for check in c.checks]


def check_id(component: Component, check: CheckSpec) -> str:
    return f"{component.id}/{check.slug}"


def apply_defaults(check: CheckSpec, defaults: Defaults) -> None:
    for name in ("interval", "timeout", "confirm_down", "confirm_up", "stale_after"):
        if getattr(check, name) is None:
            setattr(check, name, getattr(defaults, name))


def _cross_check(
    components: list[tuple[int, Component]], has_prometheus: bool
) -> list[tuple[str, str]]:
    """Rules across fields, as (path, reason) pairs, all of them. Runs on
    every component that validated, even when others did not."""
    problems: list[tuple[str, str]] = []
    seen_components: set[str] = set()
    for ci, component in components:
        where = f"components[{ci}]"
        if component.id in seen_components:
            problems.append((f"{where}.id", f"{component.id!r} is used by another component"))
        seen_components.add(component.id)
        seen_checks: set[str] = set()
        for ki, check in enumerate(component.checks):
            at = f"{where}.checks[{ki}]"
            if check.slug in seen_checks:
                problems.append(
                    (f"{at}.name", f"another check of {component.id!r} has the id {check.slug!r}")
                )
            seen_checks.add(check.slug)
            interval, timeout = check.effective_interval(), check.effective_timeout()
            if interval < MIN_INTERVAL:
                problems.append(
                    (f"{at}.interval", f"must be at least {format_duration(MIN_INTERVAL)}")
                )
            if timeout >= interval and timeout <= MAX_TIMEOUT:
                problems.append(
                    (
                        f"{at}.timeout",
                        f"must be shorter than the interval ({format_duration(interval)})",
                    )
                )
            if check.type == "prometheus" and not has_prometheus:
                problems.append((f"{at}.type", "a prometheus check needs prometheus.url to be set"))
    return problems


def _components_that_validate(data: dict[str, Any]) -> list[tuple[int, Component]]:
    """When the whole file failed, the components that are fine on their own,
    with the defaults applied, so their cross-field rules are reported too."""
    try:
        defaults = Defaults.model_validate(data.get("defaults") or {})
    except ValidationError:
        defaults = Defaults()
    raw = data.get("components")
    valid: list[tuple[int, Component]] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            component = Component.model_validate(item)
        except ValidationError:
            continue
        for check in component.checks:
            apply_defaults(check, defaults)
        valid.append((index, component))
    return valid


# --- loading -------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (PyYAML keeps the last)."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(
    node: Any, path: str, env: dict[str, str], errors: list[tuple[str, str]], secrets: set[str]
) -> Any:
    """Replace `${VAR}` (or `${VAR:-default}`) in every string value; `$$`
    is a literal `$`. Keys are left alone (JSON paths start with `$`)."""
    if isinstance(node, dict):
        return {k: expand_env(v, _join(path, k), env, errors, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [expand_env(v, f"{path}[{i}]", env, errors, secrets) for i, v in enumerate(node)]
    if not isinstance(node, str) or "$" not in node:
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            value = env[name]
            if len(value) >= 4:
                secrets.add(value)
            return value
        if default is not None:
            return default
        errors.append((path, f"environment variable {name} is not set"))
        return ""

    return _ENV_REF.sub(replace, node)


def _join(path: str, key: Any) -> str:
    key = str(key)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def format_loc(loc: tuple[int | str, ...]) -> str:
    """pydantic's ('components', 1, 'checks', 0, 'http', 'timeout') to
    `components[1].checks[0].timeout` (the union's tag is dropped)."""
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _is_union_tag(part, previous):
            text = _join(text, part)
        previous = part
    return text


def _is_union_tag(part: str, previous: int | str | None) -> bool:
    """pydantic puts the chosen union member (`http`) or a validator's name
    into the location; a person's path has neither."""
    if isinstance(previous, int) and part in CHECK_TYPES:
        return True
    return part.startswith(("function-", "tagged-union"))


def _reason(error: Any) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known key"
    if kind == "union_tag_invalid":
        return (
            f"unknown check type {error['input'].get('type')!r} (known: {', '.join(CHECK_TYPES)})"
        )
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] == ID_PATTERN:
        return "must be lowercase letters, digits, - and _, starting with a letter or digit"
    if kind == "union_tag_not_found":
        return f"needs a type ({', '.join(CHECK_TYPES)})"
    return str(message).removeprefix("Value error, ")


def parse_config(
    data: Any,
    source: str = "statuspage.yaml",
    env: dict[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Validate an already-parsed YAML document. Raises ConfigError."""
    env = dict(os.environ) if env is None else env
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{source}: the file must hold a mapping (key: value), not {type(data).__name__}"]
        )
    problems: list[tuple[str, str]] = []
    secrets: set[str] = set()
    data = expand_env(data, "", env, problems, secrets)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
        components = list(enumerate(config.components))
    except ValidationError as exc:
        # A missing variable already explains why its value is wrong.
        env_paths = {path for path, _ in problems}
        problems.extend(
            (format_loc(e["loc"]), _reason(e))
            for e in exc.errors()
            if format_loc(e["loc"]) not in env_paths
        )
        components = _components_that_validate(data)
    problems.extend(_cross_check(components, has_prometheus=bool(data.get("prometheus"))))
    if problems:
        raise ConfigError(
            [f"{source}: {path or '(top level)'}: {reason}" for path, reason in problems]
        )
    assert config is not None
    config._base_dir = base_dir or Path.cwd()
    config._secrets = frozenset(secrets)
    return config


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """Read, expand and validate a config file. Raises ConfigError."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError([f"{name}: no such file"]) from exc
    except OSError as exc:
        raise ConfigError([f"{name}: cannot read it ({exc.strerror})"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{name}: not UTF-8 text"]) from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError([f"{name}: {where}: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{name}: not valid YAML ({exc})"]) from exc
    return parse_config(data, source=name, env=env, base_dir=path.resolve().parent)
