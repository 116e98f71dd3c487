"""argon2id hashing and JWT issue/verify, including expiry and token-type confusion."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from config.settings import Settings
from domain.passwords import check_password_strength
from services.credentials import (
    InvalidToken,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)


def test_argon2id_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("Correct#Horse9")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "Correct#Horse9")
    assert not verify_password(hashed, "correct#horse9")
    assert not verify_password("not-a-hash", "whatever")


def _settings(**kw: object) -> Settings:
    return Settings(jwt_secret=SecretStr("s" * 40), **kw)  # type: ignore[arg-type]


def test_token_round_trip_and_type_check() -> None:
    settings = _settings()
    user, inst = uuid.uuid4(), uuid.uuid4()
    token, claims = issue_token(
        settings,
        user_id=user,
        role="officer",
        enterprise_id=None,
        institution_id=inst,
        token_type="access",
    )
    decoded = decode_token(settings, token, "access")
    assert decoded.user_id == user and decoded.institution_id == inst
    assert decoded.jti == claims.jti
    with pytest.raises(InvalidToken):
        decode_token(settings, token, "refresh")


def test_expired_and_foreign_tokens_are_refused() -> None:
    settings = _settings(jwt_access_ttl_s=-1)
    token, _ = issue_token(
        settings,
        user_id=uuid.uuid4(),
        role="regulator",
        enterprise_id=None,
        institution_id=None,
        token_type="access",
    )
    with pytest.raises(InvalidToken):
        decode_token(settings, token, "access")
    good, _ = issue_token(
        _settings(),
        user_id=uuid.uuid4(),
        role="regulator",
        enterprise_id=None,
        institution_id=None,
        token_type="access",
    )
    other = Settings(jwt_secret=SecretStr("o" * 40))
    with pytest.raises(InvalidToken):
        decode_token(other, good, "access")


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Str0ng&Long!", set()),
        ("short1A!", {"password.too_short"}),
        ("onlylowercaseletters", {"password.too_simple"}),
        ("Alice-2026-x", {"password.guessable"}),
    ],
)
def test_password_strength_rules(password: str, codes: set[str]) -> None:
    assert {i.code for i in check_password_strength(password, "alice")} == codes
