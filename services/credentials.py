"""Credentials: password hashing (argon2id), JWT access/refresh tokens and the principal a
token names."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.settings import Settings
from domain.roles import Role
from services.principal import Principal

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "loanbridge"


def hash_password(password: str) -> str:
    """An argon2id hash string (salt and parameters inside)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong password or a broken hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the user does not exist, so timing reveals nothing.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid access token says about its bearer."""

    user_id: uuid.UUID
    role: str
    enterprise_id: uuid.UUID | None
    institution_id: uuid.UUID | None
    token_type: str
    jti: str
    expires_at: datetime
    session_version: int = 0


class InvalidToken(Exception):
    """The token is malformed, expired, of the wrong type or signed with another key."""


def issue_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    role: str,
    enterprise_id: uuid.UUID | None,
    institution_id: uuid.UUID | None,
    token_type: str,
    session_version: int = 0,
) -> tuple[str, TokenClaims]:
    """Sign an access or refresh token for a user."""
    ttl = settings.jwt_access_ttl_s if token_type == "access" else settings.jwt_refresh_ttl_s
    now = datetime.now(UTC)
    claims = TokenClaims(
        user_id=user_id,
        role=role,
        enterprise_id=enterprise_id,
        institution_id=institution_id,
        token_type=token_type,
        jti=secrets.token_hex(16),
        expires_at=now + timedelta(seconds=ttl),
        session_version=session_version,
    )
    payload: dict[str, Any] = {
        "iss": JWT_ISSUER,
        "sub": str(user_id),
        "role": role,
        "ent": str(enterprise_id) if enterprise_id else None,
        "inst": str(institution_id) if institution_id else None,
        "typ": token_type,
        "jti": claims.jti,
        "sv": session_version,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, claims


def decode_token(settings: Settings, token: str, expected_type: str) -> TokenClaims:
    """Verify signature, issuer, expiry and type; raise InvalidToken otherwise."""
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "sub", "typ", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if payload.get("typ") != expected_type:
        raise InvalidToken("wrong token type")
    try:
        return TokenClaims(
            user_id=uuid.UUID(payload["sub"]),
            role=str(payload["role"]),
            enterprise_id=uuid.UUID(payload["ent"]) if payload.get("ent") else None,
            institution_id=uuid.UUID(payload["inst"]) if payload.get("inst") else None,
            token_type=payload["typ"],
            jti=payload["jti"],
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            session_version=int(payload.get("sv", 0)),
        )
    except (KeyError, ValueError) as exc:
        raise InvalidToken("malformed claims") from exc


def principal_of(claims: TokenClaims) -> Principal:
    """The caller a verified access token names (ValueError for an unknown role)."""
    return Principal(
        claims.user_id,
        Role(claims.role),
        claims.enterprise_id,
        claims.institution_id,
        claims.session_version,
    )


def principal_from_token(settings: Settings, token: str) -> Principal | None:
    """The caller a valid access token names; None for any other token."""
    try:
        return principal_of(decode_token(settings, token, "access"))
    except (InvalidToken, ValueError):
        return None
