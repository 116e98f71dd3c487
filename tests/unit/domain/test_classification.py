"""Five-category classification from days past due, judgement floors and the borrower rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.classification import (
    RiskCategory,
    apply_borrower_npl_rule,
    category_from_days_past_due,
    classify,
    days_past_due,
    is_non_performing,
)

NORMAL = RiskCategory.NORMAL
MENTION = RiskCategory.SPECIAL_MENTION
SUB = RiskCategory.SUBSTANDARD
DOUBT = RiskCategory.DOUBTFUL
LOSS = RiskCategory.LOSS
D = Decimal


@pytest.mark.parametrize(
    ("days", "category"),
    [
        (0, NORMAL),
        (1, MENTION),
        (90, MENTION),
        (91, SUB),
        (270, SUB),
        (271, DOUBT),
        (360, DOUBT),
        (361, LOSS),
        (5000, LOSS),
    ],
)
def test_days_past_due_set_the_minimum_category(days: int, category: RiskCategory) -> None:
    assert category_from_days_past_due(days) is category
    assert classify(days) is category


def test_negative_days_past_due_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        category_from_days_past_due(-1)


@pytest.mark.parametrize(
    ("days", "floor", "expected"),
    [
        (0, DOUBT, DOUBT),  # judgement makes a current loan doubtful
        (0, None, NORMAL),
        (100, MENTION, SUB),  # judgement cannot upgrade an overdue loan
        (400, NORMAL, LOSS),
        (30, SUB, SUB),
        (30, MENTION, MENTION),
    ],
)
def test_a_judgement_floor_can_only_worsen_the_category(
    days: int, floor: RiskCategory | None, expected: RiskCategory
) -> None:
    assert classify(days, floor) is expected


@pytest.mark.parametrize(
    ("category", "non_performing"),
    [(NORMAL, False), (MENTION, False), (SUB, True), (DOUBT, True), (LOSS, True)],
)
def test_non_performing_categories(category: RiskCategory, non_performing: bool) -> None:
    assert is_non_performing(category) is non_performing


def test_categories_are_ordered_and_named_in_chinese() -> None:
    assert [c.rank for c in (NORMAL, MENTION, SUB, DOUBT, LOSS)] == [1, 2, 3, 4, 5]
    assert [c.label_zh for c in RiskCategory] == ["正常", "关注", "次级", "可疑", "损失"]


@pytest.mark.parametrize(
    ("due", "as_of", "days"),
    [
        (None, date(2024, 5, 1), 0),
        (date(2024, 3, 31), date(2024, 3, 31), 0),  # due today is not overdue yet
        (date(2024, 3, 31), date(2024, 4, 1), 1),
        (date(2024, 3, 31), date(2024, 3, 1), 0),
        (date(2024, 12, 31), date(2025, 3, 31), 90),
        (date(2024, 2, 28), date(2024, 3, 1), 2),  # across 29 February
    ],
)
def test_days_past_due_count_from_the_day_after_the_due_date(
    due: date | None, as_of: date, days: int
) -> None:
    assert days_past_due(due, as_of) == days


def test_exactly_ten_percent_non_performing_does_not_spread() -> None:
    exposures = [(D("900.00"), NORMAL), (D("100.00"), SUB)]
    assert apply_borrower_npl_rule(exposures) == [NORMAL, SUB]


def test_over_ten_percent_non_performing_makes_all_debt_non_performing() -> None:
    exposures = [(D("899.99"), NORMAL), (D("100.01"), DOUBT), (D("500.00"), MENTION)]
    # 100.01 / 1500.00 = 6.7 %: still below the threshold.
    assert apply_borrower_npl_rule(exposures) == [NORMAL, DOUBT, MENTION]
    exposures = [(D("899.99"), NORMAL), (D("100.01"), DOUBT)]
    assert apply_borrower_npl_rule(exposures) == [SUB, DOUBT]


def test_the_rule_keeps_worse_categories_and_input_order() -> None:
    exposures = [(D("10"), LOSS), (D("50"), NORMAL), (D("20"), DOUBT), (D("20"), MENTION)]
    assert apply_borrower_npl_rule(exposures) == [LOSS, SUB, DOUBT, SUB]


def test_retail_borrowers_are_not_subject_to_the_rule() -> None:
    exposures = [(D("10"), NORMAL), (D("90"), LOSS)]
    assert apply_borrower_npl_rule(exposures, retail=True) == [NORMAL, LOSS]


@pytest.mark.parametrize(
    "exposures",
    [[], [(D("0"), NORMAL), (D("0"), SUB)]],
)
def test_no_debt_means_nothing_changes(exposures: list[tuple[Decimal, RiskCategory]]) -> None:
    assert apply_borrower_npl_rule(exposures) == [c for _, c in exposures]


def test_negative_balances_are_refused() -> None:
    with pytest.raises(ValueError):
        apply_borrower_npl_rule([(D("-1"), NORMAL)])
