"""What the browser fronts share — the staff workbench (``/web``) and the applicant portal
(``/portal``): the session (the API's JWTs in HttpOnly cookies), CSRF tokens, language and page
rendering with security headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from audit.details import event_details
from config.settings import Environment, Settings
from domain.labels import label, period_label, reasons_text
from domain.roles import Role
from gateway.deps import SESSION_COOKIE, SessionDep, SettingsDep
from services import auth
from services.auth import Tokens
from services.credentials import principal_from_token
from services.errors import Refusal
from services.principal import Principal
from web import display
from web.formats import money, percent, when
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate


@dataclass(frozen=True, slots=True)
class Site:
    """One browser front: where it is mounted and its folder of templates."""

    prefix: str
    templates: str


WORKBENCH = Site("/web", "web")
PORTAL = Site("/portal", "portal")
SITES = (WORKBENCH, PORTAL)
PREFIX = WORKBENCH.prefix
ACCESS_COOKIE = SESSION_COOKIE  # the codec endpoint reads it too (gateway/deps.py)
REFRESH_COOKIE = "lb_refresh"
CSRF_COOKIE = "lb_csrf"
LANG_COOKIE = "lb_lang"
CSRF_FIELD = "csrf_token"

# No inline script or style anywhere: charts are SVG presentation attributes, JS is a file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class LoginRequired(Exception):
    """No valid session: the browser goes to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page refused (403), missing or another tenant's (404), or a stale form (400)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status, self.key = status, key


def _templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "templates"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["percent"] = percent
    env.filters["when"] = when
    return env


TEMPLATES = _environment()


@dataclass
class WebContext:
    """One page request: who is asking, in which language, the form token, cookies to set."""

    request: Request
    settings: Settings
    lang: str
    site: Site = WORKBENCH
    principal: Principal | None = None
    display_name: str = ""
    cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return translate(key, self.lang, **values)

    def lbl(self, vocabulary: str, code: object) -> str:
        """The label of a machine code in the page's language ('—' for none)."""
        if code is None or code == "":
            return "—"
        return label(vocabulary, str(code), self.lang)

    def reasons(self, value: str | None) -> str:
        """Reason codes (comma-joined) in words; a person's own words unchanged."""
        return reasons_text(value or "", self.lang) or "—"

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise LoginRequired(str(self.request.url.path))
        return self.principal

    def require(self, *roles: Role) -> Principal:
        """The caller, who must hold one of ``roles`` (403 page otherwise)."""
        user = self.user
        if user.role not in roles:
            raise PageError(403, "error.forbidden")
        return user

    @property
    def csrf_nonce(self) -> str:
        nonce = self.request.cookies.get(CSRF_COOKIE) or self.cookies.get(CSRF_COOKIE, ("", 0))[0]
        if not nonce:
            nonce = secrets.token_urlsafe(24)
            self.cookies[CSRF_COOKIE] = (nonce, None)
        return nonce

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.settings, self.csrf_nonce)

    def refused(self, error: Refusal) -> str:
        """The refusal in the page's language (its machine code stays in the logs and the API)."""
        return error.zh if self.lang == "zh" else error.en


def csrf_token_for(settings: Settings, nonce: str) -> str:
    """The form token: an HMAC of the browser's nonce cookie (signed double submit)."""
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def is_https(request: Request, settings: Settings) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded == "https"
        or settings.environment is Environment.PRODUCTION
    )


def _apply(ctx: WebContext, response: Response) -> Response:
    secure = is_https(ctx.request, ctx.settings)
    for name, (value, max_age) in ctx.cookies.items():
        if value:
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                path="/",
                httponly=True,
                secure=secure,
                samesite="strict" if name == CSRF_COOKIE else "lax",
            )
        else:
            response.delete_cookie(name, path="/", httponly=True, secure=secure, samesite="lax")
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    if secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def render(ctx: WebContext, template: str, status: int = 200, **data: Any) -> HTMLResponse:
    """A page of the site's templates (``templates/web/``, ``templates/portal/``) with the
    session's cookies and the security headers."""
    page = TEMPLATES.get_template(f"{ctx.site.templates}/{template}").render(
        ctx=ctx,
        t=ctx.t,
        lbl=ctx.lbl,
        reasons=ctx.reasons,
        stage_reason=ctx.reasons,
        field_name=lambda name: label("field", name, ctx.lang),
        file_kind=display.file_kind,
        event_title=lambda kind: display.event_title(kind, ctx.lang),
        event_details=lambda details: event_details(details, ctx.lang),
        period_label=lambda kind, start: period_label(kind, start, ctx.lang),
        actor_text=lambda actor: display.actor_text(actor, data.get("people", {}), ctx.lang),
        lang=ctx.lang,
        user=ctx.principal,
        prefix=ctx.site.prefix,
        csrf_field=CSRF_FIELD,
        **data,
    )
    return _apply(ctx, HTMLResponse(page, status_code=status))  # type: ignore[return-value]


