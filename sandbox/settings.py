"""Settings of the sandbox service, read from `SANDBOX_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    """How the simulated providers store state, how slow they are and where mail arrives."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    state_path: str = Field(
        default=":memory:",
        description="SQLite file holding payments and outboxes; ':memory:' forgets on restart.",
    )
    latency_ms: int = Field(default=0, ge=0, description="Added to every provider answer.")
    smtp_port: int = Field(
        default=0, ge=0, le=65535, description="SMTP sink port on 127.0.0.1; 0 = no sink."
    )
    timeout_fault_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a `timeout` fault holds a request (longer than clients wait).",
    )
    slow_fault_ms: int = Field(default=2000, ge=0, description="Delay of a `slow` fault.")
