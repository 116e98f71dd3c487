"""Without the CJK font no PDF is made: the renderer and `loanbridge doctor` name the package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
