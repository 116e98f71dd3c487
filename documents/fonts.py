"""The CJK font every Chinese document needs: without it WeasyPrint draws boxes, silently."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import structlog

CJK_FAMILY = "Noto Sans CJK"
DEBIAN_PACKAGE = "fonts-noto-cjk"
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

log = structlog.get_logger("loanbridge.documents")


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


# ---- the pre-subset face the PDFs embed ------------------------------------------------------
#
# WeasyPrint subsets every embedded font per document with harfbuzz: from the 19 MB Noto Sans
# CJK collection that is about a fifth of an offer letter's CPU time (two faces per letter,
# the collection read and subset again each time). The PDFs use a subset of it instead, made
# once with fontTools and kept in a cache folder: the GB 2312 character set (6,763 hanzi and
# its symbols) plus ASCII, Latin-1, general punctuation, CJK symbols and the full-width forms.
# A character outside it (a rare hanzi in a name) falls back to the system font, per glyph,
# through the stylesheet's font-family list, and ``documents.pdf`` logs a warning.

SUBSET_FAMILY = "Noto Sans CJK SC GB2312"  # the name the PDFs embed it by
SUBSET_VERSION = "gb2312-v2"  # change it when the character set below changes
SUBSET_WEIGHTS = ("Regular", "Bold")
_SOURCE_FAMILY = "Noto Sans CJK SC"
_EXTRA_RANGES = (
    (0x20, 0x7F),  # ASCII
    (0xA0, 0x100),  # Latin-1: ¥ × · ° ±
    (0x2000, 0x2070),  # general punctuation: – — ‘ ’ “ ” … ‰ ※
    (0x2100, 0x2200),  # letterlike symbols, number forms, arrows: № ℃ Ⅰ → ↑
    (0x2200, 0x2300),  # mathematical operators: − ≤ ≥
    (0x2460, 0x2500),  # enclosed alphanumerics ① ②
    (0x3000, 0x3040),  # CJK symbols and punctuation: 、。〈〉《》「」【】〔〕
    (0xFF00, 0xFFF0),  # half-width and full-width forms: （）：；，０-９ ￥
)


# Hanzi outside GB 2312 that the catalogues print: district names of domain/labels/regions.zh.po
# (埇桥区, 浉河区, 瀍河区, 猇亭区, 硚口区). tests/unit/documents/test_fonts.py checks that every
# character of the PDF templates and the label and region catalogues is in the subset.
_EXTRA_CHARACTERS = "埇浉瀍猇硚"


def subset_codepoints() -> frozenset[int]:
    """The characters the subset asks for (the source font may lack a few of them)."""
    wanted: set[int] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                wanted.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    for start, stop in _EXTRA_RANGES:
        wanted.update(range(start, stop))
    wanted.update(ord(character) for character in _EXTRA_CHARACTERS)
    return frozenset(wanted)


def font_cache_dir() -> Path:
    """``$LOANBRIDGE_FONT_CACHE``, else ``$XDG_CACHE_HOME/loanbridge/fonts`` (``~/.cache``)."""
    explicit = os.environ.get("LOANBRIDGE_FONT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loanbridge" / "fonts"


def _source_face(style: str) -> tuple[Path, int]:
    """The file and collection index of Noto Sans CJK SC in ``style`` (fontconfig's answer)."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        listed = subprocess.run(
            [fc_list, f":family={_SOURCE_FAMILY}:style={style}", "file", "index"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        for line in sorted(listed.splitlines()):
            file, _, rest = line.partition(": ")
            index = rest.rpartition("index=")[2].strip()
            if file and index.isdigit():
                return Path(file), int(index)
    for root in _FONT_DIRS:
        for found in sorted(root.rglob(f"NotoSansCJK-{style}.tt[cf]")) if root.is_dir() else ():
            return found, 2 if found.suffix == ".ttc" else 0  # SC is the third in the collection
    raise MissingFontError(missing_font_message())


def _subset_path(source: Path, index: int, style: str) -> Path:
    stat = source.stat()
    facts = f"{SUBSET_VERSION}:{source}:{index}:{stat.st_size}:{stat.st_mtime_ns}"
    key = hashlib.sha256(facts.encode()).hexdigest()[:16]
    return font_cache_dir() / f"loanbridge-sans-cjk-{style.lower()}-{key}.otf"


def _build_subset(source: Path, index: int, target: Path) -> None:
    """Subset ``source`` to :func:`subset_codepoints` into ``target`` (atomically, once even
    when several processes start together: the first builds under a lock, the rest wait)."""
    from fontTools import subset  # imported only to build: a few hundred ms
    from fontTools.ttLib import TTFont

    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return
        started = time.perf_counter()
        font = TTFont(str(source), fontNumber=index)
        options = subset.Options()
        options.layout_features = ["*"]  # vertical forms, proportional digits, kerning
        options.name_IDs = ["*"]  # the embedded font keeps its name: NotoSansCJKsc-Regular
        options.name_languages = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=subset_codepoints())
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(partial))
        os.replace(partial, target)
        log.info(
            "cjk_font_subset_built",
            path=str(target),
            size_bytes=target.stat().st_size,
            duration_s=round(time.perf_counter() - started, 1),
        )


@functools.cache
def subset_faces() -> dict[str, Path]:
    """The subset faces by style (``Regular``, ``Bold``), built on first use and cached on
    disk across processes. Raises ``MissingFontError`` without the system font."""
    require_cjk_font()
    faces: dict[str, Path] = {}
    for style in SUBSET_WEIGHTS:
        source, index = _source_face(style)
        target = _subset_path(source, index, style)
        if not target.exists():
            _build_subset(source, index, target)
        faces[style] = target
    return faces


@functools.cache
def subset_coverage() -> frozenset[str]:
    """The characters every subset face has a glyph for."""
    from fontTools.ttLib import TTFont

    covered: set[int] | None = None
    for path in subset_faces().values():
        cmap = set(TTFont(str(path), lazy=True)["cmap"].getBestCmap())
        covered = cmap if covered is None else covered & cmap
    return frozenset(chr(point) for point in covered or ())


def font_face_css() -> str:
    """The ``@font-face`` rules of the subset faces (the stylesheet lists them first)."""
    rules = []
    for style, path in subset_faces().items():
        weight = "bold" if style == "Bold" else "normal"
        rules.append(
            f'@font-face {{ font-family: "{SUBSET_FAMILY}"; font-weight: {weight}; '
            f'src: url("{path.as_uri()}"); }}'
        )
    return "\n".join(rules) + "\n"


if __name__ == "__main__":  # ``python -m documents.fonts``: build the subset at install
    for built_style, built_path in subset_faces().items():
        print(f"{built_style}: {built_path}")
