"""Automatic credit decisions: every knock-out, the small clean approval, every referral
reason, risk-based pricing by grade and approval authority."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.credit_decision import (
    DEFAULT_AUTHORITY_LIMITS,
    ApprovalAuthority,
    AuthorityLimits,
    Decision,
    DecisionInput,
    approval_authority_required,
    decide,
    risk_based_rate,
)
from domain.products import (
    CreditGrade,
    FinancingType,
    LprQuote,
    LprTenor,
    Pricing,
    ProductFamily,
    ProductTerms,
)
from domain.schedule import RepaymentMethod
from domain.scorecard import ScoreResult

D = Decimal
LPR = LprQuote(one_year=D("0.0300"), five_year=D("0.0350"), effective_date=date(2026, 10, 20))
PRODUCT = ProductTerms(
    family=ProductFamily.CREDIT,
    financing_type=FinancingType.CREDIT,
    amount_min=D("50000"),
    amount_max=D("3000000"),
    term_min_months=6,
    term_max_months=36,
    pricing=Pricing.lpr(LprTenor.ONE_YEAR, 50, 450),  # 3.5 % … 7.5 %
    repayment_methods=frozenset({RepaymentMethod.EQUAL_INSTALLMENT}),
    min_credit_grade=CreditGrade.C,
    auto_approval_limit=D("500000"),
    active_from=date(2026, 1, 1),
)


def _score(grade: CreditGrade) -> ScoreResult:
    return ScoreResult(score=650, pd=D("0.0050"), grade=grade, reason_codes=())


CLEAN = DecisionInput(
    amount=D("300000"),
    term_months=12,
    product=PRODUCT,
    score=_score(CreditGrade.A),
    registry_status="ACTIVE",
    bureau_current_overdue=False,
    sanctions_hit=False,
    requested_rate=None,
)


@pytest.mark.parametrize(
    ("grade", "rate"),
    [
        (CreditGrade.A, "0.0350"),
        (CreditGrade.B, "0.0450"),
        (CreditGrade.C, "0.0550"),
        (CreditGrade.D, "0.0650"),
        (CreditGrade.E, "0.0750"),
    ],
)
def test_risk_based_rate_interpolates_by_grade(grade: CreditGrade, rate: str) -> None:
    assert risk_based_rate(PRODUCT, grade, LPR) == D(rate)


def test_risk_based_rate_fixed_range_rounds_to_bp_inside_range() -> None:
    fixed = replace(PRODUCT, pricing=Pricing.fixed(D("0.0400"), D("0.0401")))
    assert risk_based_rate(fixed, CreditGrade.B, LPR) == D("0.0400")  # 0.040025 → 4.00 %
    assert risk_based_rate(fixed, CreditGrade.C, LPR) == D("0.0401")  # 0.04005 → half-up
    assert risk_based_rate(fixed, CreditGrade.E, LPR) == D("0.0401")


@pytest.mark.parametrize("grade", [CreditGrade.A, CreditGrade.B])
def test_small_clean_case_is_approved(grade: CreditGrade) -> None:
    out = decide(replace(CLEAN, score=_score(grade)), LPR)
    assert out.decision is Decision.AUTO_APPROVE
    assert out.reasons == ("auto.small_clean_case",)
    assert out.proposed_amount == D("300000")
    assert out.proposed_term_months == 12
    assert out.proposed_rate == risk_based_rate(PRODUCT, grade, LPR)


def test_amount_at_the_auto_limit_is_approved() -> None:
    assert decide(replace(CLEAN, amount=D("500000")), LPR).decision is Decision.AUTO_APPROVE


def test_requested_rate_at_or_above_the_price_is_approved_at_the_price() -> None:
    out = decide(replace(CLEAN, requested_rate=D("0.06")), LPR)
    assert out.decision is Decision.AUTO_APPROVE and out.proposed_rate == D("0.0350")


@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        ({"registry_status": "REVOKED"}, ("licence.revoked",)),
        ({"registry_status": "CANCELLED"}, ("licence.cancelled",)),
        ({"bureau_current_overdue": True}, ("bureau.current_overdue",)),
        ({"sanctions_hit": True}, ("sanctions.hit",)),
        ({"score": _score(CreditGrade.D)}, ("grade.below_product_minimum",)),
        (
            {
                "registry_status": "REVOKED",
                "bureau_current_overdue": True,
                "sanctions_hit": True,
                "score": _score(CreditGrade.E),
            },
            (
                "licence.revoked",
                "bureau.current_overdue",
                "sanctions.hit",
                "grade.below_product_minimum",
            ),
        ),
        # a knock-out wins over anything that would only be referred
        ({"sanctions_hit": True, "amount": D("2000000")}, ("sanctions.hit",)),
    ],
)
def test_knock_outs_decline(change: dict[str, Any], reasons: tuple[str, ...]) -> None:
    out = decide(replace(CLEAN, **change), LPR)
    assert out.decision is Decision.AUTO_DECLINE
    assert out.reasons == reasons
    assert out.proposed_amount is None and out.proposed_rate is None
    assert out.proposed_term_months is None


def test_no_product_minimum_means_no_grade_knock_out() -> None:
    product = replace(PRODUCT, min_credit_grade=None)
    out = decide(replace(CLEAN, product=product, score=_score(CreditGrade.E)), LPR)
    assert out.decision is Decision.REFER and out.reasons == ("grade.needs_review",)


@pytest.mark.parametrize(
    ("change", "reasons", "amount", "term"),
    [
        ({"amount": D("800000")}, ("amount.above_auto_limit",), "800000", 12),
        ({"score": _score(CreditGrade.C)}, ("grade.needs_review",), "300000", 12),
        (
            {"amount": D("4000000")},
            ("amount.above_auto_limit", "amount.above_product_maximum"),
            "3000000",
            12,
        ),
        ({"amount": D("10000")}, ("amount.below_product_minimum",), "10000", 12),
        ({"term_months": 48}, ("term.outside_product",), "300000", 36),
        ({"term_months": 3}, ("term.outside_product",), "300000", 6),
        ({"requested_rate": D("0.0300")}, ("rate.below_risk_based_price",), "300000", 12),
        ({"annual_revenue": D("500000")}, ("amount.above_revenue_cap",), "150000", 12),
        (
            {"amount": D("900000"), "score": _score(CreditGrade.C), "term_months": 60},
            ("amount.above_auto_limit", "grade.needs_review", "term.outside_product"),
            "900000",
            36,
        ),
    ],
)
def test_everything_else_is_referred(
    change: dict[str, Any], reasons: tuple[str, ...], amount: str, term: int
) -> None:
    inp = replace(CLEAN, **change)
    out = decide(inp, LPR)
    assert out.decision is Decision.REFER
    assert out.reasons == reasons
    assert out.proposed_amount == D(amount)
    assert out.proposed_term_months == term
    assert out.proposed_rate == risk_based_rate(PRODUCT, inp.score.grade, LPR)


def test_revenue_cap_that_does_not_bind_still_approves() -> None:
    out = decide(replace(CLEAN, annual_revenue=D("1000000")), LPR)  # cap 300,000 = request
    assert out.decision is Decision.AUTO_APPROVE


def test_zero_auto_limit_refers_everything() -> None:
    product = replace(PRODUCT, auto_approval_limit=D(0))
    out = decide(replace(CLEAN, product=product, amount=D("50000")), LPR)
    assert out.decision is Decision.REFER and out.reasons == ("amount.above_auto_limit",)


@pytest.mark.parametrize(
    "change",
    [
        {"amount": D(0)},
        {"amount": D("1.001")},
        {"term_months": 0},
        {"registry_status": "active"},
        {"annual_revenue": D(-1)},
    ],
)
def test_malformed_input_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(CLEAN, **change)


@pytest.mark.parametrize(
    ("amount", "authority"),
    [
        ("0.01", ApprovalAuthority.OFFICER),
        ("1000000", ApprovalAuthority.OFFICER),
        ("1000000.01", ApprovalAuthority.SUPERVISOR),
        ("5000000", ApprovalAuthority.SUPERVISOR),
        ("5000000.01", ApprovalAuthority.FOUR_EYES),
    ],
)
def test_approval_authority_defaults(amount: str, authority: ApprovalAuthority) -> None:
    assert approval_authority_required(D(amount)) is authority
    assert DEFAULT_AUTHORITY_LIMITS.required(D(amount)) == authority.value


def test_approval_authority_is_configurable() -> None:
    limits = AuthorityLimits(officer_max=D(200_000), supervisor_max=D(200_000))
    assert approval_authority_required(D(200_000), limits) == "officer"
    assert approval_authority_required(D(200_001), limits) == "four_eyes"
    with pytest.raises(ValueError):
        AuthorityLimits(officer_max=D(2), supervisor_max=D(1))
