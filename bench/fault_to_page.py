"""Time from each injected fault to the public page showing it.

Runs `statuspage demo --scenario deploy-misconfig` in-process (simulated
services, a real Prometheus, the scheduler, the web server), polls `/` every
0.25 s as a browser would, and reports, per run, how long after the "deploy"
each component's fault was on the page, and how long after the rollback it
had recovered. Target (issue 3): every fault within interval x confirm_down
+ 5 s = 15 s with the demo's 5 s interval and confirm_down 2.

    .venv/bin/python -m bench.fault_to_page --runs 3
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from statuspage.demo.scenario import deploy_misconfig
from tests.pagewatch import PageWatcher, Snapshot, read_page, running_demo
from tests.support import wait_for

TARGET_S = 5 * 2 + 5

FAULTS = {
    "payments down (workflow)": lambda s: s.statuses.get("payments") == "major_outage",
    "api degraded or down": lambda s: (
        s.statuses.get("api") in ("degraded_performance", "major_outage")
    ),
    "banner: API p95 blind": lambda s: "API (p95 latency)" in s.blind,
    "banner: Payments p95 blind": lambda s: "Payments (p95 latency)" in s.blind,
}


def all_well(s: Snapshot) -> bool:
    return set(s.statuses.values()) == {"operational"} and not s.blind


def one_run(deploy_at_s: float, rollback_after_s: float) -> dict[str, float]:
    steps = deploy_misconfig(deploy_at_s=deploy_at_s, rollback_after_s=rollback_after_s)
    with tempfile.TemporaryDirectory() as tmp, running_demo(Path(tmp), scenario=steps) as demo:
        watcher = PageWatcher(demo.url, every_s=0.25).start()
        try:
            assert wait_for(lambda: any("scenario: 05:00" in line for line in demo.output), 60)
            deployed = time.monotonic()
            assert wait_for(lambda: any("scenario: 14:30" in line for line in demo.output), 120)
            rolled_back = time.monotonic()
            assert wait_for(lambda: all_well(read_page(demo.url)), 90), read_page(demo.url)
            time.sleep(1)
        finally:
            watcher.stop()
    timings: dict[str, float] = {}
    for name, seen in FAULTS.items():
        snap = watcher.first(seen, after=deployed)
        timings[name] = snap.at - deployed if snap else float("inf")
    healthy = [
        watcher.first(lambda s, c=c: s.statuses.get(c) != "operational", after=deployed)
        for c in ("projects", "providers", "notifications")
    ]
    timings["healthy components that left operational"] = float(sum(h is not None for h in healthy))
    recovered = watcher.first(all_well, after=rolled_back)
    timings["full recovery after rollback"] = (
        recovered.at - rolled_back if recovered else float("inf")
    )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deploy-at", type=float, default=10.0)
    parser.add_argument("--rollback-after", type=float, default=40.0)
    args = parser.parse_args()
    if shutil.which("prometheus") is None:
        raise SystemExit("needs the prometheus binary (apt-get install prometheus)")
    runs = [one_run(args.deploy_at, args.rollback_after) for _ in range(args.runs)]
    print(f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}")
    print(f"runs: {args.runs}, target for each fault: <= {TARGET_S} s\n")
    print("| measure | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | median |")
    print("|---|" + "---|" * (len(runs) + 1))
    for key in runs[0]:
        values = [r[key] for r in runs]
        cells = " | ".join(f"{v:.1f}" for v in values)
        print(f"| {key} | {cells} | {statistics.median(values):.1f} |")


if __name__ == "__main__":
    main()
