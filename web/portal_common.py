"""What the applicant portal's page modules share: the logged-in applicant, the unread badge,
the page number of a list, a form's field problems in the page's language and a PDF answer."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.responses import Response

from domain.errors import FieldIssue
from domain.roles import Role
from gateway.deps import SessionDep
from services import notifications
from services.principal import Principal
from web.core import WebContext

PAGE_SIZE = 20


def applicant(ctx: WebContext) -> Principal:
    """The logged-in applicant (staff have the workbench: 403 here)."""
    return ctx.require(Role.APPLICANT)


def page_number(value: str) -> int:
    """A list's page from the query (1 for anything else)."""
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


async def unread_notices(ctx: WebContext, session: SessionDep) -> int:
    """How many of the enterprise's notices are unread (the navigation's badge)."""
    return await notifications.unread_count(session, applicant(ctx))


def field_messages(ctx: WebContext, issues: Iterable[FieldIssue]) -> dict[str, str]:
    """Each field's first problem in the page's language."""
    found: dict[str, str] = {}
    for problem in issues:
        message = problem.message_zh if ctx.lang == "zh" else problem.message_en
        found.setdefault(problem.field, message)
    return found


def pdf_response(content: bytes, name: str, *, download: bool) -> Response:
    """A PDF of ours: downloaded, or shown in the page's own frame (never another site's)."""
    disposition = "attachment" if download else "inline"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "Content-Security-Policy": "frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Referrer-Policy": "same-origin",
        },
    )
