"""The renderers: a low-priority process pool renders real PDFs and dies with its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from documents.pool import ProcessPoolRenderer, ThreadRenderer, renderer_for

ROOT = Path(__file__).resolve().parents[3]


def niceness_here() -> bytes:
    return str(os.nice(0)).encode()


def pid_here() -> bytes:
    return str(os.getpid()).encode()


def busy_for_a_minute() -> bytes:
    time.sleep(60)
    return b"late"


async def test_the_pool_renders_in_other_processes_at_lower_priority() -> None:
    renderer = ProcessPoolRenderer(1, niceness=7)
    try:
        assert int(await renderer.render(pid_here)) != os.getpid()
        assert int(await renderer.render(niceness_here)) == os.nice(0) + 7
    finally:
        renderer.close()


def scheduling_policy_here() -> bytes:
    return str(os.sched_getscheduler(0)).encode()


@pytest.mark.skipif(sys.platform != "linux", reason="SCHED_IDLE is Linux's")
async def test_idle_renderers_run_in_the_idle_scheduling_class() -> None:
    renderer = ProcessPoolRenderer(1, niceness=3, idle=True)
    try:
        assert int(await renderer.render(scheduling_policy_here)) == os.SCHED_IDLE
        assert int(await renderer.render(niceness_here)) == os.nice(0) + 3
    finally:
        renderer.close()
    normal = ProcessPoolRenderer(1, niceness=0)
    try:
        assert int(await normal.render(scheduling_policy_here)) == os.sched_getscheduler(0)
    finally:
        normal.close()


async def test_the_thread_renderer_stays_in_this_process() -> None:
    assert int(await ThreadRenderer().render(pid_here)) == os.getpid()
    assert isinstance(renderer_for(0, 10), ThreadRenderer)
    with pytest.raises(ValueError):
        ProcessPoolRenderer(0)


SCRIPT = """
import asyncio, os, sys
from documents.pool import ProcessPoolRenderer
from tests.unit.documents.test_pool import busy_for_a_minute, pid_here as pid
async def main():
    renderer = ProcessPoolRenderer(2, niceness=1)
    pids = {await renderer.render(pid) for _ in range(8)}
    asyncio.ensure_future(renderer.render(busy_for_a_minute))  # one renderer mid-document
    await asyncio.sleep(0.5)
    print(" ".join(p.decode() for p in pids), flush=True)
    await asyncio.sleep(120)
asyncio.run(main())
"""


def test_renderers_exit_when_their_worker_is_killed() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        children = [int(p) for p in worker.stdout.readline().split()]
        assert children and all(psutil.pid_exists(p) for p in children)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.2)
        assert not [p for p in children if _alive(p)], "renderers outlived their worker"
    finally:
        if worker.poll() is None:
            worker.kill()


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
