"""Rule-based scorecard: the 600-at-50:1/PDO-20 scaling, PD bands, monotonicity in every
documented direction and reason codes naming what hurt."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.products import CreditGrade
from domain.scorecard import (
    MAX_SCORE,
    MIN_SCORE,
    MODEL_VERSION,
    ScoringInput,
    factor_points,
    grade_from_pd,
    pd_from_score,
    score,
    score_from_odds,
)

D = Decimal

GOOD = ScoringInput(
    enterprise_age_months=72,
    annual_revenue=D("10000000"),
    revenue_growth=D("0.10"),
    profit_margin=D("0.08"),
    tax_grade="A",
    bureau_score=720,
    overdue_count_24m=0,
    current_overdue=False,
    outstanding_debt=D("1000000"),
    requested_amount=D("500000"),
    industry="C",
)
BEST = replace(
    GOOD,
    enterprise_age_months=240,
    annual_revenue=D("200000000"),
    revenue_growth=D("0.5"),
    profit_margin=D("0.3"),
    bureau_score=900,
    outstanding_debt=D(0),
)


def test_scaling_anchor_600_is_odds_50() -> None:
    assert pd_from_score(600) == D("0.0196")  # 1/51
    assert pd_from_score(620) == D("0.0099")  # odds 100
    assert pd_from_score(580) == D("0.0385")  # odds 25
    assert score_from_odds(D(50)).quantize(D("0.000001")) == D(600)
    assert score_from_odds(D(100)).quantize(D("0.000001")) == D(620)


@pytest.mark.parametrize(
    ("pd", "grade"),
    [
        ("0.0001", CreditGrade.A),
        ("0.0100", CreditGrade.A),
        ("0.0101", CreditGrade.B),
        ("0.0250", CreditGrade.B),
        ("0.0251", CreditGrade.C),
        ("0.0500", CreditGrade.C),
        ("0.0501", CreditGrade.D),
        ("0.1000", CreditGrade.D),
        ("0.1001", CreditGrade.E),
        ("0.9000", CreditGrade.E),
    ],
)
def test_grade_bands(pd: str, grade: CreditGrade) -> None:
    assert grade_from_pd(D(pd)) is grade


def test_good_enterprise() -> None:
    result = score(GOOD)
    assert result.grade is CreditGrade.A
    assert result.model_version == MODEL_VERSION == "rules-2026.11"
    assert result.pd == pd_from_score(result.score)
    assert result.pd == result.pd.quantize(D("0.0001"))
    assert 0 < result.pd < 1


def test_best_and_worst_span_the_range() -> None:
    assert score(BEST).score == MAX_SCORE and score(BEST).reason_codes == ()
    worst = ScoringInput(
        enterprise_age_months=0,
        annual_revenue=D(0),
        revenue_growth=D("-0.5"),
        profit_margin=D("-0.1"),
        tax_grade="D",
        bureau_score=300,
        overdue_count_24m=9,
        current_overdue=True,
        outstanding_debt=D(100),
        requested_amount=D(100),
        industry="L",
    )
    result = score(worst)
    assert result.score == MIN_SCORE and result.grade is CreditGrade.E
    assert len(result.reason_codes) == 4
    assert result.reason_codes[0] == "bureau.score_low"  # the largest loss (45)


def test_reason_codes_are_ordered_by_points_lost() -> None:
    hurt = replace(GOOD, overdue_count_24m=3, tax_grade="C")
    parts = {p.factor: p for p in factor_points(hurt)}
    assert parts["tax.grade"].shortfall == 27
    assert parts["bureau.overdue_history"].shortfall == 26
    assert score(hurt).reason_codes[:2] == ("tax.grade_low", "bureau.overdue_history")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"tax_grade": None}, "tax.grade_unknown"),
        ({"tax_grade": "M"}, "tax.new_taxpayer"),
        ({"bureau_score": None}, "bureau.no_record"),
        ({"current_overdue": True}, "bureau.current_overdue"),
        ({"requested_amount": D("25000000")}, "revenue.request_high"),
        ({"outstanding_debt": D("200000000")}, "debt.leverage_high"),
        ({"industry": "K"}, "industry.elevated_risk"),
        ({"enterprise_age_months": 6}, "enterprise.age_short"),
        ({"revenue_growth": D("-0.3")}, "revenue.growth_weak"),
        ({"profit_margin": D("-0.01")}, "profit.margin_low"),
    ],
)
def test_each_factor_reports_its_code(change: dict[str, Any], code: str) -> None:
    hurt = score(replace(BEST, **change))
    assert hurt.reason_codes == (code,)
    assert hurt.score < score(BEST).score


def test_deterministic() -> None:
    assert score(GOOD) == score(replace(GOOD))


@pytest.mark.parametrize(
    "change",
    [
        {"tax_grade": "X"},
        {"bureau_score": 299},
        {"bureau_score": 901},
        {"enterprise_age_months": -1},
        {"overdue_count_24m": -1},
        {"annual_revenue": D(-1)},
        {"requested_amount": 1.5},
        {"revenue_growth": D("NaN")},
    ],
)
def test_input_out_of_range_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(GOOD, **change)


# --- monotonicity ---------------------------------------------------------------------------

_money = st.integers(0, 500_000_000).map(D)
_ratio = st.none() | st.integers(-100, 100).map(lambda n: D(n) / 100)
_TAX_ORDER = ["D", "C", "B", "A"]


@st.composite
def _inputs(draw: st.DrawFn) -> ScoringInput:
    return ScoringInput(
        enterprise_age_months=draw(st.integers(0, 300)),
        annual_revenue=draw(_money),
        revenue_growth=draw(_ratio),
        profit_margin=draw(_ratio),
        tax_grade=draw(st.sampled_from([None, "A", "B", "C", "D", "M"])),
        bureau_score=draw(st.none() | st.integers(300, 900)),
        overdue_count_24m=draw(st.integers(0, 10)),
        current_overdue=draw(st.booleans()),
        outstanding_debt=draw(_money),
        requested_amount=draw(st.integers(1, 50_000_000).map(D)),
        industry=draw(st.sampled_from("ABCEFIKLM")),
    )


def _not_worse(better: ScoringInput, worse: ScoringInput) -> None:
    b, w = score(better), score(worse)
    assert b.score >= w.score
    assert b.pd <= w.pd
    assert b.grade.rank <= w.grade.rank


@settings(max_examples=200, deadline=None)
@given(_inputs(), st.sampled_from(_TAX_ORDER), st.sampled_from(_TAX_ORDER))
def test_better_tax_grade_never_worse(inp: ScoringInput, a: str, b: str) -> None:
    low, high = sorted((a, b), key=_TAX_ORDER.index)
    _not_worse(replace(inp, tax_grade=high), replace(inp, tax_grade=low))


@settings(max_examples=200, deadline=None)
@given(_inputs(), st.integers(300, 900), st.integers(300, 900))
def test_higher_bureau_score_never_worse(inp: ScoringInput, a: int, b: int) -> None:
    _not_worse(replace(inp, bureau_score=max(a, b)), replace(inp, bureau_score=min(a, b)))


@settings(max_examples=200, deadline=None)
@given(_inputs(), _money)
def test_more_revenue_never_worse(inp: ScoringInput, extra: Decimal) -> None:
    _not_worse(replace(inp, annual_revenue=inp.annual_revenue + extra), inp)


@settings(max_examples=200, deadline=None)
@given(_inputs(), st.integers(0, 50_000_000).map(D))
def test_smaller_request_never_worse(inp: ScoringInput, cut: Decimal) -> None:
    smaller = max(D(1), inp.requested_amount - cut)
    _not_worse(replace(inp, requested_amount=smaller), inp)


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_no_overdue_never_worse(inp: ScoringInput) -> None:
    _not_worse(replace(inp, current_overdue=False), replace(inp, current_overdue=True))
    _not_worse(replace(inp, overdue_count_24m=0), inp)


@settings(max_examples=200, deadline=None)
@given(_inputs(), st.integers(0, 5))
def test_fewer_past_overdues_never_worse(inp: ScoringInput, more: int) -> None:
    _not_worse(inp, replace(inp, overdue_count_24m=inp.overdue_count_24m + more))


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_result_is_well_formed(inp: ScoringInput) -> None:
    result = score(inp)
    assert MIN_SCORE <= result.score <= MAX_SCORE
    assert D(0) < result.pd < D(1)
    assert result.grade is grade_from_pd(result.pd)
    assert len(result.reason_codes) <= 4
    assert len(set(result.reason_codes)) == len(result.reason_codes)
    lost = sorted((p for p in factor_points(inp) if p.shortfall), key=lambda p: -p.shortfall)
    assert [p.reason_code for p in lost[:4]] == list(result.reason_codes)
