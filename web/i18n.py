"""The words of the workbench and the portal in Chinese and English, looked up by key in the
Babel message catalogues ``web/locale/ui.<lang>.po`` (Chinese is the default)."""

from __future__ import annotations

import functools
from pathlib import Path

from domain.labels import read_catalogue

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
CATALOGUE_DIR = Path(__file__).resolve().parent / "locale"


@functools.cache
def messages() -> dict[str, tuple[str, str]]:
    """Every key → (Chinese, English) text; a key missing from the English catalogue has ""
    there (the catalogue test fails on it)."""
    zh, en = (read_catalogue(CATALOGUE_DIR / f"ui.{lang}.po") for lang in LANGUAGES)
    english = {key: text for (_, key), text in en.items()}
    return {key: (text, english.get(key, "")) for (_, key), text in zh.items()}


def translate(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang``; an unknown key shows itself (visible in review)."""
    pair = messages().get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text
