"""The platform as `loanbridge up` runs it, with a hand that kills and restarts its processes."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from config.settings import Environment, Settings
from runtime import embedded_pg
from runtime.platform import Platform, RunState
from runtime.processes import Child, free_port, wait_for_port


@dataclass
class ChaosCounts:
    """What the chaos hand did, for the report."""

    worker_kills: int = 0
    temporal_restarts: int = 0
    temporal_kills: int = 0
    postgres_restarts: int = 0
    postgres_kills: int = 0
    unexpected_exits: list[str] = field(default_factory=list)
    orphans: int = 0  # processes a killed worker left behind (its document renderers)

    @property
    def kills(self) -> int:
        return self.worker_kills + self.temporal_kills + self.postgres_kills

    @property
    def restarts(self) -> int:
        return (
            self.worker_kills
            + self.temporal_restarts
            + self.postgres_restarts
            + len(self.unexpected_exits)
        )


class ChaosStack:
    """Embedded PostgreSQL, the Temporal dev server (SQLite file), the sandbox, workers and the
    API, started by the same supervisor code as `loanbridge up` on a data dir of its own."""

    def __init__(self, data_dir: Path, workers: int = 2) -> None:
        self.data_dir = data_dir
        self.settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            environment=Environment.LOCAL,
            data_dir=data_dir,
            database_url=None,
            temporal_address=None,
            sandbox_url=None,
            api_port=free_port(),
            temporal_port=free_port(),
            temporal_ui_port=free_port(),
            sandbox_port=free_port(),
            sandbox_smtp_port=free_port(),
        )
        self.messages: list[str] = []
        self.platform = Platform(self.settings, self.messages.append, workers=workers)
        self.state = RunState(supervisor_pid=os.getpid())
        self.counts = ChaosCounts()
        # One hand at a time: the watchdog must not "revive" a child a blow is restarting.
        self._hand = threading.Lock()
        self._killed_groups: list[int] = []

    # ---- up and down ---------------------------------------------------------------------
    def start(self) -> RunState:
        self.state = self.platform.start()
        return self.state

    def stop(self) -> None:
        self.platform.stop()
        self.reap_orphans()

    def reap_orphans(self) -> int:
        """Kill (and count) what killed workers left behind; the report shows the count."""
        found = reap_orphans(self._killed_groups)
        self._killed_groups.clear()
        self.counts.orphans += found
        return found

    @property
    def api_url(self) -> str:
        return self.state.urls["api"]

    @property
    def providers_url(self) -> str:
        return self.state.urls["providers"]

    @property
    def database_url(self) -> str:
        return self.state.database_url

    @property
    def temporal_address(self) -> str:
        return self.state.temporal_address

    def child(self, name: str) -> Child:
        return next(c for c in self.platform.children if c.name == name)

    def workers(self) -> list[Child]:
        return [c for c in self.platform.children if c.name.startswith("worker-")]

    # ---- the hand ------------------------------------------------------------------------
    def _restart(self, child: Child) -> None:
        child.start()
        self.platform.state.children[child.name] = child.pid or 0

    @staticmethod
    def _reap(child: Child, timeout_s: float = 30) -> None:
        if child.process is not None:
            child.process.wait(timeout=timeout_s)

    def kill_worker(self, rng: random.Random) -> str:
        """kill -9 one worker mid-flight, restart it a moment later."""
        with self._hand:
            return self._kill_worker(rng)

    def _kill_worker(self, rng: random.Random) -> str:
        child = rng.choice(self.workers())
        if child.process is not None and child.alive():
            os.kill(child.process.pid, signal.SIGKILL)  # the worker only, as the OOM killer would
            self._reap(child)
            self._killed_groups.append(child.process.pid)
        time.sleep(rng.uniform(0.2, 2.0))
        self._restart(child)
        self.counts.worker_kills += 1
        return f"kill -9 {child.name}"

    def restart_temporal(self, hard: bool) -> str:
        """Stop the dev server (SIGTERM, or kill -9) and start it again on the same SQLite file."""
        with self._hand:
            return self._restart_temporal(hard)

    def _restart_temporal(self, hard: bool) -> str:
        child = self.child("temporal")
        assert child.process is not None
        os.kill(child.process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        self._reap(child)
        self._restart(child)
        if not wait_for_port(self.platform.state.ports["temporal"], 60):
            raise RuntimeError(f"temporal did not come back; see {child.log_path}")
        if hard:
            self.counts.temporal_kills += 1
        self.counts.temporal_restarts += 1
        return f"{'kill -9' if hard else 'stop'} + start temporal"

    def restart_postgres(self, hard: bool) -> str:
        """Fast shutdown (SIGINT), or kill -9 of the postmaster and its backends (crash recovery
        at the next start), then start it again on the same data directory."""
        with self._hand:
            return self._restart_postgres(hard)

    def _restart_postgres(self, hard: bool) -> str:
        child = self.child("postgres")
        assert child.process is not None
        if hard:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
        else:
            os.kill(child.process.pid, signal.SIGINT)
        self._reap(child)
        embedded_pg.clear_stale_pidfile(self.data_dir.resolve() / "postgres")
        self._restart(child)
        port = self.platform.state.ports["postgres"]
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(embedded_pg.url(port), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or not child.alive():
                    raise RuntimeError(
                        f"postgres did not come back; see {child.log_path}"
                    ) from None
                time.sleep(0.2)
        if hard:
            self.counts.postgres_kills += 1
        self.counts.postgres_restarts += 1
        return f"{'kill -9' if hard else 'fast shutdown'} + start postgres"

    def revive(self) -> list[str]:
        """Restart any component that died by itself (counted: the report shows each)."""
        with self._hand:
            return self._revive()

    def _revive(self) -> list[str]:
        revived = []
        for child in self.platform.children:
            if not child.alive():
                code = child.process.returncode if child.process else None
                self.counts.unexpected_exits.append(f"{child.name} exited ({code})")
                self._restart(child)
                revived.append(child.name)
        return revived


def reap_orphans(groups: list[int]) -> int:
    """Kill what killed workers left in their process groups; how many processes that was."""
    import psutil

    left = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) in set(groups)]
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return len(left)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
