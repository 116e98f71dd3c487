"""The shared jinja2 environment for every LoanBridge document: template root, escaping, filters."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import jinja2

from domain import formats
from domain.formats import money as money
from domain.formats import percent as percent
from domain.labels import Vocabulary, bilingual, first_known, known, period_label


def template_root() -> Path:
    """The repository's top-level ``templates/`` folder (a sibling of this package)."""
    return Path(__file__).resolve().parent.parent / "templates"


def date_zh(day: date) -> str:
    """Write a date the Chinese way, without zero padding: 2026-01-05 → ``"2026年1月5日"``."""
    return f"{day.year}年{day.month}月{day.day}日"


def both(vocabulary: str, code: str) -> str:
    """A code's Chinese and English labels, for bilingual documents: ``正常 Normal``."""
    return bilingual(vocabulary, code)


def both_known(vocabulary: str, code: str) -> str:
    """:func:`both` for a code the catalogue knows, else the name as it was given (a custom
    training set's own column names, which no catalogue can know)."""
    return both(vocabulary, code) if known(vocabulary, code) else code


def both_first(code: str, vocabularies: Sequence[str]) -> str:
    """:func:`both` from the first vocabulary that knows ``code`` (an outcome may be a task's
    or a step's); else a recorded miss of the first."""
    return both(first_known(code, vocabularies), code)


def actor_both(actor: str | None, role: str | None) -> str:
    """Who acted, for a bilingual document: ``徐明娜（信贷审批员 Credit officer）`` (the audit
    names people ``username (role)``), the credit model by its version, the platform itself
    as ``系统 System``."""
    name = actor or ""
    if role:
        return f"{name.removesuffix(f' ({role})')}（{both(Vocabulary.ROLE, role)}）"
    kind, _, detail = name.partition(":")
    if kind == "model" and detail:
        return f"{both(Vocabulary.ROLE, 'credit_model')} {detail}"
    if name in ("", "system") or kind == "system":
        return both(Vocabulary.ROLE, "system")
    return name


def period_both(kind: str, start: date) -> str:
    """A report period in both languages: ``2026年第4季度 Q4 2026``."""
    return f"{period_label(kind, start, 'zh')} {period_label(kind, start, 'en')}"


def beijing(instant: datetime | str, note: bool = True) -> str:
    """An instant (or its ISO text) in Beijing time: ``2026-12-07 21:34（北京时间）``; without
    the note where a column's heading says it already."""
    return formats.beijing(instant) + ("（北京时间）" if note else "")


def make_environment() -> jinja2.Environment:
    """A new environment over ``template_root()``: HTML autoescaped, undefined names are errors."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_root()),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    environment.filters["money"] = money
    environment.filters["percent"] = percent
    environment.filters["date_zh"] = date_zh
    environment.filters["beijing"] = beijing
    environment.globals["both"] = both
    environment.globals["both_first"] = both_first
    environment.globals["both_known"] = both_known
    environment.globals["actor_both"] = actor_both
    environment.globals["period_both"] = period_both
    return environment


@functools.cache
def shared_environment() -> jinja2.Environment:
    """One environment per process, built on first use; rendering from threads is safe."""
    return make_environment()
