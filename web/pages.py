"""Login, logout, language switch and each role's home page."""

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
    PREFIX,
    Form,
    Web,
    WebContext,
    clear_session,
    redirect,
    render,
    safe_next,
    set_session,
    text,
)
from web.i18n import LANGUAGES

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    Role.OFFICER: "/inbox",
    Role.SUPERVISOR: "/inbox",
    Role.PLATFORM_ADMIN: "/inbox",
    Role.INSTITUTION_ADMIN: "/admin/products",
    Role.COMPLIANCE: "/compliance",
    Role.REGULATOR: "/regulator",
}


def home_of(ctx: WebContext) -> str:
    role = ctx.principal.role if ctx.principal else None
    return PREFIX + HOME_BY_ROLE.get(role, "/home") if role else f"{PREFIX}/login"


@router.get("/")
async def root(ctx: Web) -> Response:
    return redirect(ctx, home_of(ctx))


@router.get("/home")
async def home(ctx: Web) -> Response:
    """Roles without a workbench (applicants) are told where to go instead."""
    ctx.user  # noqa: B018 - a session is required
    return render(ctx, "home.html")


@router.get("/login")
async def login_page(ctx: Web, next: str = "") -> Response:
    return render(ctx, "login.html", next=safe_next(next), error="", username="")


@router.post("/login")
async def login(
    request: Request, ctx: Web, form: Form, session: SessionDep, settings: SettingsDep
) -> Response:
    """The platform's login (argon2id, rate limit, attempt log), tokens kept in cookies."""
    username = text(form, "username", 64)
    password = str(form.get("password", ""))[:128]
    next_url = safe_next(text(form, "next", 500))
    if not username or not password or "\x00" in username + password:
        error = ctx.t("error.fields")
        return render(ctx, "login.html", 422, next=next_url, error=error, username=username)
    client_ip = request.client.host if request.client else ""
    try:
        pair = await auth.login(session, settings, LoginCommand(username, password, client_ip))
    except Refusal as exc:
        return render(
            ctx, "login.html", exc.status, next=next_url, error=ctx.refused(exc), username=username
        )
    set_session(ctx, pair)
    ctx.principal = principal_from_token(settings, pair.access_token)
    target = next_url if next_url != f"{PREFIX}/" else home_of(ctx)
    return redirect(ctx, target)


@router.post("/logout")
async def logout(ctx: Web, form: Form, session: SessionDep) -> Response:
    """Revoke every refresh token of the user (as the API's logout) and drop the cookies."""
    if ctx.principal is not None:
        await auth.logout(session, ctx.principal)
    clear_session(ctx)
    return redirect(ctx, f"{PREFIX}/login")


@router.get("/lang/{code}")
async def switch_language(code: str, ctx: Web, next: str = "") -> Response:
    """Remember the language in a cookie and go back to the page."""
    if code in LANGUAGES:
        ctx.cookies[LANG_COOKIE] = (code, 365 * 24 * 3600)
    return redirect(ctx, safe_next(next))
