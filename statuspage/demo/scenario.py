"""Replays of real outages on the simulated services, compressed in time.

`deploy-misconfig` is the outage of DESIGN.md: a payments deploy with a
wrong production config marks subscriptions expired while every health
endpoint still answers 200, slows the API past its check timeout, and takes
the metrics exporters down with it; later a rollback mends everything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from statuspage.demo.service import Mode
from statuspage.demo.services import SimulatedServices

# The API's answers take this long during the outage: past the demo's 2 s
# check timeout, as the real 1-2 minutes were past any sensible one.
OUTAGE_API_SECONDS = 3.0


@dataclass(frozen=True)
class Step:
    at_s: float
    description: str
    apply: Callable[[SimulatedServices], None]


def _deploy_bad_config(services: SimulatedServices) -> None:
    services.set_subscriptions_expired(True)
    services.set_mode("api", Mode.SLOW, slow_seconds=OUTAGE_API_SECONDS)
    services.set_metrics_dead(True)


def _roll_back(services: SimulatedServices) -> None:
    services.reset()


def deploy_misconfig(deploy_at_s: float = 20.0, rollback_after_s: float = 60.0) -> list[Step]:
    return [
        Step(
            deploy_at_s,
            "05:00 payments v2.14 deployed with a wrong production config: subscriptions read "
            "'expired' (health still 200), API answers take 3s, metrics exporters stop answering",
            _deploy_bad_config,
        ),
        Step(
            deploy_at_s + rollback_after_s,
            "14:30 rolled back: subscriptions active, API fast, metrics back",
            _roll_back,
        ),
    ]


SCENARIOS: dict[str, Callable[..., list[Step]]] = {"deploy-misconfig": deploy_misconfig}


class ScenarioPlayer:
    """Applies a scenario's steps at their times, in a thread of its own."""

    def __init__(
        self, steps: list[Step], services: SimulatedServices, say: Callable[[str], None]
    ) -> None:
        self.steps = sorted(steps, key=lambda s: s.at_s)
        self.services = services
        self.say = say
        self.applied: list[tuple[float, Step]] = []  # (monotonic time, step)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="demo-scenario", daemon=True)

    def start(self) -> ScenarioPlayer:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _play(self) -> None:
        for step in self.steps:
            wait = self._started + step.at_s - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            step.apply(self.services)
            self.applied.append((time.monotonic(), step))
            self.say(f"scenario: {step.description}")
        self.say("scenario: finished")
