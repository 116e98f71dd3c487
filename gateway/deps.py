"""Request dependencies as Annotated aliases shared by the API and the workbench: context,
settings, session, Temporal client, the principal from a token or the session cookie, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from adapters.storage.local import LocalDocumentStore
from config.settings import Settings
from config.temporal import connect_temporal
from domain.roles import Role
from services import auth
from services.credentials import principal_from_token
from services.errors import Refusal
from services.principal import Principal, role_refusal


@dataclass
class AppContext:
    """What the API lifespan builds once and every request shares."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    temporal: Client | None

    def document_store(self) -> LocalDocumentStore:
        """Encrypted, content-addressed storage of uploaded materials."""
        return LocalDocumentStore.from_settings(self.settings)

    async def temporal_client(self) -> Client:
        """The shared Temporal client, connected lazily if Temporal was down at start-up."""
        if self.temporal is None:
            self.temporal = await connect_temporal(self.settings)
        return self.temporal


# Dependencies are coroutines even where they never await: FastAPI runs a plain ``def``
# dependency on its thread pool, a thread hop per request for nothing.
async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_settings_dep(ctx: ContextDep) -> Settings:
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    """A read session per request; writes belong to workflows' activities."""
    async with ctx.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_temporal(ctx: ContextDep) -> Client:
    """The shared Temporal client, or 503 while Temporal cannot be reached."""
    try:
        return await ctx.temporal_client()
    except RuntimeError as exc:
        raise Refusal(
            503, "temporal.unavailable", "工作流服务暂不可用", "Temporal is not reachable"
        ) from exc


TemporalDep = Annotated[Client, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False)
# The workbench keeps the API's access token in this HttpOnly cookie (web/core.py); the codec
# endpoint accepts it too, so a compliance officer logged in to the workbench can decode in
# the Temporal Web UI.
SESSION_COOKIE = "lb_session"


async def bearer_credentials(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> HTTPAuthorizationCredentials | None:
    """The bearer token if one was sent, for routes a token serves but does not require."""
    return credentials


def _authentication_required() -> Refusal:
    return Refusal(
        401,
        "auth.required",
        "请先登录",
        "Authentication required",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_current_user(
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _authentication_required()
    return await _principal(ctx, credentials.credentials)


async def current_principal(ctx: AppContext, token: str) -> Principal | None:
    """The caller an access token names while its session is current (not logged out or
    revoked); None for any other token."""
    principal = principal_from_token(ctx.settings, token)
    if principal is None:
        return None
    async with ctx.session_factory() as session:
        current = await auth.session_is_current(session, principal)
    return principal if current else None


async def _principal(ctx: AppContext, token: str) -> Principal:
    """The caller a token names, while its session is current; 401 otherwise."""
    principal = await current_principal(ctx, token)
    if principal is None:
        raise Refusal(
            401,
            "auth.invalid_token",
            "登录已失效，请重新登录",
            "Invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def _origin_allowed(request: Request, settings: Settings) -> bool:
    """A cookie travels with any request the browser makes to us, so a cookie-authenticated call
    must come from our own pages, one of the Temporal Web UI's origins, or no browser page."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin in settings.codec_cors_origins:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


async def get_current_user_or_session(
    request: Request,
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller from a bearer token, or else from the workbench's session cookie."""
    if credentials is not None:
        return await _principal(ctx, credentials.credentials)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise _authentication_required()
    if not _origin_allowed(request, ctx.settings):
        raise Refusal(
            403,
            "auth.origin_not_allowed",
            "不允许从该来源使用登录会话",
            "The session cookie may not be used from this origin",
        )
    return await _principal(ctx, token)


def require_roles(
    *roles: Role, via: Callable[..., Coroutine[Any, Any, Principal]] = get_current_user
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Dependency factory: the caller (resolved by ``via``) must hold one of these roles."""
    allowed = frozenset(roles)

    async def checker(user: Principal = Depends(via)) -> Principal:  # noqa: B008
        if user.role not in allowed:
            raise role_refusal(user.role, allowed)
        return user

    checker.allowed_roles = allowed  # type: ignore[attr-defined]  # read by api/access.py
    return checker