def answer_json(ctx: WebContext, data: Any, status: int = 200) -> Response:
    """JSON for a page's script (or a download), with the session's cookies and the headers."""
    return _apply(ctx, JSONResponse(jsonable_encoder(data), status_code=status))


def redirect(ctx: WebContext, url: str) -> Response:
    """See-other to a page of ours (POST → redirect → GET)."""
    return _apply(ctx, RedirectResponse(safe_next(url, ctx.site), status_code=303))


def site_of_path(path: str) -> Site | None:
    """The site a path of ours belongs to."""
    return next((s for s in SITES if path == s.prefix or path.startswith(f"{s.prefix}/")), None)


def safe_next(url: str | None, site: Site = WORKBENCH) -> str:
    """Only our own pages (workbench or portal) are followed after login (no open redirect);
    anything else goes to ``site``'s home."""
    home = f"{site.prefix}/"
    if not url:
        return home
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or site_of_path(parts.path) is None or "\\" in url:
        return home
    return url


def site_of(request: Request) -> Site:
    """The site serving a request (by where its app is mounted)."""
    return site_of_path(str(request.scope.get("root_path", ""))) or WORKBENCH


def set_session(ctx: WebContext, pair: Tokens) -> None:
    ctx.cookies[ACCESS_COOKIE] = (pair.access_token, ctx.settings.jwt_refresh_ttl_s)
    ctx.cookies[REFRESH_COOKIE] = (pair.refresh_token, ctx.settings.jwt_refresh_ttl_s)


def clear_session(ctx: WebContext) -> None:
    ctx.cookies[ACCESS_COOKIE] = ("", 0)
    ctx.cookies[REFRESH_COOKIE] = ("", 0)


def client_ip(request: Request) -> str:
    """The caller's address, for the login's and the registration's rate limits."""
    return request.client.host if request.client else ""


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def bare_context(request: Request, settings: Settings) -> WebContext:
    """A page request before its session is read (error pages, redirects to login)."""
    return WebContext(
        request=request, settings=settings, lang=language_of(request), site=site_of(request)
    )


async def get_web_context(
    request: Request, settings: SettingsDep, session: SessionDep
) -> WebContext:
    """Who is asking: the access token from the cookie, renewed through the refresh rotation
    when it has expired (a replayed refresh token revokes the family)."""
    ctx = bare_context(request, settings)
    access = request.cookies.get(ACCESS_COOKIE)
    principal = principal_from_token(settings, access) if access else None
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if principal is None and refresh_token:
        try:
            pair = await auth.refresh(session, settings, refresh_token)
        except Refusal:
            clear_session(ctx)
        else:
            set_session(ctx, pair)
            principal = principal_from_token(settings, pair.access_token)
    if principal is not None:
        account = await auth.current_account(session, principal)
        if account is None:  # logged out elsewhere, revoked or deactivated
            clear_session(ctx)
            principal = None
        else:
            ctx.display_name = account.display_name or account.username
    ctx.principal = principal
    return ctx


Web = Annotated[WebContext, Depends(get_web_context)]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def checked_form(request: Request, ctx: Web) -> FormData:
    """The POSTed form, once its CSRF token matches the browser's nonce and its Origin is ours."""
    form = await request.form()
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = str(form.get(CSRF_FIELD, ""))
    expected = csrf_token_for(ctx.settings, nonce) if nonce else ""
    if not nonce or not hmac.compare_digest(sent, expected) or not _same_origin(request):
        raise PageError(400, "error.csrf")
    return form


Form = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str, max_length: int = 2000) -> str:
    """A trimmed form field (files are not accepted here)."""
    value = form.get(name, "")
    return value.strip()[:max_length] if isinstance(value, str) else ""


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def record_id(value: str) -> uuid.UUID:
    """A record's id from a path; anything else is a page not found."""
    ident = parse_uuid(value)
    if ident is None:
        raise PageError(404, "error.not_found")
    return ident
