"""Real `statuspage` processes for the role, lease and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import wait_for

STATUSPAGE = Path(sys.executable).parent / "statuspage"


@dataclass
class Process:
    """A `statuspage` command running in the background, its stderr in a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, timeout: float) -> bool:
        return wait_for(lambda: text in self.log() or self.popen.poll() is not None, timeout) and (
            text in self.log()
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.pid, signum)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait; SIGKILL if it does not stop in time."""
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
            raise AssertionError(f"{self.name} did not stop on SIGTERM:\n{self.log()}") from None


def spawn(args: list[str], log_dir: Path, name: str, env: dict[str, str] | None = None) -> Process:
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log_file:
        popen = subprocess.Popen(
            [str(STATUSPAGE), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=log_dir,
            env={**os.environ, **(env or {})},
        )
    return Process(name, popen, log_path)


@contextmanager
def running(
    args: list[str], log_dir: Path, name: str, env: dict[str, str] | None = None
) -> Iterator[Process]:
    """A process that is killed at the end of the block if still alive."""
    process = spawn(args, log_dir, name, env)
    try:
        yield process
    finally:
        if process.alive():
            process.popen.kill()
            process.popen.wait(10)
