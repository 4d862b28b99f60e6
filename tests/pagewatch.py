"""Watch the public page as a person would: poll it and keep what it said.

Shared by the end-to-end tests and the fault-to-page benchmark.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from statuspage.demo.run import run_demo
from statuspage.demo.scenario import Step
from tests.support import free_port

_COMPONENT = re.compile(r'id="component-([a-z0-9_-]+)".*?class="status s-([a-z_]+)"', re.S)
_BLIND = re.compile(r"Monitoring data for (.+?) \((.+?)\) is delayed")


@dataclass(frozen=True)
class Snapshot:
    at: float  # time.monotonic()
    statuses: dict[str, str]
    blind: tuple[str, ...]  # "API (p95 latency)", ...


def read_page(url: str) -> Snapshot:
    html = httpx.get(url + "/", timeout=5).text
    blind = tuple(f"{c} ({k})" for c, k in _BLIND.findall(html))
    return Snapshot(time.monotonic(), dict(_COMPONENT.findall(html)), blind)


@dataclass
class PageWatcher:
    """Polls the page in a thread; `history` keeps every snapshot."""

    url: str
    every_s: float = 0.5
    history: list[Snapshot] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> PageWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.is_set():
            with suppress(httpx.HTTPError):
                self.history.append(read_page(self.url))
            self._stop.wait(self.every_s)

    def sequence(self, component: str, after: float = 0.0) -> list[str]:
        """The statuses the page showed for a component, repeats collapsed."""
        seen: list[str] = []
        for snap in self.history:
            if snap.at < after:
                continue
            status = snap.statuses.get(component)
            if status and (not seen or seen[-1] != status):
                seen.append(status)
        return seen

    def first(self, condition: Callable[[Snapshot], bool], after: float = 0.0) -> Snapshot | None:
        return next((s for s in self.history if s.at >= after and condition(s)), None)


@dataclass
class RunningDemo:
    url: str
    control: str
    output: list[str]


@contextmanager
def running_demo(directory: Path, scenario: list[Step] | None = None) -> Iterator[RunningDemo]:
    """`statuspage demo` in a thread, on a free port, until the block ends."""
    port = free_port()
    output: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=run_demo,
        args=("127.0.0.1", port, directory, output.append),
        kwargs={"stop_event": stop, "scenario": scenario},
        daemon=True,
    )
    thread.start()
    control = None
    deadline = time.monotonic() + 45
    while control is None and time.monotonic() < deadline:
        for text in list(output):
            if m := re.search(r"control: (http://127\.0\.0\.1:\d+)", text):
                control = m.group(1)
        time.sleep(0.1)
    if control is None:
        stop.set()
        raise RuntimeError(f"the demo did not start: {output}")
    try:
        yield RunningDemo(f"http://127.0.0.1:{port}", control, output)
    finally:
        stop.set()
        thread.join(timeout=20)
