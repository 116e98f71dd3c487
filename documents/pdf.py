"""Render ``templates/pdf/<template>.html`` to PDF bytes with WeasyPrint, embedding a CJK font."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import jinja2
import structlog
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from documents.environment import shared_environment, template_root
from documents.fonts import font_face_css, require_cjk_font, subset_coverage

log = structlog.get_logger("loanbridge.documents")

# Template names become file paths: keep them to plain identifiers.
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class _Styles:
    """The page stylesheet parsed once, with the font configuration its ``@font-face`` rules
    (the pre-subset CJK faces) are registered in; WeasyPrint needs both for every document."""

    fonts: FontConfiguration
    sheet: CSS


_local = threading.local()


def _styles() -> _Styles:
    """This thread's parsed stylesheet (one per thread: WeasyPrint's objects are not shared
    across threads; a renderer process has one thread)."""
    styles: _Styles | None = getattr(_local, "styles", None)
    if styles is None:
        fonts = FontConfiguration()
        root = template_root()
        text = font_face_css() + (root / "pdf" / "base.css").read_text(encoding="utf-8")
        sheet = CSS(string=text, base_url=str(root / "pdf") + "/", font_config=fonts)
        styles = _local.styles = _Styles(fonts, sheet)
    return styles


def _outside_subset(html: str) -> str:
    """The characters of ``html`` the subset faces lack (drawn from the system font)."""
    covered = subset_coverage()
    return "".join(sorted({c for c in html if c not in covered and not c.isspace()}))


def render_pdf(template: str, context: Mapping[str, object]) -> bytes:
    """Render a PDF template with ``context`` and return the document's bytes.

    Blocking (about a sixth of a CPU-second for a two-page offer letter): async callers use
    ``asyncio.to_thread``. Each call builds its own WeasyPrint document; the parsed stylesheet
    and its font configuration are kept per thread, so concurrent calls share no mutable state.
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
    outside = _outside_subset(html)
    if outside:
        log.warning("pdf_font_fallback", template=template, characters=outside[:40])
    styles = _styles()
    pdf: bytes | None = HTML(string=html, base_url=str(template_root())).write_pdf(
        stylesheets=[styles.sheet], font_config=styles.fonts
    )
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
    """Load the templates, the stylesheet and the CJK fonts once (a renderer process calls it
    at start; the first call in a new cache folder builds the font subset)."""
    require_cjk_font()
    styles = _styles()
    HTML(string='<html lang="zh"><body>贷款 <b>loan</b></body></html>').write_pdf(
        stylesheets=[styles.sheet], font_config=styles.fonts
    )
    subset_coverage()
    shared_environment()
