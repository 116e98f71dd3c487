"""Helpers shared by the test suites: databases, the sandbox process, free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from cli.processes import free_port, wait_for_port
from db.session import libpq_url

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


@contextmanager
def sandbox_process(state_path: Path, smtp_port: int = 0) -> Iterator[str]:
    """The sandbox providers as a real uvicorn process on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_STATE_PATH": str(state_path),
        "SANDBOX_SMTP_PORT": str(smtp_port),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "sandbox.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for_port(port, 30):
            raise RuntimeError("sandbox did not start")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
