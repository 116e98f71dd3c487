"""Settings refuse development defaults in production and derive the embedded addresses."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from config.settings import Environment, Settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about defaults: the CI's own DATABASE_URL etc. must not leak in."""
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "SANDBOX_URL", "ENVIRONMENT", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_every_development_default() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(environment=Environment.PRODUCTION, _env_file=None)  # type: ignore[call-arg]
    message = str(caught.value)
    for setting in ("JWT_SECRET", "DATA_ENCRYPTION_KEY", "DATABASE_URL", "TEMPORAL_ADDRESS"):
        assert setting in message


def test_production_accepts_real_settings() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        jwt_secret=SecretStr("x" * 48),
        data_encryption_key=SecretStr("a2V5LW9mLW91ci1vd24tMzItYnl0ZXMtbG9uZy0hIQ=="),
        database_url="postgresql://lb@db.internal/lb",
        temporal_address="temporal.internal:7233",
        sandbox_url="https://providers.internal",
    )
    assert not settings.uses_embedded_postgres
    assert settings.effective_temporal_address == "temporal.internal:7233"


def test_local_defaults_use_embedded_services() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.uses_embedded_postgres and settings.uses_embedded_temporal
    assert settings.task_queue("platform") == "loanbridge-platform"
