"""How the CLI shows things to people: words for machine codes, ¥ amounts, rates and Beijing time.

Every machine code the CLI prints (a stage, a status, a kind, a reason) goes through
:func:`label`, so one catalogue decides the words; until the platform's shared catalogue is
wired in here, a small table of the codes the CLI shows stands in for it. Its vocabularies are
named as the catalogue's (``domain.labels.Vocabulary``), so wiring it in is one function.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.calendar import BUSINESS_TZ
from domain.labels import label as catalogue_label
from domain.labels import reasons_text
from domain.money import to_fen


def label(vocabulary: str, code: str) -> str:
    """The words for ``code`` of ``vocabulary`` from the platform's label catalogue, Chinese
    then English (``已放款 Paid out``); a code the catalogue does not know is shown as it is
    (and recorded by the catalogue, so a test finds it)."""
    zh, en = catalogue_label(vocabulary, code, "zh"), catalogue_label(vocabulary, code, "en")
    if zh == en:
        return zh
    return f"{zh} {en}"


def labels(vocabulary: str, codes: Sequence[str]) -> str:
    """Several codes of one vocabulary in words, separated by commas; ``无 none`` if empty."""
    return ", ".join(label(vocabulary, c) for c in codes) if codes else "无 none"


def reasons(text: str) -> str:
    """A reason as the API gives it: comma-separated reason codes in words (Chinese, then
    English), a person's own words as they are."""
    zh, en = reasons_text(text, "zh"), reasons_text(text, "en")
    return zh if zh == en else f"{zh} / {en}"


def money(amount: Decimal | int | str | None) -> str:
    """¥ with thousands separators, to the fen: ``¥1,234,567.80``; ``—`` when absent."""
    if amount is None or amount == "":
        return "—"
    fen = to_fen(Decimal(amount))
    return f"{'-' if fen < 0 else ''}¥{abs(fen):,.2f}"


def percent(fraction: Decimal | str | None) -> str:
    """A rate given as a fraction, as a percentage: ``0.041234`` → ``4.12%``; ``—`` when absent."""
    if fraction is None or fraction == "":
        return "—"
    try:
        return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01'))}%"
    except InvalidOperation:
        return str(fraction)


def beijing(instant: datetime | str | None) -> str:
    """An instant in Beijing time (Asia/Shanghai), to the minute: ``2030-01-31 08:00``."""
    if instant is None or instant == "":
        return "—"
    when = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    if when.tzinfo is None:  # the API speaks UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cell(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (never cut), so tables with
    Chinese words line up."""
    return text + " " * max(0, columns - width(text))
