"""Login, token refresh with rotation, logout and who-am-I."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from api.schemas import LoginRequest, RefreshRequest, TokenPair, UserOut
from gateway.deps import CurrentUser, SessionDep, SettingsDep
from services import auth
from services.auth import LoginCommand, Tokens

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _pair(tokens: Tokens) -> TokenPair:
    return TokenPair(**asdict(tokens))


@router.post("/token", operation_id="login", response_model=TokenPair)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Exchange username and password for an access and a refresh token (rate-limited)."""
    client_ip = request.client.host if request.client else ""
    command = LoginCommand(username=body.username, password=body.password, client_ip=client_ip)
    return _pair(await auth.login(session, settings, command))


@router.post("/refresh", operation_id="refresh_token", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Rotate a refresh token; presenting a used one revokes the whole family (theft signal)."""
    return _pair(await auth.refresh(session, settings, body.refresh_token))


@router.post("/logout", operation_id="logout", status_code=204)
async def logout(user: CurrentUser, session: SessionDep) -> None:
    """Revoke every refresh token of the caller."""
    await auth.logout(session, user)


@router.get("/me", operation_id="who_am_i", response_model=UserOut)
async def me(user: CurrentUser, session: SessionDep) -> UserOut:
    """The caller's own account."""
    return UserOut.model_validate(await auth.own_account(session, user))
