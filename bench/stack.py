"""Shared helpers of the system benchmarks (``bench.origination``, ``bench.servicing``).

- latency statistics (nearest-rank percentiles);
- an open-loop load generator: arrivals at a fixed rate whatever the response times, each
  latency measured from its *scheduled* arrival (no coordinated omission);
- a fresh PostgreSQL database per run, and process memory (RSS, peak RSS);
- the results block printed at the end of a run and its JSON copy in ``bench/results/``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ---- statistics ---------------------------------------------------------------------------
def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in (0, 1]); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


@dataclass
class LatencySummary:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencySummary:
        return cls(
            count=len(seconds),
            p50_ms=percentile(seconds, 0.50) * 1000,
            p90_ms=percentile(seconds, 0.90) * 1000,
            p99_ms=percentile(seconds, 0.99) * 1000,
            max_ms=max(seconds) * 1000 if seconds else math.nan,
        )

    def line(self) -> str:
        return (
            f"p50 {fmt_ms(self.p50_ms)}  p90 {fmt_ms(self.p90_ms)}  "
            f"p99 {fmt_ms(self.p99_ms)}  max {fmt_ms(self.max_ms)}  (n={self.count})"
        )


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.2f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# ---- open-loop load -----------------------------------------------------------------------
@dataclass
class Outcome:
    """One request of a load phase: the end-to-end latency, or why it failed."""

    ok: bool
    latency_s: float | None = None
    submit_s: float | None = None  # the first call alone (for the API: the POST)
    error: str = ""


Job = Callable[[int, float], Coroutine[Any, Any, Outcome]]
"""``job(sequence_number, scheduled_at)``: ``scheduled_at`` is the event loop's clock."""


@dataclass
class StepResult:
    """One rate held for a while: what came back, and whether it meets the target."""

    rate_per_s: float
    duration_s: float
    requests: int
    succeeded: int
    errors: dict[str, int]
    latency: LatencySummary
    submit: LatencySummary
    max_generator_lag_ms: float
    completed_per_s: float
    wall_s: float
    p99_target_ms: float
    passed: bool = field(init=False, default=False)
    cpu: CpuUsage | None = None  # who used the CPU meanwhile
    remark: str = ""

    def __post_init__(self) -> None:
        self.passed = (
            self.succeeded == self.requests
            and not math.isnan(self.latency.p99_ms)
            and self.latency.p99_ms <= self.p99_target_ms
        )

    def line(self) -> str:
        errors = sum(self.errors.values())
        other = "" if self.cpu is None else f"  [others' CPU {self.cpu.others_pct_of_machine:.0f}%]"
        remark = f"  ({self.remark})" if self.remark else ""
        return (
            f"{self.rate_per_s:>6g}/s x {self.duration_s:g} s: {self.latency.line()}  "
            f"errors {errors}  -> {verdict(self.passed)}{other}{remark}"
        )

    def cpu_ms_per_request(self) -> dict[str, float]:
        """CPU time each component spent per successful request over the step (drain
        included): % of a core x wall time / requests."""
        if self.cpu is None or not self.succeeded:
            return {}
        return {
            name: pct / 100 * self.wall_s / self.succeeded * 1000
            for name, pct in self.cpu.components_pct_of_core.items()
        }


