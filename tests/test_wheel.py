"""An installed wheel carries its templates and static files.

Builds the wheel, installs it into a fresh virtual environment, starts
`statuspage run` from there and fetches the page and its stylesheet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from tests.loopback import closed_port_url
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_installed_wheel_serves_a_rendered_page(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("statuspage-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True
    )

    # The package must come from the wheel, not from this checkout.
    where = subprocess.run(
        [str(python), "-c", "import statuspage, json; print(json.dumps(statuspage.__file__))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert json.loads(where.stdout).startswith(str(env_dir))

    config = tmp_path / "statuspage.yaml"
    config.write_text(
        "site: {title: Wheel Test}\n"
        "components:\n  - id: api\n    name: API\n    checks:\n"
        f"      - {{name: h, type: http, url: '{closed_port_url()}', interval: 2s, timeout: 1s}}\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [str(env_dir / "bin" / "statuspage"), "run", "--config", str(config), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "DATABASE_URL": ""},
    )
    try:
        html = _get_when_up(f"http://127.0.0.1:{port}/", deadline=30)
        css = _get_when_up(f"http://127.0.0.1:{port}/static/style.css", deadline=5)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "<h1>" in html and "Wheel Test" in html and "API" in html
    assert "prefers-color-scheme: dark" in css
    assert process.returncode == 0, stderr.decode()


def _get_when_up(url: str, deadline: float) -> str:
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)
