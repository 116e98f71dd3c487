"""How the CLI shows things to people: words for machine codes, ¥ amounts, rates and Beijing time.

Every machine code the CLI prints (a stage, a status, a kind, a reason) goes through
:func:`label`, so the platform's label catalogue (``domain.labels``) decides the words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from api.schemas import MaterialOut
from domain import formats
from domain.formats import money as money
from domain.labels import Vocabulary, bilingual, first_known, period_label, reasons_text
from domain.statements import LINES


def label(vocabulary: str, code: str) -> str:
    """The words for ``code`` of ``vocabulary`` from the platform's label catalogue, Chinese
    then English (``已放款 Paid out``); a code the catalogue does not know is shown as it is
    (and recorded by the catalogue, so a test finds it)."""
    return bilingual(vocabulary, code)


def labels(vocabulary: str, codes: Sequence[str]) -> str:
    """Several codes of one vocabulary in words, separated by commas; ``无 none`` if empty."""
    return ", ".join(label(vocabulary, c) for c in codes) if codes else "无 none"


def to_type(vocabulary: str, codes: Sequence[str]) -> str:
    """Codes a person types next, each with its words, for the command that takes them:
    ``id_back (法定代表人身份证国徽面 ID card, emblem side); business_licence (营业执照 …)``."""
    return "; ".join(f"{code} ({label(vocabulary, code)})" for code in codes)


def first_label(code: str, vocabularies: Sequence[str]) -> str:
    """The words for ``code`` from the first vocabulary that knows it (a stage or status a
    search attribute holds may be any process's); else a recorded miss of the first."""
    return label(first_known(code, vocabularies), code)


def reasons(text: str, vocabulary: str = Vocabulary.REASON) -> str:
    """A reason as the API gives it: comma-separated codes of ``vocabulary`` in words (Chinese,
    then English), a person's own words as they are."""
    zh, en = reasons_text(text, "zh", vocabulary), reasons_text(text, "en", vocabulary)
    return zh if zh == en else f"{zh} / {en}"


def stage_reason(stage: str, reason: str) -> str:
    """Why an application is at ``stage``: the missing materials while materials are asked
    for (the workflow gives their codes), the reason codes otherwise."""
    vocabulary = Vocabulary.MATERIAL if stage == "materials_requested" else Vocabulary.REASON
    return reasons(reason, vocabulary)


def person(name: str, role: str | None) -> str:
    """Someone who acted, by name and role in words: ``徐明娜（信贷审批员 Credit officer）``."""
    return f"{name}（{label(Vocabulary.ROLE, role)}）" if role else name


def period(kind: str, start: date) -> str:
    """A report period as people say it: ``2026年10月 October 2026``."""
    zh, en = period_label(kind, start, "zh"), period_label(kind, start, "en")
    return f"{zh} {en}"


def percent(fraction: Decimal | str | None) -> str:
    """A rate given as a fraction, as a percentage: ``0.041234`` → ``4.12%``; ``—`` when absent;
    text that is not a number as it is."""
    try:  # half to even, as the CLI has always rounded
        return formats.percent(fraction, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return str(fraction)


def beijing(instant: datetime | str | None) -> str:
    """An instant in Beijing time (Asia/Shanghai), to the minute: ``2030-01-31 08:00``."""
    if instant is None or instant == "":
        return formats.ABSENT
    return formats.beijing(instant)


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cell(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (never cut), so tables with
    Chinese words line up."""
    return text + " " * max(0, columns - width(text))


def statement_lines(material: MaterialOut) -> list[str]:
    """What was read from a financial statement file: its key figures in yuan and each
    problem naming its line, or why it was not read."""
    statement = material.statement
    if statement is None:
        return []
    lines: list[str] = []
    if statement.parsed:
        unit = f"unit 单位 {statement.unit}" + (f", {statement.year}" if statement.year else "")
        shown = [
            f"{LINES[key][0]} {money(value)}"
            for key, value in statement.figures.items()
            if key in LINES
        ]
        lines.append(f"statement read 报表已读取 ({unit}): " + "; ".join(shown))
    lines += [f"! {p.message_zh} / {p.message_en} [{p.code}]" for p in statement.problems]
    return lines
