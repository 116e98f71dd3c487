"""Authentication: login with rate limit and lockout, refresh-token rotation, logout, the
caller's account and whether a token's session is still current."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from db.models import AppUser
from db.repositories import UserRepository
from db.security import LoginGuardRepository
from services.credentials import (
    DUMMY_HASH,
    InvalidToken,
    TokenClaims,
    decode_token,
    issue_token,
    verify_password,
)
from services.errors import Refusal, not_found
from services.principal import Principal

log = structlog.get_logger("loanbridge.api")


@dataclass(frozen=True, slots=True)
class LoginCommand:
    """A username and password, and the address they came from (for the rate limits)."""

    username: str
    password: str = field(repr=False)
    client_ip: str


@dataclass(frozen=True, slots=True)
class Tokens:
    """A signed access token and refresh token, and the access token's lifetime in seconds."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


def _bad_login() -> Refusal:
    return Refusal(401, "auth.bad_credentials", "用户名或密码错误", "Wrong username or password")


def _invalid_token() -> Refusal:
    return Refusal(401, "auth.invalid_token", "登录已失效，请重新登录", "Invalid or expired token")


async def _issue_pair(settings: Settings, repo: UserRepository, user: AppUser) -> Tokens:
    def sign(token_type: str) -> tuple[str, TokenClaims]:
        return issue_token(
            settings,
            user_id=user.id,
            role=user.role,
            enterprise_id=user.enterprise_id,
            institution_id=user.institution_id,
            token_type=token_type,
            session_version=user.session_version,
        )

    access, _ = sign("access")
    refresh_token, claims = sign("refresh")
    await repo.add_refresh_token(claims.jti, user.id, claims.expires_at)
    return Tokens(
        access_token=access, refresh_token=refresh_token, expires_in=settings.jwt_access_ttl_s
    )


async def _refuse(
    session: AsyncSession,
    settings: Settings,
    repo: UserRepository,
    guard: LoginGuardRepository,
    user: AppUser | None,
    command: LoginCommand,
) -> None:
    """Record a refused login; lock the account when its failures reach the threshold."""
    await repo.record_login_attempt(command.username, command.client_ip, succeeded=False)
    now = datetime.now(UTC)
    if user is not None and (user.locked_until is None or user.locked_until <= now):
        window = timedelta(seconds=settings.login_lockout_window_s)
        failures = await guard.failures_for_username(command.username, window)
        if failures >= settings.login_lockout_threshold:
            until = now + timedelta(seconds=settings.login_lockout_s)
            await guard.lock(user, until, actor="login")
            log.warning("account locked after failed logins", user_id=str(user.id))
    await session.commit()


async def login(session: AsyncSession, settings: Settings, command: LoginCommand) -> Tokens:
    """Tokens for a username and password (rate-limited per account and per address; enough
    failures lock the account, and a locked account answers like a wrong password)."""
    repo = UserRepository(session)
    guard = LoginGuardRepository(session)
    window = timedelta(seconds=settings.login_window_s)
    user = await repo.by_username(command.username)
    if (
        await guard.failures_for_username(command.username, window) >= settings.login_max_attempts
        or await guard.failures_from_address(command.client_ip, window)
        >= settings.login_max_attempts_per_ip
    ):
        # Refused tries count too: hammering keeps the limit up and leads to the lockout.
        await _refuse(session, settings, repo, guard, user, command)
        raise Refusal(
            429,
            "auth.too_many_attempts",
            "登录尝试次数过多，请稍后再试",
            "Too many failed logins; try again later",
            headers={"Retry-After": str(settings.login_window_s)},
        )
    ok = verify_password(user.password_hash if user else DUMMY_HASH, command.password)
    now = datetime.now(UTC)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or not ok or not user.is_active or locked:
        # A locked account answers like a wrong password: the lock reveals no username.
        await _refuse(session, settings, repo, guard, user, command)
        raise _bad_login()
    await repo.record_login_attempt(command.username, command.client_ip, succeeded=True)
    pair = await _issue_pair(settings, repo, user)
    await session.commit()
    return pair


async def refresh(session: AsyncSession, settings: Settings, refresh_token: str) -> Tokens:
    """Rotate a refresh token; presenting a used one revokes the whole family (theft signal)."""
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except InvalidToken as exc:
        raise _invalid_token() from exc
    repo = UserRepository(session)
    stored = await repo.refresh_token(claims.jti, for_update=True)
    user = await repo.get(claims.user_id)
    if stored is None or user is None or not user.is_active:
        raise _invalid_token()
    if stored.revoked_at is not None:
        await repo.revoke_all_refresh_tokens(user.id)
        await session.commit()
        raise _invalid_token()
    pair = await _issue_pair(settings, repo, user)
    stored.revoked_at = datetime.now(UTC)
    stored.replaced_by = decode_token(settings, pair.refresh_token, "refresh").jti
    await session.commit()
    return pair


async def logout(session: AsyncSession, user: Principal) -> None:
    """End every session of the caller: refresh tokens revoked, access tokens outdated."""
    await UserRepository(session).revoke_all_refresh_tokens(user.user_id)
    await session.commit()


async def own_account(session: AsyncSession, user: Principal) -> AppUser:
    """The caller's own account."""
    found = await UserRepository(session).get(user.user_id)
    if found is None:
        raise not_found()
    return found


def _current(session_version: int, is_active: bool, principal: Principal) -> bool:
    """Not logged out, its refresh family not revoked (both raise ``session_version``), active."""
    return is_active and session_version == principal.session_version


async def session_is_current(session: AsyncSession, principal: Principal) -> bool:
    """The token's session is still the user's (one primary-key read of two columns)."""
    state = await UserRepository(session).session_state(principal.user_id)
    return state is not None and _current(*state, principal)


async def current_account(session: AsyncSession, principal: Principal) -> AppUser | None:
    """The caller's account while the token's session is current; None once it is not."""
    account = await UserRepository(session).get(principal.user_id)
    if account is None or not _current(account.session_version, account.is_active, principal):
        return None
    return account
