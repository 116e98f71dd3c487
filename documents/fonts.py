"""The CJK font every Chinese document needs: without it WeasyPrint draws boxes, silently."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

CJK_FAMILY = "Noto Sans CJK"
DEBIAN_PACKAGE = "fonts-noto-cjk"
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


class MissingFontError(RuntimeError):
    """The CJK font is not installed; the message says which package brings it."""


def missing_font_message() -> str:
    return (
        f"the CJK font {CJK_FAMILY} is not installed, Chinese text would print as boxes: "
        f"install the Debian package {DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE})"
    )


def find_cjk_font() -> str | None:
    """Where fontconfig finds Noto Sans CJK (the families ``fc-list`` names), else None.

    Without ``fc-list`` the usual font directories are searched for its files."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        listed = subprocess.run(
            [fc_list, ":lang=zh", "family", "file"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        for line in listed.splitlines():
            if CJK_FAMILY in line:
                return line.split(":", 1)[0]
        return None
    for root in _FONT_DIRS:
        for found in root.rglob("NotoSansCJK*") if root.is_dir() else ():
            return str(found)
    return None


@functools.cache
def _checked() -> str | None:
    return find_cjk_font()


def require_cjk_font() -> None:
    """Refuse to render without the CJK font (checked once per process)."""
    if _checked() is None:
        raise MissingFontError(missing_font_message())
