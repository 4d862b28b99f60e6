"""`statuspage export --config FILE --out DIR`: the public pages as static
files, once (see `statuspage.export`; `run` keeps them current when the
config sets `export.dir`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_BAD_CONFIG = 2


def _progress_line(done: int, total: int) -> None:
    """`exported 120/340 files`, rewritten in place on a terminal."""
    click.echo(f"\rexported {done}/{total} files", nl=False)


@click.command("export")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="statuspage.yaml",
    show_default=True,
    help="The YAML config file.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder to write (default: export.dir of the config).",
)
def export_command(config_path: Path, out: Path | None) -> None:
    """Write the public pages as static files for nginx, a CDN or an object store.

    Pages are written at their addresses (`/incidents/ID` as
    `incidents/ID.html`); files of pages that no longer exist are removed.
    deploy/nginx/statuspage.conf serves the folder and passes the rest
    (admin, API, subscriptions) to the app.
    """
    # Imported here: `statuspage.cli` registers this command at its end.
    from statuspage.cli import load_or_exit

    config = load_or_exit(config_path)
    folder = out or config.export.path(config.base_dir)
    if folder is None:
        raise click.UsageError("say where to write: --out DIR, or export.dir in the config")

    from statuspage.clock import utc_now
    from statuspage.export import Exporter, ExportError
    from statuspage.store import Store
    from statuspage.web.admin import SecretKeyError

    store = Store(config.database_url())
    try:
        try:
            if store.pending_migrations():
                raise click.ClickException(
                    "the database is not set up or not up to date; "
                    f"run: statuspage db upgrade --config {config_path}"
                )
            exporter = Exporter(config, store, folder, utc_now)
        except SecretKeyError as exc:
            click.echo(f"{exc}; nothing was exported.", err=True)
            sys.exit(EXIT_BAD_CONFIG)
        on_terminal = sys.stdout.isatty()
        try:
            result = exporter.export(_progress_line if on_terminal else None)
        except (ExportError, OSError) as exc:
            if on_terminal:
                click.echo()
            raise click.ClickException(f"{exc} (the previous export in {folder} is left)") from exc
    finally:
        store.close()
    if on_terminal:
        click.echo()
    for url, reason in sorted(result.skipped.items()):
        click.echo(f"left to the app: {url} ({reason})", err=True)
    click.echo(
        f"exported {result.files} files to {folder} "
        f"({result.written} written, {result.removed} removed)"
    )