async def open_loop(
    rate_per_s: float, duration_s: float, job: Job, *, p99_target_ms: float
) -> StepResult:
    """``rate_per_s`` arrivals a second for ``duration_s``, each started on schedule whether or
    not earlier ones have answered; waits for every job, then summarises."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate_per_s * duration_s))
    began = loop.time() + 0.05
    tasks: list[asyncio.Task[Outcome]] = []
    lag = 0.0
    for number in range(count):
        at = began + number / rate_per_s
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, loop.time() - at)
        tasks.append(asyncio.create_task(job(number, at)))
    outcomes = await asyncio.gather(*tasks)
    wall = loop.time() - began
    good = [o for o in outcomes if o.ok and o.latency_s is not None]
    errors = Counter(o.error or "unknown" for o in outcomes if not o.ok)
    return StepResult(
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        requests=count,
        succeeded=len(good),
        errors=dict(errors),
        latency=LatencySummary.of([o.latency_s for o in good if o.latency_s is not None]),
        submit=LatencySummary.of([o.submit_s for o in outcomes if o.submit_s is not None]),
        max_generator_lag_ms=lag * 1000,
        completed_per_s=len(good) / wall if wall > 0 else 0.0,
        wall_s=wall,
        p99_target_ms=p99_target_ms,
    )


def poll_interval(elapsed_s: float, floor_s: float = 0.1, ceiling_s: float = 2.0) -> float:
    """How long to wait before the next progress poll: 100 ms while young, then 10 % of the
    time already waited (so a backlog of slow requests does not become a query storm)."""
    return min(ceiling_s, max(floor_s, 0.1 * elapsed_s))


NOISE_PCT = 15.0
"""A failing step during which other processes used more than this much of the machine
is run once more: a concurrent test run is not a verdict on the system measured."""


def noisy(step: StepResult) -> bool:
    return step.cpu is not None and step.cpu.others_pct_of_machine > NOISE_PCT


async def find_max_rate(
    start: StepResult,
    run_step: Callable[[float], Awaitable[StepResult]],
    ladder: Sequence[float],
    *,
    out_of_time: Callable[[], bool],
) -> tuple[float | None, float | None, list[StepResult], str]:
    """Step the rate from the rung after ``start`` upwards until a step fails (or, when
    ``start`` failed, downwards until one passes). A failed step that other processes
    disturbed (``NOISE_PCT``) is repeated once and the repeat decides. Returns (highest
    passing rate, lowest failing rate, the steps run, a note)."""
    steps: list[StepResult] = []

    async def step_at(rate: float) -> StepResult:
        step = await run_step(rate)
        steps.append(step)
        if not step.passed and noisy(step) and not out_of_time():
            step.remark = "disturbed by other processes: repeated"
            step = await run_step(rate)
            step.remark = "repeat"
            steps.append(step)
        return step

    note = ""
    if start.passed:
        best, worst = start.rate_per_s, None
        for rate in (r for r in ladder if r > start.rate_per_s):
            if out_of_time():
                note = f"stopped before {rate:g}/s: time budget used up"
                break
            if not (await step_at(rate)).passed:
                worst = rate
                break
            best = rate
        return best, worst, steps, note
    # Downwards, rungs above what the last failed step got through per second (answered or
    # failed, drain included) are skipped: a rate above that cannot be sustained.
    worst_rate: float = start.rate_per_s
    ceiling = start.requests / start.wall_s if start.wall_s > 0 else start.rate_per_s
    skipped: list[float] = []
    step: StepResult | None = None
    for rate in sorted((r for r in ladder if r < start.rate_per_s), reverse=True):
        if rate > ceiling:
            skipped.append(rate)
            continue
        if out_of_time():
            note = f"stopped before {rate:g}/s: time budget used up"
            break
        step = await step_at(rate)
        if step.passed:
            break
        worst_rate = rate
        if step.wall_s > 0:
            ceiling = min(ceiling, step.requests / step.wall_s)
    if skipped:
        listed = ", ".join(f"{r:g}" for r in skipped)
        note = (note + "; " if note else "") + (
            f"not tried (above the throughput a failed step achieved): {listed}/s"
        )
    if step is not None and step.passed:
        return step.rate_per_s, worst_rate, steps, note
    return None, worst_rate, steps, note or "no rate tried met the target"


# ---- PostgreSQL ---------------------------------------------------------------------------
def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def fresh_database(server_url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """An empty database on ``server_url`` (any database of the server), dropped afterwards
    unless ``keep``."""
    import psycopg

    from db.session import libpq_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = with_database(libpq_url(server_url), "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- memory -------------------------------------------------------------------------------
def rss_mib(pid: int | None = None) -> float:
    return float(psutil.Process(pid or os.getpid()).memory_info().rss) / 2**20


def peak_rss_mib() -> float:
    """VmHWM of this process (the peak resident set), from /proc/self/status."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


