"""Login, logout and the language switch (shared by the workbench and the portal), and each
role's home: staff on the workbench, applicants on the portal."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.roles import Role
from gateway.deps import SessionDep, SettingsDep
from services import auth
from services.auth import LoginCommand
from services.credentials import principal_from_token
from services.errors import Refusal
from web.core import (
    LANG_COOKIE,
    PORTAL,
    WORKBENCH,
    Form,
    Web,
    WebContext,
    clear_session,
    client_ip,
    redirect,
    render,
    safe_next,
    set_session,
    site_of_path,
    text,
)
from web.i18n import LANGUAGES

router = APIRouter(include_in_schema=False)  # the workbench's root and home
session_router = APIRouter(include_in_schema=False)  # on both fronts

HOME_BY_ROLE = {
    Role.OFFICER: f"{WORKBENCH.prefix}/inbox",
    Role.SUPERVISOR: f"{WORKBENCH.prefix}/inbox",
    Role.PLATFORM_ADMIN: f"{WORKBENCH.prefix}/inbox",
    Role.INSTITUTION_ADMIN: f"{WORKBENCH.prefix}/admin/products",
    Role.COMPLIANCE: f"{WORKBENCH.prefix}/compliance",
    Role.REGULATOR: f"{WORKBENCH.prefix}/regulator",
    Role.APPLICANT: f"{PORTAL.prefix}/home",
}


def home_of(ctx: WebContext) -> str:
    """The caller's first page: staff on the workbench, applicants on the portal; the site's
    login without a session."""
    role = ctx.principal.role if ctx.principal else None
    return HOME_BY_ROLE[role] if role else f"{ctx.site.prefix}/login"


@router.get("/")
async def root(ctx: Web) -> Response:
    return redirect(ctx, home_of(ctx))


@router.get("/home")
async def home(ctx: Web) -> Response:
    """Applicants, whose pages are the portal's, are sent there."""
    ctx.user  # noqa: B018 - a session is required
    return redirect(ctx, home_of(ctx))


@session_router.get("/login")
async def login_page(ctx: Web, next: str = "") -> Response:
    return render(ctx, "login.html", next=safe_next(next, ctx.site), error="", username="")


def _landing(ctx: WebContext, next_url: str) -> str:
    """Where a login goes: the page asked for when it is on the caller's own front (staff on
    the workbench, applicants on the portal), else the caller's home."""
    home = home_of(ctx)
    own = site_of_path(home)
    asked = site_of_path(next_url)
    return next_url if asked is own and next_url != f"{ctx.site.prefix}/" else home


@session_router.post("/login")
async def login(
    request: Request, ctx: Web, form: Form, session: SessionDep, settings: SettingsDep
) -> Response:
    """The platform's login (argon2id, rate limit, attempt log), tokens kept in cookies."""
    username = text(form, "username", 64)
    password = str(form.get("password", ""))[:128]
    next_url = safe_next(text(form, "next", 500), ctx.site)
    if not username or not password or "\x00" in username + password:
        error = ctx.t("error.fields")
        return render(ctx, "login.html", 422, next=next_url, error=error, username=username)
    try:
        pair = await auth.login(
            session, settings, LoginCommand(username, password, client_ip(request))
        )
    except Refusal as exc:
        return render(
            ctx, "login.html", exc.status, next=next_url, error=ctx.refused(exc), username=username
        )
    set_session(ctx, pair)
    ctx.principal = principal_from_token(settings, pair.access_token)
    return redirect(ctx, _landing(ctx, next_url))


@session_router.post("/logout")
async def logout(ctx: Web, form: Form, session: SessionDep) -> Response:
    """Revoke every refresh token of the user (as the API's logout) and drop the cookies."""
    if ctx.principal is not None:
        await auth.logout(session, ctx.principal)
    clear_session(ctx)
    return redirect(ctx, f"{ctx.site.prefix}/login")


@session_router.get("/lang/{code}")
async def switch_language(code: str, ctx: Web, next: str = "") -> Response:
    """Remember the language in a cookie and go back to the page."""
    if code in LANGUAGES:
        ctx.cookies[LANG_COOKIE] = (code, 365 * 24 * 3600)
    return redirect(ctx, safe_next(next, ctx.site))
