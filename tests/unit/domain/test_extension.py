"""Extension limits (General Rules on Loans art. 12) and restructuring observation periods."""

from __future__ import annotations

from datetime import date

import pytest

from domain.extension import (
    RestructuringObservation,
    TermClass,
    check_extension,
    max_cumulative_extension_months,
    restructuring_observation,
    term_class,
)

MATURITY = date(2025, 6, 30)
BEFORE = date(2025, 6, 29)


@pytest.mark.parametrize(
    ("months", "term", "limit"),
    [
        (1, TermClass.SHORT, 1),
        (12, TermClass.SHORT, 12),
        (13, TermClass.MEDIUM, 6),
        (24, TermClass.MEDIUM, 12),
        (25, TermClass.MEDIUM, 12),  # half of 25 rounded down
        (60, TermClass.MEDIUM, 30),
        (61, TermClass.LONG, 36),
        (360, TermClass.LONG, 36),
    ],
)
def test_term_class_and_extension_limit(months: int, term: TermClass, limit: int) -> None:
    assert term_class(months) is term
    assert max_cumulative_extension_months(months) == limit


def test_a_term_below_one_month_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        term_class(0)


def _codes(
    original: int,
    already: int,
    requested: int,
    request_date: date = BEFORE,
    secured: bool = False,
    consent: bool = False,
) -> list[str]:
    issues = check_extension(original, already, requested, MATURITY, request_date, secured, consent)
    return [i.code for i in issues]


@pytest.mark.parametrize(
    ("original", "already", "requested", "allowed"),
    [
        (12, 0, 12, True),
        (12, 0, 13, False),
        (12, 6, 6, True),
        (12, 6, 7, False),
        (6, 0, 6, True),
        (6, 0, 7, False),
        (13, 0, 6, True),
        (13, 0, 7, False),
        (25, 0, 12, True),
        (25, 0, 13, False),
        (60, 20, 10, True),
        (60, 20, 11, False),
        (61, 0, 36, True),
        (61, 0, 37, False),
        (120, 24, 12, True),
        (120, 24, 13, False),
        (120, 40, 1, False),  # already beyond the cap
    ],
)
def test_cumulative_extension_limit(
    original: int, already: int, requested: int, allowed: bool
) -> None:
    expected = [] if allowed else ["extension.limit_exceeded"]
    assert _codes(original, already, requested) == expected


def test_limit_message_says_how_much_is_left() -> None:
    (problem,) = check_extension(12, 6, 7, MATURITY, BEFORE, secured=False, guarantor_consent=False)
    assert "12" in problem.message_zh and "6" in problem.message_zh
    assert "at most 6 more" in problem.message_en


@pytest.mark.parametrize(
    ("request_date", "expected"),
    [
        (date(2025, 6, 29), []),
        (date(2025, 6, 30), ["extension.after_maturity"]),  # on the maturity date is too late
        (date(2025, 7, 1), ["extension.after_maturity"]),
    ],
)
def test_extension_must_be_requested_before_maturity(
    request_date: date, expected: list[str]
) -> None:
    assert _codes(12, 0, 3, request_date) == expected


@pytest.mark.parametrize(
    ("secured", "consent", "expected"),
    [
        (True, False, ["extension.consent_required"]),
        (True, True, []),
        (False, False, []),
    ],
)
def test_secured_loans_need_the_guarantors_consent(
    secured: bool, consent: bool, expected: list[str]
) -> None:
    assert _codes(12, 0, 3, secured=secured, consent=consent) == expected


def test_every_problem_is_reported_at_once() -> None:
    codes = _codes(12, 6, 7, date(2025, 7, 1), secured=True, consent=False)
    expected = ["extension.after_maturity", "extension.consent_required"]
    assert codes == [*expected, "extension.limit_exceeded"]


@pytest.mark.parametrize(
    ("original", "already", "requested", "code"),
    [
        (12, 0, 0, "extension.invalid_months"),
        (12, -1, 3, "extension.invalid_months"),
        (0, 0, 3, "extension.invalid_term"),
    ],
)
def test_nonsensical_numbers_are_refused(
    original: int, already: int, requested: int, code: str
) -> None:
    assert _codes(original, already, requested) == [code]


@pytest.mark.parametrize(
    ("interval", "end"),
    [
        (1, date(2026, 3, 15)),  # monthly: 12 months beat 2 periods
        (3, date(2026, 3, 15)),
        (6, date(2026, 3, 15)),
        (12, date(2027, 3, 15)),  # annual: 2 periods beat 12 months
    ],
)
def test_restructuring_observation_lasts_two_periods_and_a_year(interval: int, end: date) -> None:
    observation = restructuring_observation(True, date(2025, 3, 15), interval)
    assert observation == RestructuringObservation(start=date(2025, 3, 15), end=end)


def test_observation_end_is_clamped_to_month_end() -> None:
    observation = restructuring_observation(True, date(2024, 2, 29), 1)
    assert observation is not None
    assert observation.end == date(2025, 2, 28)


def test_an_extension_without_financial_difficulty_is_not_a_restructuring() -> None:
    assert restructuring_observation(False, date(2025, 3, 15), 1) is None


def test_repayment_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        restructuring_observation(True, date(2025, 3, 15), 0)
