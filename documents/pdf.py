"""Render ``templates/pdf/<template>.html`` to PDF bytes with WeasyPrint, embedding a CJK font."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

import jinja2
import structlog
from weasyprint import HTML

from documents.environment import shared_environment, template_root
from documents.fonts import require_cjk_font

log = structlog.get_logger("loanbridge.documents")

# Template names become file paths: keep them to plain identifiers.
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def render_pdf(template: str, context: Mapping[str, object]) -> bytes:
    """Render a PDF template with ``context`` and return the document's bytes.

    Blocking (about a fifth of a second per page): async callers use ``asyncio.to_thread``.
    Each call builds its own WeasyPrint document, so concurrent calls share no mutable state.
    Raises ``LookupError`` for an unknown template, ``jinja2.UndefinedError`` when the
    context lacks a variable the template uses, and ``MissingFontError`` (naming the Debian
    package) when the CJK font is not installed: a PDF of boxes is never produced.
    """
    require_cjk_font()
    if not _TEMPLATE_NAME.fullmatch(template) or template == "base":
        raise LookupError(f"unknown PDF template {template!r}")
    path = f"pdf/{template}.html"
    try:
        compiled = shared_environment().get_template(path)
    except jinja2.TemplateNotFound:
        raise LookupError(f"unknown PDF template {template!r} (no templates/{path})") from None
    started = time.perf_counter()
    html = compiled.render(context)
    pdf: bytes | None = HTML(string=html, base_url=str(template_root())).write_pdf()
    if pdf is None:  # write_pdf returns None only when given a target
        raise RuntimeError("WeasyPrint returned no PDF bytes")
    log.debug(
        "pdf_rendered",
        template=template,
        size_bytes=len(pdf),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    return pdf


def warm_up() -> None:
    """Load the templates and the CJK fonts once (a renderer process calls it at start)."""
    require_cjk_font()
    HTML(
        string='<html lang="zh"><body style="font-family: \'Noto Sans CJK SC\'">贷款 loan</body>'
        "</html>"
    ).write_pdf()
    shared_environment()
