"""The `statuspage` command."""

from __future__ import annotations

import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from statuspage import __version__
from statuspage.checks.base import CheckResult
from statuspage.checks.heartbeat import hash_token, new_token
from statuspage.clock import utc_now
from statuspage.config import Config, ConfigError, load_config
from statuspage.demo.scenario import SCENARIOS
from statuspage.domain import ComponentStatus, worst_status
from statuspage.durations import parse_duration
from statuspage.monitor import component_rows, watched_checks
from statuspage.scheduler import DEADLINE_GRACE, check_context, run_with_deadline
from statuspage.starter import STARTER_CONFIG
from statuspage.store import Store

EXIT_NOT_OPERATIONAL = 1
EXIT_BAD_CONFIG = 2
# Between rounds of `check --wait`.
WAIT_ROUND_S = 3.0

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="statuspage.yaml",
    show_default=True,
    help="The YAML config file.",
)


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # One line per request is noise next to the status changes that matter.
    logging.getLogger("waitress").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # httpx logs every request with its URL, which may carry a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def load_or_exit(path: Path) -> Config:
    """Load the config, or print every problem and exit with status 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        bad_config(exc)


def bad_config(exc: ConfigError) -> NoReturn:
    for line in exc.errors:
        click.echo(line, err=True)
    count = len(exc.errors)
    click.echo(
        f"{count} problem{'s' if count != 1 else ''} in the config; nothing was started.", err=True
    )
    sys.exit(EXIT_BAD_CONFIG)


@click.group()
@click.version_option(__version__, prog_name="statuspage")
def main() -> None:
    """A self-hosted, automated public status page."""


@main.command()
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="statuspage.yaml",
    show_default=True,
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented starter config."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    click.echo(f"Wrote {path}. Edit it, then: statuspage run --config {path}")


@main.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
def run(config_path: Path, host: str | None, port: int | None) -> None:
    """Run the web page and the scheduler in one process."""
    from statuspage.lease import SchedulerAlreadyRunning
    from statuspage.logs import configure_logging
    from statuspage.runtime import serve, start_services

    setup_logging()
    config = load_or_exit(config_path)
    configure_logging(config.logging, config.secrets, role="run")
    try:
        services = start_services(config)
    except SchedulerAlreadyRunning as exc:
        raise click.ClickException(str(exc)) from exc
    serve(
        services,
        host or config.server.host,
        port or config.server.port,
        on_ready=lambda url: click.echo(f"statuspage is serving {url}", err=True),
    )
    if services.leadership.abandoned:
        from statuspage.roles import exit_now

        exit_now()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default="statuspage-demo",
    show_default=True,
    help="Where the demo keeps its config and database.",
)
@click.option(
    "--scenario",
    type=click.Choice(sorted(SCENARIOS)),
    default=None,
    help="Replay an outage on the simulated services (deploy-misconfig: the outage of DESIGN.md).",
)
def demo(host: str, port: int, directory: Path, scenario: str | None) -> None:
    """Simulated services and a status page watching them."""
    from statuspage.demo.run import run_demo

    setup_logging()
    steps = SCENARIOS[scenario]() if scenario else None
    try:
        run_demo(host, port, directory, say=lambda text: click.echo(text, err=True), scenario=steps)
    except OSError as exc:
        if "address already in use" in str(exc).lower():
            raise click.ClickException(f"port {port} is in use; try --port {port + 1}") from exc
        raise


@main.command("heartbeat-token")
@config_option
@click.argument("check_id")
def heartbeat_token(config_path: Path, check_id: str) -> None:
    """Make a new token for a heartbeat check (the old one stops working).

    The token is printed once, alone on the last line; only its hash is kept.
    """
    config = load_or_exit(config_path)
    specs = {cid: spec for _, spec, cid in config.checks()}
    spec = specs.get(check_id)
    if spec is None or spec.type != "heartbeat":  # type: ignore[attr-defined]
        beats = [cid for cid, s in specs.items() if s.type == "heartbeat"]  # type: ignore[attr-defined]
        known = ", ".join(beats) or "none in this config"
        raise click.UsageError(f"{check_id!r} is not a heartbeat check (heartbeat checks: {known})")
    if spec.token:  # type: ignore[attr-defined]
        raise click.ClickException(f"{check_id} takes its token from the config; change it there")
    store = Store(config.database_url())
    store.upgrade()
    with store.transaction() as conn:
        store.sync_components(conn, component_rows(config), utc_now())
    token = new_token()
    store.set_heartbeat_token(check_id, hash_token(token), utc_now())
    url = f"{config.site.url}/api/v1/heartbeat/"
    click.echo(f"Ping it with: curl -fsS -X POST {url}<token>   (append /fail to report a failure)")
    click.echo("The token is shown this once:")
    click.echo(token)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: Path) -> None:
    """Apply pending database migrations."""
    config = load_or_exit(config_path)
    store = Store(config.database_url())
    store.upgrade()
    click.echo("database is up to date")


@main.command()
@config_option
@click.option("--component", "components", multiple=True, help="Only this component (repeatable).")
@click.option(
    "--wait",
    "wait_for",
    default=None,
    metavar="DURATION",
    help="Keep checking until all are operational or this much time passed (e.g. 2m).",
)
@click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def check(
    config_path: Path, components: tuple[str, ...], wait_for: str | None, output: str
) -> None:
    """Run every check once; exit 1 unless all components are operational.

    Use it as a deploy gate: `statuspage check --config FILE --wait 2m`.
    """
    config = load_or_exit(config_path)
    unknown = [c for c in components if config.component(c) is None]
    if unknown:
        raise click.UsageError(f"no component {', '.join(map(repr, unknown))} in {config_path}")
    try:
        budget = parse_duration(wait_for) if wait_for is not None else timedelta(0)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--wait") from exc
    deadline = time.monotonic() + budget.total_seconds()
    while True:
        report = run_all_checks(config, set(components) or None)
        healthy = all_operational(report)
        left = deadline - time.monotonic()
        if healthy or left <= 0:
            break
        failing = [
            f"{c['id']} {c['status']}" for c in report["components"] if c["status"] != "operational"
        ]
        click.echo(f"waiting ({round(left)}s left): {', '.join(failing)}", err=True)
        time.sleep(min(WAIT_ROUND_S, left))
    if output == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_table(report))
    if not healthy:
        sys.exit(EXIT_NOT_OPERATIONAL)


def all_operational(report: dict[str, Any]) -> bool:
    return all(c["status"] == ComponentStatus.OPERATIONAL for c in report["components"])


def run_all_checks(config: Config, only: set[str] | None) -> dict[str, Any]:
    """Every check once, in parallel, each under its deadline."""
    ctx = check_context(config, utc_now, _store_if_heartbeats(config))
    watched = [w for w in watched_checks(config) if only is None or w.component_id in only]
    with ThreadPoolExecutor(max_workers=max(1, min(32, len(watched)))) as pool:
        results = list(
            pool.map(
                lambda w: run_with_deadline(w, ctx, w.spec.effective_timeout() + DEADLINE_GRACE),
                watched,
            )
        )
    by_component: dict[str, list[tuple[str, CheckResult]]] = {}
    for w, result in zip(watched, results, strict=True):
        by_component.setdefault(w.component_id, []).append((w.name, result))
    report = []
    for component in config.components:
        if only is not None and component.id not in only:
            continue
        checks = by_component.get(component.id, [])
        worst = worst_status(r.status for _, r in checks)
        status = (
            worst
            if worst is not None
            else (ComponentStatus.UNKNOWN if checks else ComponentStatus.OPERATIONAL)
        )
        failing = [
            f"{name}: {r.reason}"
            for name, r in checks
            if r.status is not ComponentStatus.OPERATIONAL
        ]
        report.append(
            {
                "id": component.id,
                "name": component.name,
                "status": status.value,
                "reason": "; ".join(failing) if failing else "all checks pass",
                "checks": [
                    {
                        "name": name,
                        "status": r.status.value,
                        "reason": r.reason,
                        "latency_ms": r.latency_ms,
                    }
                    for name, r in checks
                ],
            }
        )
    return {"components": report}


def _store_if_heartbeats(config: Config) -> Store | None:
    """Heartbeat checks read their pings from the database of a running
    page; other checks need no database."""
    if not any(spec.type == "heartbeat" for _, spec, _ in config.checks()):  # type: ignore[attr-defined]
        return None
    store = Store(config.database_url())
    try:
        store.ping()
        if store.pending_migrations():
            return None
    except Exception:
        return None
    return store


def format_table(report: dict[str, Any]) -> str:
    rows = [(c["id"], c["status"], c["reason"]) for c in report["components"]]
    header = ("COMPONENT", "STATUS", "REASON")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}" for r in [header, *rows]]
    return "\n".join(lines)


@main.group()
def user() -> None:
    """People who log in to /admin."""


ROLE_NAMES = ["viewer", "editor", "admin"]


@user.command("add")
@config_option
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLE_NAMES),
    default="editor",
    show_default=True,
    help="What they may do.",
)
@click.option(
    "--generate",
    is_flag=True,
    help="Generate a password; it is printed once, alone on the last line.",
)
def user_add(config_path: Path, name: str, role: str, generate: bool) -> None:
    """Create a user who can log in to /admin (password prompted twice)."""
    from statuspage import auth
    from statuspage.store.users import UsernameTaken, UserRepository

    config = load_or_exit(config_path)
    username = auth.normalize_username(name)
    if problem := auth.username_problem(username):
        raise click.BadParameter(problem, param_hint="NAME")
    password = auth.generate_password() if generate else _prompt_new_password(username)
    store = Store(config.database_url())
    try:
        store.upgrade()
        users = UserRepository(store)
        try:
            users.create(username, role, auth.hash_password(password), actor="cli", at=utc_now())
        except UsernameTaken as exc:
            raise click.ClickException(
                f"a user named {username} exists; to change the password: "
                f"statuspage user set-password {username}"
            ) from exc
    finally:
        store.close()
    click.echo(f"Created {role} {username}; log in at {config.site.url}/admin/login")
    if generate:
        click.echo("The password is shown this once:")
        click.echo(password)


@user.command("set-password")
@config_option
@click.argument("name")
@click.option(
    "--generate",
    is_flag=True,
    help="Generate a password; it is printed once, alone on the last line.",
)
def user_set_password(config_path: Path, name: str, generate: bool) -> None:
    """Give a user a new password. Their sessions end and their API tokens are revoked."""
    from statuspage import auth
    from statuspage.store.users import UserRepository

    config = load_or_exit(config_path)
    username = auth.normalize_username(name)
    store = Store(config.database_url())
    try:
        store.upgrade()
        users = UserRepository(store)
        found = users.by_name(username)
        if found is None:
            raise click.ClickException(f"no user named {username}")
        password = auth.generate_password() if generate else _prompt_new_password(username)
        users.set_password(found.id, auth.hash_password(password), actor="cli", at=utc_now())
    finally:
        store.close()
    click.echo(f"Set a new password for {username}; their sessions and API tokens stopped working.")
    if generate:
        click.echo("The password is shown this once:")
        click.echo(password)


def _prompt_new_password(username: str) -> str:
    """Ask twice with hidden input; ask again while the password breaks a rule."""
    from statuspage import auth

    def acceptable(value: str) -> str:
        if problem := auth.password_problem(value, username):
            raise click.UsageError(f"the password {problem}")
        return value

    return str(
        click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=acceptable)
    )


# --- API tokens and deploy markers ------------------------------------------

EXIT_REQUEST_FAILED = 1
DEPLOY_MARK_TIMEOUT_S = 10.0


@main.group()
def token() -> None:
    """Bearer tokens for /api/v1."""


@token.command("create")
@config_option
@click.option("--name", required=True, help="Who uses it, e.g. ci; the audit log says token:NAME.")
@click.option(
    "--role",
    type=click.Choice(ROLE_NAMES),
    default="editor",
    show_default=True,
    help="What it may do.",
)
def token_create(config_path: Path, name: str, role: str) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from statuspage import auth
    from statuspage.store.users import UserRepository

    config = load_or_exit(config_path)
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("use 1 to 100 characters", param_hint="--name")
    secret = auth.new_api_token()
    store = Store(config.database_url())
    try:
        store.upgrade()
        UserRepository(store).create_token(
            name, role, auth.hash_api_token(secret), None, actor="cli", at=utc_now()
        )
    finally:
        store.close()
    click.echo(f"Created the {role} token {name}. It is shown this once:")
    click.echo(secret)


@main.command("deploy-mark")
@click.option(
    "--url", envvar="STATUSPAGE_URL", required=True, help="The status page (or $STATUSPAGE_URL)."
)
@click.option(
    "--token",
    "api_token",
    envvar="STATUSPAGE_TOKEN",
    required=True,
    help="An editor API token (or $STATUSPAGE_TOKEN).",
)
@click.option("--component", required=True, help="The component id.")
@click.option("--version", "version", required=True, help="What was deployed, e.g. v2.14.")
@click.option("--who", default="", help="Who deployed (default: empty).")
@click.option("--link", default=None, help="An http(s) link to the build or change.")
def deploy_mark(
    url: str, api_token: str, component: str, version: str, who: str, link: str | None
) -> None:
    """Record a deploy on a running status page (staff see it, never the public)."""
    import httpx

    payload: dict[str, str] = {"component": component, "version": version, "who": who}
    if link:
        payload["link"] = link
    endpoint = url.rstrip("/") + "/api/v1/deployments"
    try:
        answer = httpx.post(
            endpoint,
            json=payload,
            headers={"Authorization": f"Bearer {api_token}"},
            timeout=DEPLOY_MARK_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        click.echo(f"error: could not reach {endpoint}: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_REQUEST_FAILED)
    if answer.status_code >= 400:
        try:
            detail = answer.json().get("error", answer.text)
        except ValueError:
            detail = answer.text[:200]
        click.echo(f"error: {endpoint} answered {answer.status_code}: {detail}", err=True)
        sys.exit(EXIT_REQUEST_FAILED)
    stored = answer.json()
    click.echo(f"Recorded deploy {stored['version']} of {stored['component']} at {stored['at']}.")


from statuspage.export_cli import export_command  # noqa: E402

main.add_command(export_command)

from statuspage.roles import ROLE_COMMANDS  # noqa: E402

for _command in ROLE_COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
