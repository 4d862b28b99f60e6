"""The config's `export:` section: where `run` keeps a static copy of the
public pages (see `statuspage.export`).

Kept apart from `statuspage.export`, which imports the web app, so that
`statuspage.config` can refer to it without a cycle.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from statuspage.checks.base import StrictModel


class ExportSettings(StrictModel):
    """`export: {dir: public}`: `run` writes the public pages there as plain
    files after every change of what they show, for nginx, a CDN or an
    object store to serve. Relative to the config file's folder. Unset (the
    default): no export while running; `statuspage export --out DIR` still
    writes one on demand."""

    dir: str | None = None

    @field_validator("dir")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a folder path, or left out to turn the export off")
        return value

    def path(self, base_dir: Path) -> Path | None:
        """The export folder, absolute; None when the export is off."""
        if self.dir is None:
            return None
        folder = Path(self.dir).expanduser()
        return folder if folder.is_absolute() else base_dir / folder
