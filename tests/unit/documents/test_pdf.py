"""PDF rendering: the verification certificate embeds a Noto CJK font and carries its text."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import jinja2
import pytest

from documents.environment import shared_environment
from documents.pdf import render_pdf

CERTIFICATE_CONTEXT: dict[str, object] = {
    "enterprise_name": "杭州云桥科技有限公司",
    "uscc": "91330106MA2B3C4D5E",
    "verified_on": date(2026, 11, 28),
    "certificate_no": "LB-VC-2026-000123",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}

needs_poppler = pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdffonts, pdftotext) not installed",
)


@pytest.fixture(scope="module")
def certificate_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certificate rendered once for the module (a render costs up to seconds)."""
    path = tmp_path_factory.mktemp("pdf") / "verification_certificate.pdf"
    path.write_bytes(render_pdf("verification_certificate", CERTIFICATE_CONTEXT))
    return path


def test_certificate_is_a_pdf(certificate_pdf: Path) -> None:
    assert certificate_pdf.read_bytes().startswith(b"%PDF-")


@needs_poppler
def test_certificate_embeds_a_noto_cjk_font(certificate_pdf: Path) -> None:
    listing = subprocess.run(
        ["pdffonts", str(certificate_pdf)], capture_output=True, text=True, check=True
    ).stdout
    # Columns: name type encoding emb sub uni object-id; the type may hold spaces.
    embedded_cjk = [
        line.split()[0]
        for line in listing.splitlines()[2:]
        if "Noto" in line and "CJK" in line and line.split()[-5] == "yes"
    ]
    assert embedded_cjk, listing
    assert all(name.count("+") == 1 for name in embedded_cjk)  # subset, not the whole face


@needs_poppler
def test_certificate_text_holds_the_enterprise_chinese_name(certificate_pdf: Path) -> None:
    text = subprocess.run(
        ["pdftotext", str(certificate_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    compact = "".join(text.split())
    assert "杭州云桥科技有限公司" in compact
    assert "91330106MA2B3C4D5E" in compact
    assert "LB-VC-2026-000123" in compact
    assert "第1页/共1页" in compact  # the footer margin box


def test_certificate_html_escapes_the_context() -> None:
    html = (
        shared_environment()
        .get_template("pdf/verification_certificate.html")
        .render({**CERTIFICATE_CONTEXT, "enterprise_name": "<script>x</script>"})
    )
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "2026年11月28日" in html


@pytest.mark.parametrize("template", ["no_such_template", "base", "../notify/otp_code.zh"])
def test_unknown_pdf_template_raises_lookup_error(template: str) -> None:
    with pytest.raises(LookupError, match="unknown PDF template"):
        render_pdf(template, CERTIFICATE_CONTEXT)


def test_missing_context_variable_raises_before_rendering() -> None:
    context = {key: value for key, value in CERTIFICATE_CONTEXT.items() if key != "uscc"}
    with pytest.raises(jinja2.UndefinedError):
        render_pdf("verification_certificate", context)
