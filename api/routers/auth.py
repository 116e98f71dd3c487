"""Login, token refresh with rotation, logout and who-am-I."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.schemas import LoginRequest, RefreshRequest, TokenPair, UserOut
from config.settings import Settings
from db.models import AppUser
from db.repositories import UserRepository
from db.security import LoginGuardRepository
from gateway.deps import CurrentUser, SessionDep, SettingsDep
from services.credentials import (
    DUMMY_HASH,
    InvalidToken,
    TokenClaims,
    decode_token,
    issue_token,
    verify_password,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
log = structlog.get_logger("loanbridge.api")

_BAD_LOGIN = ApiError(401, "auth.bad_credentials", "用户名或密码错误", "Wrong username or password")


async def _issue_pair(settings: Settings, repo: UserRepository, user: AppUser) -> TokenPair:
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
    refresh, claims = sign("refresh")
    await repo.add_refresh_token(claims.jti, user.id, claims.expires_at)
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.jwt_access_ttl_s
    )


async def _refuse(
    session: AsyncSession,
    settings: Settings,
    repo: UserRepository,
    guard: LoginGuardRepository,
    user: AppUser | None,
    username: str,
    client_ip: str,
) -> None:
    """Record a refused login; lock the account when its failures reach the threshold."""
    await repo.record_login_attempt(username, client_ip, succeeded=False)
    now = datetime.now(UTC)
    if user is not None and (user.locked_until is None or user.locked_until <= now):
        window = timedelta(seconds=settings.login_lockout_window_s)
        if await guard.failures_for_username(username, window) >= settings.login_lockout_threshold:
            until = now + timedelta(seconds=settings.login_lockout_s)
            await guard.lock(user, until, actor="login")
            log.warning("account locked after failed logins", user_id=str(user.id))
    await session.commit()


@router.post("/token", operation_id="login", response_model=TokenPair)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Exchange username and password for an access and a refresh token (rate-limited)."""
    repo = UserRepository(session)
    guard = LoginGuardRepository(session)
    window = timedelta(seconds=settings.login_window_s)
    client_ip = request.client.host if request.client else ""
    user = await repo.by_username(body.username)
    if (
        await guard.failures_for_username(body.username, window) >= settings.login_max_attempts
        or await guard.failures_from_address(client_ip, window)
        >= settings.login_max_attempts_per_ip
    ):
        # Refused tries count too: hammering keeps the limit up and leads to the lockout.
        await _refuse(session, settings, repo, guard, user, body.username, client_ip)
        raise ApiError(
            429,
            "auth.too_many_attempts",
            "登录尝试次数过多，请稍后再试",
            "Too many failed logins; try again later",
            headers={"Retry-After": str(settings.login_window_s)},
        )
    ok = verify_password(user.password_hash if user else DUMMY_HASH, body.password)
    now = datetime.now(UTC)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    if user is None or not ok or not user.is_active or locked:
        # A locked account answers like a wrong password: the lock reveals no username.
        await _refuse(session, settings, repo, guard, user, body.username, client_ip)
        raise _BAD_LOGIN
    await repo.record_login_attempt(body.username, client_ip, succeeded=True)
    pair = await _issue_pair(settings, repo, user)
    await session.commit()
    return pair


@router.post("/refresh", operation_id="refresh_token", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Rotate a refresh token; presenting a used one revokes the whole family (theft signal)."""
    invalid = ApiError(
        401, "auth.invalid_token", "登录已失效，请重新登录", "Invalid or expired token"
    )
    try:
        claims = decode_token(settings, body.refresh_token, "refresh")
    except InvalidToken as exc:
        raise invalid from exc
    repo = UserRepository(session)
    stored = await repo.refresh_token(claims.jti, for_update=True)
    user = await repo.get(claims.user_id)
    if stored is None or user is None or not user.is_active:
        raise invalid
    if stored.revoked_at is not None:
        await repo.revoke_all_refresh_tokens(user.id)
        await session.commit()
        raise invalid
    pair = await _issue_pair(settings, repo, user)
    stored.revoked_at = datetime.now(UTC)
    stored.replaced_by = decode_token(settings, pair.refresh_token, "refresh").jti
    await session.commit()
    return pair


@router.post("/logout", operation_id="logout", status_code=204)
async def logout(user: CurrentUser, session: SessionDep) -> None:
    """Revoke every refresh token of the caller."""
    await UserRepository(session).revoke_all_refresh_tokens(user.user_id)
    await session.commit()


@router.get("/me", operation_id="who_am_i", response_model=UserOut)
async def me(user: CurrentUser, session: SessionDep) -> AppUser:
    """The caller's own account."""
    found = await UserRepository(session).get(user.user_id)
    if found is None:
        raise ApiError(404, "not_found", "资源不存在", "Not found")
    return found
