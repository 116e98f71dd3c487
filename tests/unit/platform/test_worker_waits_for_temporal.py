"""A worker started while Temporal restarts waits for it instead of exiting (and being given up
on by `loanbridge up` after five quick crashes)."""

from __future__ import annotations

import asyncio

import pytest

import worker
from config.settings import Settings


async def test_the_worker_retries_until_temporal_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []
    connected = object()

    async def connect(_: Settings) -> object:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Failed client connect: tcp connect error")
        return connected

    real_sleep = asyncio.sleep

    async def no_wait(_: float) -> None:
        # Still yield: other tasks of the session's loop (a served workbench) sleep too.
        await real_sleep(0)

    monkeypatch.setattr(worker, "connect_temporal", connect)
    monkeypatch.setattr(asyncio, "sleep", no_wait)
    client = await worker._connect_when_reachable(Settings(_env_file=None))  # type: ignore[call-arg]
    assert client is connected and len(attempts) == 3


async def test_the_worker_gives_up_after_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    async def connect(_: Settings) -> object:
        raise RuntimeError("Failed client connect: tcp connect error")

    monkeypatch.setattr(worker, "connect_temporal", connect)
    with pytest.raises(RuntimeError, match="Failed client connect"):
        await worker._connect_when_reachable(Settings(_env_file=None), wait_s=0.0)  # type: ignore[call-arg]
