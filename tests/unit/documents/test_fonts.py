"""Without the CJK font no PDF is made: the renderer and `loanbridge doctor` name the package."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog

from documents import fonts
from documents.fonts import MissingFontError, find_cjk_font
from documents.pdf import render_pdf


def test_the_installed_cjk_font_is_found() -> None:
    found = find_cjk_font()
    assert found is not None and "NotoSansCJK" in found


@pytest.fixture
def no_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """fontconfig with no font directory at all, as on a machine without fonts-noto-cjk."""
    config = tmp_path / "fonts.conf"
    config.write_text(f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    fonts._checked.cache_clear()
    yield
    fonts._checked.cache_clear()


@pytest.mark.usefixtures("no_fonts")
def test_without_the_font_no_pdf_is_rendered_and_the_package_is_named() -> None:
    assert find_cjk_font() is None
    with pytest.raises(MissingFontError) as refused:
        render_pdf("offer_letter", {})
    message = str(refused.value)
    assert "fonts-noto-cjk" in message and "Noto Sans CJK" in message
    assert "\n" not in message


# ---- the pre-subset face (GB 2312) ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
# Everything a PDF can print that the code itself writes: the PDF templates and stylesheet,
# the label and region catalogues, the documents package's own words (北京时间 …).
PRINTED_SOURCES = (
    "templates/pdf/*.html",
    "templates/pdf/*.css",
    "domain/labels/*.po",
    "documents/*.py",
)


def test_the_subset_covers_every_character_the_templates_and_catalogues_print() -> None:
    covered = fonts.subset_coverage()
    files = [path for pattern in PRINTED_SOURCES for path in sorted(ROOT.glob(pattern))]
    assert len(files) > 15
    missing = {
        str(path.relative_to(ROOT)): "".join(
            sorted({c for c in path.read_text(encoding="utf-8") if c not in covered})
        )
        for path in files
    }
    assert {name: chars for name, chars in missing.items() if chars.strip()} == {}


def test_the_subset_is_gb2312_and_much_smaller_than_the_system_font() -> None:
    covered = fonts.subset_coverage()
    assert {"贷", "款", "¥", "￥", "（", "）", "：", "、", "…", "×", "A", "9"} <= covered
    assert len(covered) > 7000
    for path in fonts.subset_faces().values():
        assert path.parent == fonts.font_cache_dir()
        assert path.stat().st_size < 6_000_000  # the collection it comes from: 19 MB


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_a_character_outside_the_subset_is_drawn_from_the_system_font_with_a_warning(
    tmp_path: Path,
) -> None:
    rare = "堃"  # GBK, not GB 2312: a name can hold it
    assert rare not in fonts.subset_coverage()
    context = {
        "enterprise_name": f"杭州{rare}桥科技有限公司",
        "uscc": "91330106MA2B3C4D5E",
        "verified_on": date(2026, 11, 28),
        "certificate_no": "LB-VC-2026-000123",
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }
    with structlog.testing.capture_logs() as logs:
        pdf = render_pdf("verification_certificate", context)
    warned = [entry for entry in logs if entry["event"] == "pdf_font_fallback"]
    assert warned and warned[0]["characters"] == rare
    path = tmp_path / "rare.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    names = [row.split()[0].partition("+")[2] for row in listing.splitlines()[2:]]
    # The subset for the rest, the system face (subset by WeasyPrint) for 堃: both embedded.
    assert set(names) == {
        "Noto-Sans-CJK-SC-GB2312",
        "Noto-Sans-CJK-SC-GB2312-Bold",
        "Noto-Sans-CJK-SC",
    }, listing
    assert all(row.split()[-5] == "yes" for row in listing.splitlines()[2:]), listing
