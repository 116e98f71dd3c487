"""What a person reads of a recorded event: its fields in words (amounts in ¥, rates in %,
codes by their labels), and a code's label from whichever vocabulary knows it. Ids, hashes and
keys are left to the record itself. The workbench's case pages and the audit timeline's PDF
export read events through it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.formats import money, percent
from domain.labels import Vocabulary, first_label, label, reasons_text

# Where a workflow's stage or status search attribute's value may come from (any process's).
STATUS_VOCABULARIES = (
    Vocabulary.APPLICATION_STAGE,
    Vocabulary.DEMAND_STATUS,
    Vocabulary.ENTERPRISE_STATUS,
    Vocabulary.LOAN_STATUS,
    Vocabulary.WORKFLOW_STATUS,
)
# What a timeline entry's outcome may be: a step's, a task's outcome or a task's state.
OUTCOME_VOCABULARIES = (Vocabulary.OUTCOME, Vocabulary.TASK_OUTCOME, Vocabulary.TASK_STATE)


_MONEY = frozenset(
    {"amount", "principal", "outstanding", "proposed_amount", "indicative_amount", "amount_due"}
)
_RATES = frozenset({"rate", "apr", "pd", "proposed_rate", "indicative_rate", "annual_rate"})
_MONTHS = frozenset({"term_months", "extra_months", "proposed_term_months"})
_COUNTS = frozenset({"round", "episode", "days_past_due", "score", "grade", "questions"})
_TEXT = frozenset({"question", "answer", "comment", "typed_name"})
_CODES: dict[str, tuple[Vocabulary, ...]] = {
    "decision": (
        Vocabulary.CREDIT_DECISION,
        Vocabulary.CREDIT_ACTION,
        Vocabulary.APPLICATION_STAGE,
        Vocabulary.TASK_OUTCOME,
    ),
    "outcome": (
        Vocabulary.TASK_OUTCOME,
        Vocabulary.APPLICATION_STAGE,
        Vocabulary.CREDIT_ACTION,
        Vocabulary.OUTCOME,
    ),
    "stage": (Vocabulary.APPLICATION_STAGE, Vocabulary.ENTERPRISE_STATUS),
    "required_role": (Vocabulary.ROLE,),
    "role": (Vocabulary.ROLE,),
    "authority": (Vocabulary.AUTHORITY,),
    "category": (Vocabulary.RISK_CATEGORY,),
    "previous": (Vocabulary.RISK_CATEGORY,),
    "repayment_method": (Vocabulary.REPAYMENT_METHOD,),
    "method": (Vocabulary.REPAYMENT_METHOD,),
}
_SHOWN = frozenset(
    {*_MONEY, *_RATES, *_MONTHS, *_COUNTS, *_TEXT, *_CODES, "reason", "reasons", "materials"}
    | {"restructuring"}
)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _value(key: str, value: object, lang: str) -> str | None:
    """One field's value in words, or None when it is not for a person (ids, hashes, keys)."""
    if key in _MONEY:
        amount = _decimal(value)
        return money(amount) if amount is not None else None
    if key in _RATES:
        rate = _decimal(value)
        return percent(rate) if rate is not None else None
    if key in _MONTHS:
        return f"{value} months" if lang == "en" else f"{value} 个月"
    if key in _COUNTS or key in _TEXT:
        return str(value)
    if key in _CODES:
        code, _, words = str(value).partition(": ")  # "declined: 现金流不足" (a person's reason)
        named = first_label(code, _CODES[key], lang)
        return (
            f"{named}: {words}"
            if words and lang == "en"
            else f"{named}：{words}"
            if words
            else named
        )
    if key in ("reason", "reasons"):
        return reasons_text(str(value), lang)
    if key == "materials":
        parts = [p for p in str(value).replace("、", ",").split(",") if p]
        return ("、" if lang != "en" else ", ").join(
            label(Vocabulary.MATERIAL, p.strip(), lang) for p in parts
        )
    if key == "restructuring":
        yes = str(value).lower() in ("true", "1", "yes")
        return ("Yes" if yes else "No") if lang == "en" else ("是" if yes else "否")
    return None


def event_details(details: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """The fields of an event a person reads, in words (nested ``inputs`` flattened); ids,
    hashes, keys and unknown fields are left to the compliance timeline."""
    flat: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat.setdefault(str(inner), inner_value)
        else:
            flat[key] = value
    shown: list[tuple[str, str]] = []
    for key, value in flat.items():
        if value in (None, "", [], {}) or key not in _SHOWN:
            continue
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        text = _value(key, value, lang)
        if text:
            shown.append((label(Vocabulary.FIELD, key, lang), text))
    return shown


def event_details_both(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """:func:`event_details` for a bilingual document: ``("金额 Amount", "¥1,000.00")``, a
    code's value in both languages (``等额本息 Equal installments``)."""
    pairs = zip(event_details(details, "zh"), event_details(details, "en"), strict=True)
    return [
        (f"{key_zh} {key_en}", value_zh if value_zh == value_en else f"{value_zh} {value_en}")
        for (key_zh, value_zh), (key_en, value_en) in pairs
    ]