@dataclass
class CpuUsage:
    """CPU over an interval: per component in % of one core (100 = one core saturated), and
    what other processes on the machine used, in % of the whole machine."""

    components_pct_of_core: dict[str, float]
    others_pct_of_machine: float


class CpuMeter:
    """How busy the machine was, and who was busy: named processes of ours (each with its
    descendants), this process alone (the load generator, in-process workers), and the
    PostgreSQL backends serving our database (matched by its name in their process title).
    Whatever else the machine did is "others" (e.g. another test run sharing the machine)."""

    def __init__(self, database: str = "", self_label: str = "this process") -> None:
        self.me = psutil.Process()
        self.database = database
        self.self_label = self_label
        self.named: dict[str, int] = {}
        self._start: tuple[float, float, float, dict[str, float]] | None = None

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return 0.0
        return float(times.user + times.system)

    def _tree(self, pid: int) -> float:
        own, descendants = self._split(pid)
        return own + descendants

    def _split(self, pid: int) -> tuple[float, float]:
        """(the process's own CPU, its descendants' CPU), e.g. a worker and its renderers."""
        try:
            root = psutil.Process(pid)
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0.0, 0.0
        return self._cpu(root), sum(self._cpu(p) for p in children)

    def _backends(self) -> float:
        total = 0.0
        if not self.database:
            return total
        for proc in psutil.process_iter(["cmdline"]):
            title = " ".join(proc.info["cmdline"] or [])
            if title.startswith("postgres:") and f" {self.database} " in f"{title} ":
                total += self._cpu(proc)
        return total

    def _sample(self) -> tuple[float, float, float, dict[str, float]]:
        cpu = psutil.cpu_times()
        busy = sum(cpu) - cpu.idle - getattr(cpu, "iowait", 0.0)
        parts: dict[str, float] = {}
        for name, pid in self.named.items():
            own, descendants = self._split(pid)
            parts[name] = own
            if descendants:  # a worker's document renderers are reported on their own
                parts[f"{name} (child processes)"] = descendants
        parts[self.self_label] = self._cpu(self.me)
        parts["postgres (our database)"] = self._backends()
        ours = self._tree(self.me.pid) + parts["postgres (our database)"]
        return time.monotonic(), busy, ours, parts

    def start(self) -> None:
        self._start = self._sample()

    def read(self) -> CpuUsage | None:
        if self._start is None:
            return None
        wall0, busy0, ours0, parts0 = self._start
        wall1, busy1, ours1, parts1 = self._sample()
        wall = wall1 - wall0
        if wall <= 0:
            return None
        others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (wall * (os.cpu_count() or 1))
        return CpuUsage(
            components_pct_of_core={
                name: round(max(0.0, parts1[name] - parts0.get(name, 0.0)) / wall * 100, 1)
                for name in parts1
            },
            others_pct_of_machine=round(others * 100, 1),
        )


# ---- output -------------------------------------------------------------------------------
class Clock:
    """Elapsed time since the run began, and a budget to stay within."""

    def __init__(self, budget_s: float) -> None:
        self.started = time.monotonic()
        self.budget_s = budget_s

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.budget_s - self.elapsed()

    def say(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f} s] {message}", flush=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths and NaN (→ null) into plain JSON values."""
    if hasattr(value, "__dataclass_fields__"):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def results_dir() -> Path:
    """``bench/results``, or the directory the suite runner names in ``BENCH_RESULTS_DIR``."""
    return Path(os.environ.get("BENCH_RESULTS_DIR") or RESULTS_DIR)


def write_results(name: str, results: dict[str, Any], report: str = "") -> Path:
    """``<results>/<name>.json`` (and the printed block as ``<name>.txt``)."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(to_jsonable(results), indent=2, ensure_ascii=False) + "\n")
    if report:
        (folder / f"{name}.txt").write_text(report.strip("\n") + "\n")
    return path


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }
