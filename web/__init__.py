"""The web workbench: server-rendered pages for officers, institution admins, compliance and
regulators, a sub-application mounted on the API app under ``/web``.

Mounted rather than included: the pages are not API operations (no OpenAPI entry, no place in
the API's authorization matrix); they call the same services as the API (never the API itself)
and share its state (engine, Temporal client, settings) and middleware. The composition root,
``server.py``, mounts them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.settings import Settings
from services.errors import Refusal
from web import admin, compliance, officer, pages, regulator
from web.core import PREFIX, LoginRequired, PageError, WebContext, language_of, redirect, render

log = structlog.get_logger("loanbridge.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_workbench() -> FastAPI:
    """The workbench app: pages, static files, and pages for redirects and errors."""
    workbench = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for module in (pages, officer, admin, compliance, regulator):
        workbench.include_router(module.router)
    workbench.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def bare_context(request: Request) -> WebContext:
        settings: Settings = request.app.state.ctx.settings
        return WebContext(request=request, settings=settings, lang=language_of(request))

    @workbench.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        back = quote(request.url.path + query, safe="") if request.method == "GET" else ""
        return redirect(bare_context(request), f"{PREFIX}/login?next={back}")

    @workbench.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        ctx = bare_context(request)
        return render(ctx, "error.html", exc.status, message=ctx.t(exc.key))

    @workbench.exception_handler(Refusal)
    async def _api_error(request: Request, exc: Refusal) -> Response:
        ctx = bare_context(request)
        return render(ctx, "error.html", exc.status, message=ctx.refused(exc))

    @workbench.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        ctx = bare_context(request)
        key = "error.not_found" if exc.status_code == 404 else "error.title"
        return render(ctx, "error.html", exc.status_code, message=ctx.t(key))

    @workbench.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("workbench page failed", error_type=type(exc).__name__, exc_info=exc)
        ctx = bare_context(request)
        return render(ctx, "error.html", 500, message=ctx.t("error.title"))

    return workbench


def install(app: FastAPI) -> None:
    """Mount the workbench on the API app; it shares the app's state (set by its lifespan)."""
    workbench = create_workbench()
    workbench.state = app.state
    app.mount(PREFIX, workbench, name="web")
