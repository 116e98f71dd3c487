"""The browser fronts, sub-applications mounted on the API app: the workbench under ``/web``
(server-rendered pages for officers, institution admins, compliance and regulators) and the
applicant portal under ``/portal`` (the SME owner's pages).

Mounted rather than included: the pages are not API operations (no OpenAPI entry, no place in
the API's authorization matrix); they call the same services as the API (never the API itself)
and share its state (engine, Temporal client, settings) and middleware. The composition root,
``server.py``, mounts them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.errors import Refusal
from web import admin, compliance, officer, pages, portal, portal_cases, portal_loans, regulator
from web.core import (
    PORTAL,
    WORKBENCH,
    LoginRequired,
    PageError,
    Site,
    WebContext,
    bare_context,
    redirect,
    render,
)

log = structlog.get_logger("loanbridge.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _site_app(site: Site, routers: Sequence[APIRouter]) -> FastAPI:
    """One front: its pages, the static files, and its pages for redirects and errors."""
    front = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for router in routers:
        front.include_router(router)
    front.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def context(request: Request) -> WebContext:
        return bare_context(request, request.app.state.ctx.settings)

    @front.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        back = quote(request.url.path + query, safe="") if request.method == "GET" else ""
        return redirect(context(request), f"{site.prefix}/login?next={back}")

    @front.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        ctx = context(request)
        return render(ctx, "error.html", exc.status, message=ctx.t(exc.key))

    @front.exception_handler(Refusal)
    async def _api_error(request: Request, exc: Refusal) -> Response:
        ctx = context(request)
        return render(ctx, "error.html", exc.status, message=ctx.refused(exc))

    @front.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        ctx = context(request)
        key = "error.not_found" if exc.status_code == 404 else "error.title"
        return render(ctx, "error.html", exc.status_code, message=ctx.t(key))

    @front.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("page failed", site=site.prefix, error_type=type(exc).__name__, exc_info=exc)
        ctx = context(request)
        return render(ctx, "error.html", 500, message=ctx.t("error.title"))

    return front


def workbench_routers() -> tuple[APIRouter, ...]:
    """The staff workbench's pages (its accessibility test walks their GET routes)."""
    pages_routers = (pages.router, pages.session_router, officer.router, admin.router)
    return (*pages_routers, compliance.router, regulator.router)


def create_workbench() -> FastAPI:
    """The staff workbench."""
    return _site_app(WORKBENCH, workbench_routers())


def create_portal() -> FastAPI:
    """The applicant portal (login, logout and language as on the workbench)."""
    return _site_app(
        PORTAL, (pages.session_router, portal.router, portal_cases.router, portal_loans.router)
    )


def install(app: FastAPI) -> None:
    """Mount both fronts on the API app; they share the app's state (set by its lifespan)."""
    for site, front in ((WORKBENCH, create_workbench()), (PORTAL, create_portal())):
        front.state = app.state
        app.mount(site.prefix, front, name=site.templates)
