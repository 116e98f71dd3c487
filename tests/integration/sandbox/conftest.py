"""A helper that runs the sandbox in a real uvicorn subprocess on free loopback ports."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _log_file(path: Path) -> IO[bytes]:
    return path.open("ab")


class SandboxProcess:
    """`uvicorn sandbox.app:create_app --factory` with a state file and an SMTP sink."""

    def __init__(self, workdir: Path) -> None:
        self.state_path = workdir / "sandbox-state.sqlite3"
        self.log_path = workdir / "sandbox.log"
        self.port = free_port()
        self.smtp_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Spawn the server and wait until /healthz answers (the SMTP sink is up by then)."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env = {
            **inherited,
            "SANDBOX_STATE_PATH": str(self.state_path),
            "SANDBOX_SMTP_PORT": str(self.smtp_port),
        }
        log = _log_file(self.log_path)
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "uvicorn",
                "sandbox.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient(timeout=0.5) as client:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    break
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        await self.kill()
        raise RuntimeError(f"sandbox did not start; see {self.log_path}")

    async def kill(self) -> None:
        """SIGKILL, like a crash: nothing gets a chance to flush or clean up."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxProcess]:
    """One sandbox process shared by a test module."""
    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    await process.start()
    try:
        yield process
    finally:
        await process.kill()


@pytest.fixture
async def control(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client of the running sandbox; clears armed faults after each test."""
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as client:
        yield client
        await client.delete("/sandbox/v1/faults")
