"""Chaos run: whole lifecycles through the API while workers are killed (-9), the Temporal dev
server and PostgreSQL are restarted; afterwards nothing is lost, paid twice or unbalanced."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from config.codec import data_converter_from_settings
from services.accounts import create_platform_admin
from tests.chaos.harness import ChaosStack
from tests.chaos.invariants import check_invariants
from tests.chaos.lifecycles import Api, Lifecycle, run_lifecycle, setup_lender

pytestmark = pytest.mark.integration

ADMIN = ("chaos-admin", "Chaos#Admin2026")


@dataclass(frozen=True)
class ChaosPlan:
    """How hard to shake: lifecycles, how many at once, how often something is killed."""

    name: str
    lifecycles: int
    concurrency: int
    payments: int
    officer_every: int  # every n-th lifecycle is approved by an officer, the rest automatically
    pause_s: tuple[float, float]  # between two blows: time to recover (activity timeouts)
    max_blows: int  # 0 = until every lifecycle is done
    seed: int


QUICK = ChaosPlan(
    "quick",
    lifecycles=6,
    concurrency=6,
    payments=3,
    officer_every=3,
    pause_s=(6.0, 10.0),
    max_blows=6,
    seed=11,
)
SLOW = ChaosPlan(
    "slow",
    lifecycles=24,
    concurrency=12,
    payments=4,
    officer_every=4,
    pause_s=(20.0, 30.0),  # time to recover: a dead worker's renderer pool warms up again
    max_blows=0,
    seed=1111,
)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChaosStack]:
    """The stack on a data dir outside pytest's temp root: every pytest session tightens that
    root to 0700, which would lock out the unprivileged user the embedded PostgreSQL runs as."""
    monkeypatch.setenv("LOG_JSON", "true")
    data_dir = Path(tempfile.mkdtemp(prefix="lb-chaos-"))
    chaos = ChaosStack(data_dir / "data", workers=2)
    try:
        chaos.start()
        yield chaos
    finally:
        chaos.stop()
        if os.environ.get("CHAOS_KEEP_DATA") is None:
            shutil.rmtree(data_dir, ignore_errors=True)


async def _blows(
    stack: ChaosStack, plan: ChaosPlan, running: asyncio.Event, log: list[str]
) -> None:
    """A pause, then a kill or a restart, while lifecycles run. The first four blows cover
    every kind; the rest are drawn at random."""
    rng = random.Random(plan.seed)
    first = ["worker", "temporal", "postgres", "worker"]
    rng.shuffle(first)
    n = 0
    # Every kind of blow lands at least once, even when the lifecycles finish early (the
    # invariants are checked after the last blow, so they must survive it too).
    while n < len(first) or (running.is_set() and (plan.max_blows == 0 or n < plan.max_blows)):
        await asyncio.sleep(rng.uniform(*plan.pause_s))
        kind = (
            first[n]
            if n < len(first)
            else rng.choices(["worker", "temporal", "postgres"], weights=[6, 2, 2])[0]
        )
        hard = rng.random() < 0.5
        started = time.monotonic()
        if kind == "worker":
            what = await asyncio.to_thread(stack.kill_worker, rng)
        elif kind == "temporal":
            what = await asyncio.to_thread(stack.restart_temporal, hard)
        else:
            what = await asyncio.to_thread(stack.restart_postgres, hard)
        log.append(f"{time.strftime('%H:%M:%S')} {what} ({time.monotonic() - started:.1f}s)")
        n += 1


async def _watchdog(stack: ChaosStack, running: asyncio.Event, log: list[str]) -> None:
    """What `loanbridge up` does: restart a component that exited by itself (each is counted
    and reported — a worker that cannot survive an outage shows up here)."""
    while running.is_set():
        revived = await asyncio.to_thread(stack.revive)
        if revived:
            log.append(f"{time.strftime('%H:%M:%S')} revived {revived}")
        await asyncio.sleep(1.0)


def _progress(lives: list[Lifecycle]) -> str:
    stages: dict[str, int] = {}
    for life in lives:
        stages[life.stage] = stages.get(life.stage, 0) + 1
    return " ".join(f"{k}={v}" for k, v in sorted(stages.items()))


async def run_chaos(stack: ChaosStack, plan: ChaosPlan, report_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    await create_platform_admin(stack.database_url, *ADMIN, "Chaos admin", exist_ok=True)
    api = Api(stack.api_url, stack.providers_url, deadline_s=240)
    lender = await setup_lender(api, ADMIN, plan.name.upper())
    lives = [
        Lifecycle(i, officer_path=(i % plan.officer_every == 0)) for i in range(plan.lifecycles)
    ]
    gate = asyncio.Semaphore(plan.concurrency)

    async def one(life: Lifecycle) -> Lifecycle:
        async with gate:
            return await run_lifecycle(api, lender, life, plan.payments)

    running = asyncio.Event()
    running.set()
    log: list[str] = []
    watching = asyncio.Event()
    watching.set()
    hand = asyncio.create_task(_blows(stack, plan, running, log))
    dog = asyncio.create_task(_watchdog(stack, watching, log))
    driving = asyncio.gather(*(one(life) for life in lives))
    try:
        while not driving.done():
            await asyncio.wait([driving], timeout=10)
            print(f"chaos {plan.name} {time.monotonic() - started:.0f}s: {_progress(lives)}")
        await driving
    finally:
        running.clear()
        await hand
        watching.clear()
        await dog
    driving_s = time.monotonic() - started

    temporal = await Client.connect(
        stack.temporal_address, data_converter=data_converter_from_settings(stack.settings)
    )
    violations = await check_invariants(
        lives, stack.settings, stack.database_url, stack.providers_url, temporal
    )
    await api.aclose()
    await asyncio.to_thread(stack.reap_orphans)
    counts = stack.counts
    durations = [life.seconds for life in lives if not life.error]
    report: dict[str, Any] = {
        "plan": asdict(plan),
        "lifecycles": len(lives),
        "completed": sum(1 for life in lives if life.stage == "done"),
        "officer_approved": sum(1 for life in lives if life.officer_path and life.loan_id),
        "auto_approved": sum(1 for life in lives if not life.officer_path and life.loan_id),
        "repayments": sum(len(life.payment_keys) for life in lives),
        "kills": counts.kills,
        "worker_kills": counts.worker_kills,
        "temporal_restarts": counts.temporal_restarts,
        "temporal_kills": counts.temporal_kills,
        "postgres_restarts": counts.postgres_restarts,
        "postgres_kills": counts.postgres_kills,
        "restarts": counts.restarts,
        "unexpected_exits": counts.unexpected_exits,
        "orphans_left_by_killed_workers": counts.orphans,
        "client_retries": api.retries,
        "lifecycle_seconds_p50": statistics.median(durations) if durations else None,
        "lifecycle_seconds_max": max(durations) if durations else None,
        "driving_seconds": round(driving_s, 1),
        "invariant_violations": sum(len(v) for v in violations.values()),
        "violations": violations,
        "blows": log,
        "errors": [f"#{life.index}: {life.error}" for life in lives if life.error],
    }
    _write_report(report_dir / f"chaos-{plan.name}.json", report)
    print(json.dumps({k: v for k, v in report.items() if k != "blows"}, ensure_ascii=False))
    return report


def _write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def _report_dir(tmp_path: Path) -> Path:
    """CHAOS_RESULTS_DIR (e.g. bench/results) when set, else the test's own directory."""
    return Path(os.environ.get("CHAOS_RESULTS_DIR", str(tmp_path / "results")))


def _assert_survived(report: dict[str, Any], plan: ChaosPlan) -> None:
    assert report["invariant_violations"] == 0, report["violations"]
    assert report["completed"] == plan.lifecycles, report["errors"]
    assert report["worker_kills"] >= 2 and report["temporal_restarts"] >= 1
    assert report["postgres_restarts"] >= 1
    assert report["repayments"] == plan.lifecycles * plan.payments
    assert report["officer_approved"] >= 1 and report["auto_approved"] >= 1


@pytest.mark.timeout(600)  # about 3 minutes alone on 2 cores; room for a busy CI machine
async def test_quick_chaos_run_keeps_every_invariant(stack: ChaosStack, tmp_path: Path) -> None:
    report = await run_chaos(stack, QUICK, _report_dir(tmp_path))
    _assert_survived(report, QUICK)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("RUN_SLOW"), reason="slow: set RUN_SLOW=1 to run it")
@pytest.mark.timeout(900)
async def test_slow_chaos_run_keeps_every_invariant(stack: ChaosStack, tmp_path: Path) -> None:
    report = await run_chaos(stack, SLOW, _report_dir(tmp_path))
    _assert_survived(report, SLOW)
