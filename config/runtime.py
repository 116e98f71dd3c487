"""Process-level tuning shared by the long-running processes (API, worker)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Python's default collects its youngest generation every 700 allocations; a worker or API
# allocates far more per request (protobuf, pydantic, SQLAlchemy), so the collector runs
# hundreds of times a second. Fewer, larger young collections cost less CPU in all.
YOUNG_GENERATION_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Call once start-up is done: what is alive then (modules, the app, workers) lives as
    long as the process, so move it out of the collector's way (``gc.freeze``), and make the
    youngest generation collect less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop where it is installed, as the API runs under uvicorn: a worker's
    loop (polls, activities, the payload codec) costs less CPU there than on asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(main)
    result: T = uvloop.run(main)
    return result
