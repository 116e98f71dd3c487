"""Profile of the automatic-approval path: where the API and the worker spend their CPU.

Run ``python -m bench.profile`` (a few minutes). It brings the platform up the way
``bench.origination`` does (fresh database, dev server, sandbox, one worker, the API over
HTTP), submits ``--applications`` automatic-approval applications at ``--rate`` per second,
and samples the worker and the API with py-spy (``--format raw``: collapsed stacks, idle
threads left out) while they run. It prints, per process, the functions with the most CPU
samples — by *self* time and by *total* time (anywhere on the stack) — grouped to the
module and function. The summary goes to ``bench/results/profile-<label>.json``; the
collapsed stacks stay in the run's temporary directory (printed) for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.origination import (
    DEFAULT_SERVER,
    Shared,
    application_job,
    create_applicants,
    log_in_all,
    setup_lender,
    start_platform,
    start_temporal,
)
from bench.stack import Clock, fresh_database, open_loop, write_results
from config.logging import configure_logging


def py_spy() -> str:
    """The py-spy executable next to this interpreter (the dev group installs it)."""
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else "py-spy"


def start_sampling(
    pid: int, out: Path, seconds: int, rate: int, gil: bool = False
) -> subprocess.Popen[bytes]:
    """py-spy record of one process, collapsed stacks, subprocesses and idle left out;
    ``gil``: only the thread holding the GIL (Python's own CPU, waits left out)."""
    argv = [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    argv += ["--duration", str(seconds), "--rate", str(rate), "--nonblocking"]
    argv += ["--gil"] if gil else []
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame_key(frame: str) -> str:
    # A raw frame reads "function (path/to/module.py:123)"; group by module and function.
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{name}"


def summarise(collapsed: Path, top: int = 25) -> dict[str, Any]:
    """Self and total samples per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame_key(f) for f in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for key in set(frames):
            total[key] += count
    return {
        "samples": samples,
        "self": [(k, v, round(100 * v / samples, 1)) for k, v in own.most_common(top)],
        "total": [(k, v, round(100 * v / samples, 1)) for k, v in total.most_common(top)],
    }


def print_summary(label: str, summary: dict[str, Any]) -> None:
    print(f"\n== {label}: {summary['samples']} samples (100 per CPU-second) ==")
    for kind in ("self", "total"):
        print(f"-- by {kind} time")
        for key, count, share in summary[kind]:
            print(f"{share:6.1f} %  {count:7d}  {key}")


async def drive(api: str, url: str, opts: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    clock = Clock(3600)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=limits) as http:
        product_id = await setup_lender(http, url)
        applicants, _ = await create_applicants(url, product_id, opts.applicants, opts.seed)
        shared = Shared(http=http, applicants=applicants, product_id=product_id)
        await log_in_all(shared)
        job = application_job(shared)
        clock.say("warming up: 5 applications")
        for number in range(5):
            await job(number, asyncio.get_running_loop().time())
        seconds = int(opts.applications / opts.rate) + 5
        samplers = {
            name: start_sampling(
                pid, data_dir / f"{name}.collapsed", seconds, opts.sample_rate, opts.gil
            )
            for name, pid in opts.pids.items()
        }
        await asyncio.sleep(1)  # py-spy attaches
        clock.say(f"profiling {opts.applications} applications at {opts.rate}/s")
        step = await open_loop(opts.rate, opts.applications / opts.rate, job, p99_target_ms=1000)
        for sampler in samplers.values():
            sampler.wait(timeout=seconds + 60)
        return {"latency": step.latency}


def main() -> None:
    parser = argparse.ArgumentParser(description="profile the automatic-approval path")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--applications", type=int, default=60)
    parser.add_argument("--applicants", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--sample-rate", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--label", default="current")
    parser.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    opts = parser.parse_args()
    configure_logging("WARNING", json=False)
    data_dir = Path(tempfile.mkdtemp(prefix="lb-bench-profile-"))
    clock = Clock(3600)
    with fresh_database(opts.database_url, "lb_bench_prof") as url:
        temporal, address = start_temporal(data_dir, "memory")
        try:
            platform = start_platform(url, address, data_dir, clock.say)
            try:
                opts.pids = {
                    child.name: child.pid
                    for child in platform.children
                    if child.name in ("worker", "worker-1", "api") and child.pid
                }
                result = asyncio.run(drive(platform.state.urls["api"], url, opts, data_dir))
            finally:
                platform.stop()
        finally:
            temporal.signal_stop()
            temporal.wait_stopped(10)
    print(f"latency at {opts.rate}/s: {result['latency'].line()}")
    summaries = {}
    for name in opts.pids:
        collapsed = data_dir / f"{name}.collapsed"
        if not collapsed.exists():
            print(f"no samples for {name}")
            continue
        summaries[name] = summarise(collapsed)
        print_summary(name, summaries[name])
    results = {"rate_per_s": opts.rate, "applications": opts.applications, **summaries}
    path = write_results(f"profile-{opts.label}", {**results, "latency": result["latency"]})
    print(f"summary written to {path}; collapsed stacks (for a flame graph) in {data_dir}")


if __name__ == "__main__":
    main()
