"""Where PDFs are rendered: a thread (tests, tools) or a pool of low-priority processes (workers).

WeasyPrint needs about a sixth of a CPU-second for an offer letter. Rendered on a thread of
the worker process it holds the GIL against the workflow tasks and activities of every other
case, so one letter delays everybody's decision. ``ProcessPoolRenderer`` renders in separate
processes instead (spawned, not forked: the worker's event loop and connections stay out of
them) started with a higher nice value and, by default, in Linux's idle scheduling class, so
that on a busy machine the scheduler gives the decision path the CPU first and documents take
what is left: under a burst, letters queue and catch up afterwards instead of delaying
decisions. Each process loads the fonts
once, at start, by rendering a small document.

Both renderers take a module-level function and picklable arguments (the document views are
frozen dataclasses) and return the PDF bytes.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol


class DocumentRenderer(Protocol):
    """Runs a blocking render function away from the event loop."""

    async def render(self, function: Callable[..., bytes], *args: Any) -> bytes: ...

    def close(self) -> None: ...


class ThreadRenderer:
    """Renders on a thread of this process (``asyncio.to_thread``)."""

    async def render(self, function: Callable[..., bytes], *args: Any) -> bytes:
        return await asyncio.to_thread(function, *args)

    def close(self) -> None:
        return None


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _die_with_parent(parent: int) -> None:
    """A worker killed with SIGKILL cannot shut its pool down: its renderers go with it.

    On Linux the kernel sends them SIGKILL when the worker dies (``PR_SET_PDEATHSIG``) — even
    one blocked writing a result nobody reads any more; elsewhere a thread watches the parent.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before we could ask
        os._exit(0)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _lower_priority(niceness: int, idle: bool) -> None:
    """Nice the process; with ``idle`` on Linux, also move it to the SCHED_IDLE class: any
    normal process that wakes up (the worker's event loop, the API, Temporal) preempts it at
    once, and it runs on what CPU is left (with a small share, never starved outright)."""
    if niceness:
        os.nice(niceness)
    if idle and sys.platform == "linux":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _start_renderer_process(niceness: int, parent: int, idle: bool = False) -> None:
    _die_with_parent(parent)
    _lower_priority(niceness, idle)
    from documents.pdf import warm_up

    warm_up()


class ProcessPoolRenderer:
    """Renders in ``processes`` spawned processes running ``niceness`` steps below us (and in
    the idle scheduling class with ``idle``)."""

    def __init__(self, processes: int, niceness: int = 10, *, idle: bool = False) -> None:
        if processes < 1:
            raise ValueError("a process pool needs at least one process")
        self.processes = processes
        self._pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_renderer_process,
            initargs=(niceness, os.getpid(), idle),
        )

    async def render(self, function: Callable[..., bytes], *args: Any) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def renderer_for(processes: int, niceness: int, *, idle: bool = False) -> DocumentRenderer:
    """A process pool of ``processes`` renderers, or the thread renderer when it is 0."""
    if processes <= 0:
        return ThreadRenderer()
    return ProcessPoolRenderer(processes, niceness, idle=idle)
