"""Settings refuse development defaults in production and derive the embedded addresses."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from config.install_secrets import (
    JWT_SECRET,
    SealError,
    install_secrets,
    open_sealed_secrets,
    seal_install_secrets,
    secrets_path,
)
from config.settings import Environment, Settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about defaults: the CI's own DATABASE_URL etc. must not leak in."""
    names = ("DATABASE_URL", "TEMPORAL_ADDRESS", "SANDBOX_URL", "ENVIRONMENT", "JWT_SECRET")
    for name in (*names, "DATA_ENCRYPTION_KEY", "DATA_DIR"):
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


def test_a_data_directory_generates_its_own_keys_once(tmp_path: Path) -> None:
    """Issue 28, finding 1: the defaults were constants in the source, so anyone who read it
    could mint a platform admin's token for an install left on them."""
    first = Settings(_env_file=None, data_dir=tmp_path / "a")  # type: ignore[call-arg]
    again = Settings(_env_file=None, data_dir=tmp_path / "a")  # type: ignore[call-arg]
    other = Settings(_env_file=None, data_dir=tmp_path / "b")  # type: ignore[call-arg]
    for name in ("jwt_secret", "data_encryption_key"):
        value = getattr(first, name).get_secret_value()
        assert value == getattr(again, name).get_secret_value()
        assert value != getattr(other, name).get_secret_value()
    assert first.jwt_secret.get_secret_value() != "dev-only-jwt-secret-change-me-0123456789abcdef"
    assert len(base64.b64decode(first.data_encryption_key.get_secret_value())) == 32
    kept = secrets_path(tmp_path / "a")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    given = Settings(_env_file=None, data_dir=tmp_path / "a", jwt_secret="g" * 48)  # type: ignore[call-arg]
    assert given.jwt_secret.get_secret_value() == "g" * 48  # the environment wins


def test_no_key_constant_is_left_in_the_source() -> None:
    root = Path(__file__).resolve().parents[3]
    sources = [root / "worker.py"] + [
        path
        for folder in ("config", "api", "cli", "web", "activities")
        for path in (root / folder).rglob("*.py")
    ]
    old_constants = ("ZGV2LW9ubHktZGF0YS1rZXkt", "dev-only-jwt-secret")
    leaked = [
        str(path.relative_to(root))
        for path in sources
        if any(constant in path.read_text() for constant in old_constants)
    ]
    assert leaked == []


def test_sealed_keys_open_only_with_their_passphrase(tmp_path: Path) -> None:
    keys = install_secrets(tmp_path)
    sealed = seal_install_secrets(keys, "correct horse battery staple")
    assert keys[JWT_SECRET].encode() not in sealed
    assert open_sealed_secrets(sealed, "correct horse battery staple") == keys
    with pytest.raises(SealError):
        open_sealed_secrets(sealed, "wrong passphrase")


def test_local_defaults_use_embedded_services() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.uses_embedded_postgres and settings.uses_embedded_temporal
    assert settings.task_queue("platform") == "loanbridge-platform"
