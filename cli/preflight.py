"""Checks run before a process starts: a wrong setting ends in one clear line, not a traceback."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import psycopg
from pydantic import ValidationError

from config.settings import Settings
from db.session import libpq_url


class ConfigurationError(Exception):
    """A setting is wrong; the message names it and says what to do."""


def load_settings() -> Settings:
    """Settings from the environment, or a ConfigurationError naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())).upper() or "settings"
        raise ConfigurationError(f"{name}: {first.get('msg')}") from exc


def _where(url: str) -> str:
    parts = urlsplit(libpq_url(url))
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def check_database(database_url: str, timeout_s: int = 5) -> None:
    """Connect once; raise ConfigurationError naming DATABASE_URL when that fails."""
    try:
        with psycopg.connect(libpq_url(database_url), connect_timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(
            f"DATABASE_URL: cannot connect to PostgreSQL at {_where(database_url)} ({reason})"
        ) from exc


def check_temporal(settings: Settings, timeout_s: float = 8.0) -> None:
    """Connect once; raise ConfigurationError naming TEMPORAL_ADDRESS when that fails."""
    from config.temporal import connect_temporal  # the SDK's client: not needed to start `up`

    async def probe() -> None:
        client = await connect_temporal(settings)
        await client.service_client.check_health()

    try:
        asyncio.run(asyncio.wait_for(probe(), timeout=timeout_s))
    except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "timed out"
        raise ConfigurationError(
            f"TEMPORAL_ADDRESS: cannot reach Temporal at {settings.effective_temporal_address} "
            f"namespace {settings.temporal_namespace} ({reason[:160]})"
        ) from exc
