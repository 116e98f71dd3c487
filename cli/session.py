"""What every ``loanbridge`` command shares: the settings, the platform running in DATA_DIR, its
database and API, and the signed-in person's API client (sub-commands import this, never
``cli.main``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from cli.preflight import ConfigurationError, load_settings
from cli.refusals import fail
from client.api import LoanBridgeClient
from config.settings import Settings

SESSION_FILE = Path(
    os.environ.get("LOANBRIDGE_SESSION", Path.home() / ".config/loanbridge/session.json")
)
"""Where ``loanbridge login`` keeps the person's tokens (tests point it elsewhere)."""

transport: httpx.BaseTransport | None = None
"""HTTP transport of the API client; None is httpx's own (tests put a mock here)."""


def settings() -> Settings:
    """The settings, or one clear line and exit when they are wrong."""
    try:
        return load_settings()
    except ConfigurationError as exc:
        fail(str(exc))


def running_state(current: Settings) -> dict[str, object]:
    """What the ``loanbridge up`` running in DATA_DIR recorded (ports, URLs), or nothing."""
    from runtime.platform import RunState, state_path

    state = RunState.load(state_path(current))
    return state.__dict__ if state else {}


def database_url(current: Settings) -> str:
    """DATABASE_URL, else the database of the ``up`` running in DATA_DIR."""
    url = current.database_url or str(running_state(current).get("database_url") or "")
    if not url:
        fail("DATABASE_URL is not set and no `loanbridge up` is running in DATA_DIR")
    return url


def api_url(current: Settings) -> str:
    """LOANBRIDGE_API_URL, else the API of the `up` running in DATA_DIR, else the public URL."""
    urls = running_state(current).get("urls")
    running = urls.get("api") if isinstance(urls, dict) else None
    return os.environ.get("LOANBRIDGE_API_URL") or running or current.effective_public_url


def client(current: Settings) -> LoanBridgeClient:
    """The API client, signed in as the person of the session file (if any)."""
    tokens = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else {}
    return LoanBridgeClient(
        api_url(current),
        tokens.get("access_token"),
        tokens.get("refresh_token"),
        transport=transport,
    )
