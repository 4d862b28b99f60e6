"""How many checks a minute one scheduler process sustains (issue 8).

HTTP checks against local endpoints, a tenth of which never answer until
the check's timeout. For each rate, a fresh scheduler process (the
`Monitor` and `CheckScheduler` of `statuspage scheduler`, results written
to a fresh database) runs for a warm-up interval and then a measured
stretch; it reports:

- the start delay of every run: when it started minus when it was due
  (APScheduler's due time, jitter included), p50/p99/max;
- runs that were missed or late (recorded by the scheduler itself);
- the process's peak resident memory and its CPU use.

A rate is sustained when the p99 start delay is under 1 s and nothing was
missed. The endpoints are served by another process (asyncio), so that
they take nothing from the scheduler's interpreter; on a 2-core machine
they and the database still share the cores with it.

    .venv/bin/python -m bench.scheduler_capacity                  # 2,500..10,000/min
    .venv/bin/python -m bench.scheduler_capacity --rates 5000 --workers 16
    .venv/bin/python -m bench.scheduler_capacity --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INTERVAL_S = 30
TIMEOUT_S = 5
HANGING_SHARE = 10  # one check in ten never answers

TARGET_SERVER = r"""
import asyncio, sys

async def handle(reader, writer):
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        if request.split(b" ", 2)[1].startswith(b"/hang"):
            await asyncio.sleep(3600)  # until the client gives up
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def write_config(path: Path, checks: int, port: int, workers: int) -> None:
    lines = [
        "site: {title: Capacity}",
        f"scheduler: {{workers: {workers}}}",
        f"defaults: {{interval: {INTERVAL_S}s, timeout: {TIMEOUT_S}s}}",
        "components:",
    ]
    for n in range(checks):
        kind = "hang" if n % HANGING_SHARE == HANGING_SHARE - 1 else "ok"
        lines.append(
            f"  - {{id: c{n:05d}, name: C{n}, checks: [{{name: h, type: http,"
            f" url: 'http://127.0.0.1:{port}/{kind}/{n}'}}]}}"
        )
    path.write_text("\n".join(lines) + "\n")


def child(config_path: str, database_url: str, warmup_s: float, measure_s: float) -> None:
    """One scheduler, instrumented: runs, then prints its figures as JSON."""
    import apscheduler.executors.pool as pool_module

    from statuspage.clock import utc_now
    from statuspage.config import load_config
    from statuspage.monitor import Monitor
    from statuspage.scheduler import CheckScheduler
    from statuspage.store import Store

    config = load_config(config_path)
    store = Store(database_url)
    store.upgrade()
    monitor = Monitor(config, store, utc_now)
    monitor.start()
    scheduler = CheckScheduler(config, monitor, utc_now)
    delays: list[float] = []
    measuring = threading.Event()
    original_run_job = pool_module.run_job

    def timed_run_job(job: Any, jobstore: str, run_times: list[datetime], logger: str) -> Any:
        # In the pool thread, as the run starts: how late is it?
        if measuring.is_set() and job.id in monitor.checks:
            delays.append((datetime.now(UTC) - run_times[-1]).total_seconds())
        return original_run_job(job, jobstore, run_times, logger)

    pool_module.run_job = timed_run_job
    scheduler.start()
    time.sleep(warmup_s)
    missed_before = store.missed_runs()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    measuring.set()
    began = time.monotonic()
    time.sleep(measure_s)
    measuring.clear()
    elapsed = time.monotonic() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    missed = store.missed_runs() - missed_before
    status = Path("/proc/self/status").read_text()
    memory = {
        line.split(":")[0]: int(line.split()[1]) // 1024
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    scheduler.shutdown(wait=False)
    ordered = sorted(delays)
    print(
        json.dumps(
            {
                "runs": len(delays),
                "runs_per_min": len(delays) * 60 / elapsed,
                "p50_s": statistics.median(ordered) if ordered else None,
                "p99_s": ordered[int(len(ordered) * 0.99) - 1] if ordered else None,
                "max_s": ordered[-1] if ordered else None,
                "missed": missed,
                "rss_mb": memory.get("VmRSS"),
                "peak_rss_mb": memory.get("VmHWM"),
                "cpu_share": cpu_s / elapsed,
                "threads": threading.active_count(),
            }
        ),
        flush=True,
    )
    os._exit(0)  # the hanging checks' threads need not be waited for


def measure(
    rate: int,
    port: int,
    workers: int,
    database_url: str | None,
    warmup_s: float,
    measure_s: float,
) -> dict[str, Any]:
    checks = rate * INTERVAL_S // 60
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "statuspage.yaml"
        write_config(config, checks, port, workers)
        url = database_url or f"sqlite:///{Path(tmp) / 'capacity.db'}"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.scheduler_capacity",
                "--child",
                str(config),
                url,
                str(warmup_s),
                str(measure_s),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": ""},
            timeout=warmup_s + measure_s + 300,
        )
        if done.returncode != 0:
            raise SystemExit(f"the scheduler failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["rate"] = rate
    figures["checks"] = checks
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(
            sys.argv[2],
            sys.argv[3],
            float(sys.argv[4]),
            float(sys.argv[5]),
        )
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="2500,5000,7500,10000", help="checks per minute")
    parser.add_argument("--workers", type=int, default=128, help="scheduler.workers")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--warmup", type=float, default=INTERVAL_S, help="seconds, not measured")
    parser.add_argument("--seconds", type=float, default=2 * INTERVAL_S, help="measured seconds")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", TARGET_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        print(
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} cores; interval {INTERVAL_S}s, timeout {TIMEOUT_S}s, "
            f"1 in {HANGING_SHARE} never answers; scheduler.workers {args.workers}; "
            f"database {'SQLite' if not args.database_url else args.database_url.split(':')[0]}"
        )
        print(
            f"{'rate/min':>9} {'checks':>6} {'ran/min':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>7} {'missed':>6} {'RSS MB':>7} {'peak MB':>7} {'CPU':>5}  sustained"
        )
        for rate in (int(r) for r in args.rates.split(",")):
            f = measure(
                rate,
                port,
                args.workers,
                args.database_url,
                args.warmup,
                args.seconds,
            )
            ok = f["p99_s"] is not None and f["p99_s"] < 1.0 and f["missed"] == 0
            print(
                f"{f['rate']:>9,} {f['checks']:>6,} {f['runs_per_min']:>8,.0f} "
                f"{f['p50_s'] * 1000:>7.0f} {f['p99_s'] * 1000:>7.0f} {f['max_s'] * 1000:>7.0f} "
                f"{f['missed']:>6} {f['rss_mb']:>7} {f['peak_rss_mb']:>7} "
                f"{f['cpu_share']:>5.0%}  {'yes' if ok else 'no'}",
                flush=True,
            )
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
