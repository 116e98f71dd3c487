"""Loan extension (贷款展期) limits under the General Rules on Loans (贷款通则, 1996) art. 12.

Public API:

- ``TermClass``: short (短期, ≤ 12 months), medium (中期, 13–60), long (长期, > 60).
- ``term_class(original_term_months)``.
- ``max_cumulative_extension_months(original_term_months)``: the original term for a short
  loan, half of it rounded down to whole months for a medium loan (a 25-month loan may be
  extended by 12), 36 months for a long loan.
- ``check_extension(...)``: issues with an extension request (empty when allowed).
- ``RestructuringObservation`` / ``restructuring_observation(...)``: an extension granted
  because of the borrower's financial difficulty is a restructuring (重组) and is watched
  for at least two repayment periods and at least one year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import FieldIssue, issue

SHORT_TERM_MAX_MONTHS = 12
MEDIUM_TERM_MAX_MONTHS = 60
LONG_TERM_EXTENSION_CAP_MONTHS = 36
OBSERVATION_MIN_MONTHS = 12
OBSERVATION_MIN_PERIODS = 2


class TermClass(StrEnum):
    """Loan term class by the original contract term."""

    SHORT = "short"
    """短期贷款: up to 1 year."""
    MEDIUM = "medium"
    """中期贷款: over 1 year, up to 5 years."""
    LONG = "long"
    """长期贷款: over 5 years."""


@dataclass(frozen=True, slots=True)
class RestructuringObservation:
    """Observation period (观察期) of a restructured loan: it begins on ``start`` and is
    complete on ``end``; the loan cannot be upgraded before ``end``."""

    start: date
    end: date


def term_class(original_term_months: int) -> TermClass:
    """Short ≤ 12 months, medium 13–60, long > 60. Raises ``ValueError`` below 1 month."""
    if original_term_months < 1:
        raise ValueError("a loan term is at least one month")
    if original_term_months <= SHORT_TERM_MAX_MONTHS:
        return TermClass.SHORT
    if original_term_months <= MEDIUM_TERM_MAX_MONTHS:
        return TermClass.MEDIUM
    return TermClass.LONG


def max_cumulative_extension_months(original_term_months: int) -> int:
    """Longest total extension: the term (short), ⌊term / 2⌋ (medium), 36 months (long)."""
    match term_class(original_term_months):
        case TermClass.SHORT:
            return original_term_months
        case TermClass.MEDIUM:
            return original_term_months // 2
        case TermClass.LONG:
            return LONG_TERM_EXTENSION_CAP_MONTHS


def check_extension(
    original_term_months: int,
    already_extended_months: int,
    requested_months: int,
    maturity_date: date,
    request_date: date,
    secured: bool,
    guarantor_consent: bool,
) -> list[FieldIssue]:
    """Issues with an extension request; an empty list means art. 12 allows it.

    - The borrower applies before the maturity date (到期日之前): a request on or after it is
      refused and the loan is overdue from the day after maturity.
    - A secured loan (guarantee, mortgage or pledge) needs the guarantor's or
      mortgagor's/pledgor's written consent.
    - Previous and requested extensions together stay within
      ``max_cumulative_extension_months(original_term_months)``.
    Codes: ``extension.invalid_term``, ``extension.invalid_months``,
    ``extension.after_maturity``, ``extension.consent_required``, ``extension.limit_exceeded``.
    """
    issues: list[FieldIssue] = []
    if original_term_months < 1:
        issues.append(
            issue(
                "original_term_months",
                "extension.invalid_term",
                "原贷款期限须至少1个月",
                "The original loan term must be at least one month.",
            )
        )
    if requested_months < 1 or already_extended_months < 0:
        issues.append(
            issue(
                "requested_months",
                "extension.invalid_months",
                "展期期限须至少1个月，已展期月数不能为负",
                "An extension is at least one month; months already extended cannot be negative.",
            )
        )
    if request_date >= maturity_date:
        issues.append(
            issue(
                "request_date",
                "extension.after_maturity",
                "展期须在贷款到期日之前申请",
                "An extension must be requested before the maturity date.",
            )
        )
    if secured and not guarantor_consent:
        issues.append(
            issue(
                "guarantor_consent",
                "extension.consent_required",
                "保证人、抵押人或出质人须书面同意展期",
                "The guarantor, mortgagor or pledgor must agree to the extension in writing.",
            )
        )
    numbers_valid = original_term_months >= 1 and requested_months >= 1
    if not numbers_valid or already_extended_months < 0:
        return issues
    limit = max_cumulative_extension_months(original_term_months)
    if already_extended_months + requested_months > limit:
        remaining = max(0, limit - already_extended_months)
        issues.append(
            issue(
                "requested_months",
                "extension.limit_exceeded",
                f"累计展期不得超过{limit}个月，本次最多可展期{remaining}个月",
                f"Extensions may total at most {limit} months; at most {remaining} more "
                "can be granted.",
            )
        )
    return issues


def restructuring_observation(
    financial_difficulty: bool,
    first_repayment_date: date,
    repayment_interval_months: int,
) -> RestructuringObservation | None:
    """The observation period when an extension is a restructuring, else ``None``.

    Only an extension granted because of the borrower's financial difficulty is a
    restructuring. The period starts on the first repayment date under the new terms and
    ends after the longer of two repayment intervals and 12 months (end of month clamped:
    31 January + 1 month → 28/29 February). Raises ``ValueError`` for an interval below 1.
    """
    if repayment_interval_months < 1:
        raise ValueError("a repayment interval is at least one month")
    if not financial_difficulty:
        return None
    months = max(OBSERVATION_MIN_PERIODS * repayment_interval_months, OBSERVATION_MIN_MONTHS)
    return RestructuringObservation(
        start=first_repayment_date, end=_add_months(first_repayment_date, months)
    )


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - date(year, month, 1)).days
    return date(year, month, min(day.day, last_day))
