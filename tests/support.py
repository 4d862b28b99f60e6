"""Small helpers for integration tests that run on real time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass: for real
    servers and processes, where no injected clock can serve."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
