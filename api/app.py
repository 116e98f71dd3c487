"""The API's app factory: lifespan wiring (engine, Temporal client), middleware, routers,
errors (the workbench is mounted by the composition root, ``server.py``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import install_documentation
from api.errors import install_error_handlers
from api.hardening import SecurityMiddleware, reject_unknown_query_parameters
from api.openapi import install_error_documentation
from api.routers import accounts as account_routes
from api.routers import (
    applications,
    auth,
    catalog,
    codec,
    demands,
    health,
    institutions,
    loans,
    materials,
    notifications,
    onboarding,
    policies,
    privacy,
    tasks,
    users,
)
from api.routers import audit as audit_routes
from api.routers import compliance as compliance_routes
from api.routers import models as model_routes
from api.routers import ratings as rating_routes
from config.crypto import FieldCipher, configure_field_cipher
from config.runtime import settle_garbage_collector
from config.settings import Settings, get_settings
from config.temporal import connect_temporal
from db.session import create_engine, create_session_factory
from gateway.deps import AppContext

log = structlog.get_logger("loanbridge.api")


class RequestIdMiddleware:
    """Pure ASGI: binds the request id (the caller's ``X-Request-ID`` or a new one) to every
    log line of the request and returns it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def create_api(settings: Settings | None = None, *, server_process: bool = False) -> FastAPI:
    """Build the API alone; nothing connects until the lifespan starts. ``server_process``: the
    app is this process's only job (uvicorn), so its garbage collector is tuned at start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise SystemExit("DATABASE_URL is not set: the API needs PostgreSQL")
        engine = create_engine(settings.database_url)
        configure_field_cipher(FieldCipher.from_settings(settings))
        try:
            temporal = await connect_temporal(settings)
        except RuntimeError:
            log.warning(
                "temporal not reachable at start-up; will retry on first use",
                temporal_address=settings.effective_temporal_address,
            )
            temporal = None
        app.state.ctx = AppContext(settings, engine, create_session_factory(engine), temporal)
        if server_process:
            settle_garbage_collector()
        yield
        await engine.dispose()

    app = FastAPI(
        title="LoanBridge API",
        version="0.1.0",
        description="SME financing platform: onboarding, matching, origination and servicing.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_parameters)],
        docs_url=None,  # served from local assets by install_documentation (works offline)
        redoc_url=None,
    )

    app.add_middleware(RequestIdMiddleware)
    # The Temporal Web UI calls the codec endpoint from the browser (its own origin) with the
    # auditor's workbench session cookie (credentials included) or a token.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_cors_origins,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Authorization-Extras", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )
    # Outermost: security headers on every response, oversized bodies refused unread.
    app.add_middleware(SecurityMiddleware, max_request_bytes=settings.max_request_bytes)
    install_error_handlers(app)
    install_error_documentation(app)
    install_documentation(app)
    routers = [health, auth, users, institutions, onboarding, privacy, catalog, demands]
    routers += [policies, applications, materials, loans, tasks, notifications]
    for module in (*routers, codec):
        app.include_router(module.router)
    app.include_router(loans.portfolio_router)
    app.include_router(audit_routes.router)  # compliance audit (issue 8)
    app.include_router(compliance_routes.router)  # reports, monitoring, metrics (issue 8)
    app.include_router(model_routes.router)  # credit model registry (issue 7)
    app.include_router(rating_routes.router)  # rating histories (issue 21)
    app.include_router(account_routes.router)  # account lock and unlock (issue 11)
    return app
